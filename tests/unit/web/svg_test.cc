#include "web/svg.h"

#include <gtest/gtest.h>

#include "tests/unit/web/snapshot_fixture.h"

namespace lookout {
namespace {

using test::kWebDay;

size_t occurrences(const std::string& text, const std::string& part) {
  size_t n = 0;
  for (size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
  return n;
}

TEST(Svg, XmlEscapeCoversMarkupQuotesAndControlCharacters) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"plain text", "plain text"},
      {"<script>", "&lt;script&gt;"},
      {"a & b", "a &amp; b"},
      {"&amp;", "&amp;amp;"},
      {"say \"hi\"", "say &quot;hi&quot;"},
      {"it's", "it&#39;s"},
      {"line\nnext\ttab", "line\nnext\ttab"},
      {std::string("nul\0bell\a esc\x1b", 14), "nulbell esc"},
      {"caf\xc3\xa9 \xe2\x9c\x93", "caf\xc3\xa9 \xe2\x9c\x93"},
  };
  for (const auto& [in, out] : cases) EXPECT_EQ(xml_escape(in), out) << in;
}

TEST(Svg, UptimeColourThresholds) {
  const std::vector<std::pair<std::optional<double>, std::string>> cases = {
      {std::nullopt, "#8c959f"}, {100.0, "#1a7f37"}, {99.9, "#1a7f37"},
      {99.89, "#4ac26b"},        {99.0, "#4ac26b"},  {98.99, "#bf8700"},
      {95.0, "#bf8700"},         {94.99, "#cf222e"}, {0.0, "#cf222e"},
  };
  for (const auto& [uptime, colour] : cases) {
    EXPECT_EQ(uptime_colour(uptime), colour) << (uptime ? std::to_string(*uptime) : "none");
  }
}

TEST(Svg, DayClassesByUptime) {
  const std::vector<std::pair<DaySummary, std::string>> cases = {
      {DaySummary{0, 0, -1}, "none"},          {DaySummary{0, 100, -1}, "none"},
      {DaySummary{10, 100, -1}, "up"},         {DaySummary{10, 99.9F, -1}, "up"},
      {DaySummary{10, 99.89F, -1}, "minor"},   {DaySummary{10, 99.0F, -1}, "minor"},
      {DaySummary{10, 98.9F, -1}, "degraded"}, {DaySummary{10, 95.0F, -1}, "degraded"},
      {DaySummary{10, 94.9F, -1}, "down"},     {DaySummary{10, 0, -1}, "down"},
  };
  for (const auto& [day, cls] : cases) {
    EXPECT_EQ(day_class(day), cls) << day.count << " runs, " << day.uptime << "%";
  }
}

TEST(Svg, UptimeBarsOnePathPerClassOfRuns) {
  const DaySummary none{0, 0, -1}, up{1440, 99.95F, 120.4F}, down{720, 90.0F, -1},
      minor{1440, 99.5F, -1};
  // none, up, up, down, up, none, none, minor, up
  const std::vector<DaySummary> days = {none, up, up, down, up, none, none, minor, up};
  const std::string svg = uptime_bars_svg(days);
  EXPECT_EQ(svg.rfind("<svg class=\"bars\" viewBox=\"0 0 9 1\" preserveAspectRatio=\"none\"", 0),
            0u);
  EXPECT_TRUE(svg.ends_with("</svg>"));
  EXPECT_EQ(occurrences(svg, "<path "), 4u) << "one per class present, none for degraded";
  // Runs: the first moves to its day, the next ones from the end of the one before.
  EXPECT_NE(svg.find("<path class=\"up\" d=\"M1 .5h2m1 0h1m3 0h1\"/>"), std::string::npos) << svg;
  EXPECT_NE(svg.find("<path class=\"down\" d=\"M3 .5h1\"/>"), std::string::npos) << svg;
  EXPECT_NE(svg.find("<path class=\"minor\" d=\"M7 .5h1\"/>"), std::string::npos) << svg;
  EXPECT_NE(svg.find("<path class=\"none\" d=\"M0 .5h1m4 0h2\"/>"), std::string::npos) << svg;
  EXPECT_EQ(svg.find("degraded"), std::string::npos);
  EXPECT_EQ(svg.find("fill="), std::string::npos) << "colours come from the stylesheet";
}

TEST(Svg, NinetyDaysOfOneClassAreOneRun) {
  const std::vector<DaySummary> days(90, DaySummary{1440, 100, 50});
  EXPECT_EQ(uptime_bars_svg(days),
            "<svg class=\"bars\" viewBox=\"0 0 90 1\" preserveAspectRatio=\"none\" "
            "aria-hidden=\"true\"><path class=\"up\" d=\"M0 .5h90\"/></svg>");
}

TEST(Svg, LatencyChartAxesLinesAndFailures) {
  const int64_t t0 = to_unix_ms(kWebDay);
  const std::vector<ChartPoint> points = {
      {t0, 100.0, 200.0, 420.0, 10, 0},
      {t0 + 3'600'000, std::nullopt, std::nullopt, std::nullopt, 10, 10},
      {t0 + 7'200'000, 110.0, 250.0, 300.0, 10, 2},
  };
  const std::string svg = latency_chart_svg(points, "24 hours");
  EXPECT_NE(svg.find("aria-label=\"24 hours: latency p50, p95 and p99 in milliseconds, and "
                     "failures\""),
            std::string::npos);
  // The axis goes up to the next round value above the highest p99, 420 ms.
  for (const char* label : {">0.0 ms<", ">125 ms<", ">250 ms<", ">375 ms<", ">500 ms<"}) {
    EXPECT_NE(svg.find(label), std::string::npos) << label;
  }
  EXPECT_EQ(svg.find(">625 ms<"), std::string::npos);
  EXPECT_NE(svg.find(">11-01 00:00Z<"), std::string::npos);
  EXPECT_NE(svg.find(">11-01 02:00Z<"), std::string::npos);
  // A line per percentile, skipping the hour without latencies; bars only where runs failed.
  for (const char* cls : {"<path class=\"p50\"", "<path class=\"p95\"", "<path class=\"p99\""}) {
    EXPECT_EQ(occurrences(svg, cls), 1u) << cls;
  }
  EXPECT_EQ(occurrences(svg, " L"), 3u) << "two points a line, one segment each";
  EXPECT_EQ(occurrences(svg, "<rect class=\"fail\""), 2u);
  EXPECT_NE(svg.find("<title>10 failures of 10 runs</title>"), std::string::npos);
  EXPECT_NE(svg.find("<title>2 failures of 10 runs</title>"), std::string::npos);
}

TEST(Svg, LatencyChartWithoutFailuresHasNoBarsAndEscapesItsLabel) {
  const std::vector<ChartPoint> points = {{to_unix_ms(kWebDay), 5.0, 6.0, 7.0, 3, 0}};
  const std::string svg = latency_chart_svg(points, "<7 days & \"more\">");
  EXPECT_EQ(svg.find("<rect class=\"fail\""), std::string::npos);
  EXPECT_EQ(svg.find("<7 days"), std::string::npos);
  EXPECT_NE(svg.find("aria-label=\"&lt;7 days &amp; &quot;more&quot;&gt;: latency"),
            std::string::npos);
  EXPECT_NE(svg.find(">10 ms<"), std::string::npos) << "7 ms rounds up to a 10 ms axis";
}

TEST(Svg, BadgeEscapesAndSizesToItsText) {
  const std::string svg = badge_svg("uptime 30d", "99.95%", "#1a7f37");
  // 6 px a character of the label and 7 of the value, 12 px of padding each.
  EXPECT_NE(svg.find("width=\"126\" height=\"20\""), std::string::npos);
  EXPECT_NE(svg.find("<title>uptime 30d: 99.95%</title>"), std::string::npos);
  EXPECT_NE(svg.find("fill=\"#1a7f37\""), std::string::npos);
  const std::string hostile = badge_svg("<x>", "\"a\" & b", "#555");
  EXPECT_EQ(hostile.find("<x>"), std::string::npos);
  EXPECT_NE(hostile.find("aria-label=\"&lt;x&gt;: &quot;a&quot; &amp; b\""), std::string::npos);
}

}  // namespace
}  // namespace lookout
