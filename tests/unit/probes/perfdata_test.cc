// Plugin output as real plugins print it (check_disk, check_load, check_http, check_ping,
// check_procs from monitoring-plugins 2.3), the multi-line form, base units, and garbage
// that must cost only the bad item.
#include "probes/perfdata.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "probes/plugin_verdict.h"

namespace lookout {
namespace {

std::optional<double> value_of(const std::vector<PerfdataItem>& items, const std::string& label) {
  for (const auto& i : items) {
    if (i.label == label) return i.value;
  }
  return std::nullopt;
}

struct RealOutput {
  const char* plugin;
  const char* output;
  const char* status_line;
  std::vector<std::pair<std::string, double>> values;  // label and value in base units
};

TEST(Perfdata, ReadsWhatRealPluginsPrint) {
  const RealOutput cases[] = {
      {"check_disk (bytes)",
       "DISK OK - free space: / 78769MiB (80% inode=97%);| "
       "/=20149436416B;216442024755;243497277849;0;270552530944\n",
       "DISK OK - free space: / 78769MiB (80% inode=97%);",
       {{"/", 20149436416.0}}},
      {"check_disk (MB)",
       "DISK WARNING - free space: / 3326 MB (56% inode=99%);| /=2643MB;5948;5958;0;5968\n",
       "DISK WARNING - free space: / 3326 MB (56% inode=99%);",
       {{"/", 2643.0 * 1024 * 1024}}},
      {"check_load",
       "LOAD CRITICAL - total load average: 9.76, 10.97, 8.11|load1=9.760;5.000;10.000;0; "
       "load5=10.970;4.000;8.000;0; load15=8.110;3.000;6.000;0; \n",
       "LOAD CRITICAL - total load average: 9.76, 10.97, 8.11",
       {{"load1", 9.76}, {"load5", 10.97}, {"load15", 8.11}}},
      {"check_http",
       "HTTP OK: HTTP/1.1 200 OK - 612 bytes in 0.001 second response time "
       "|time=0.000529s;;;0.000000;10.000000 size=612B;;;0\n",
       "HTTP OK: HTTP/1.1 200 OK - 612 bytes in 0.001 second response time",
       {{"time", 0.000529}, {"size", 612}}},
      {"check_ping",
       "PING OK - Packet loss = 0%, RTA = 0.06 ms|rta=0.056000ms;100.000000;200.000000;0.000000 "
       "pl=0%;20;50;0\n",
       "PING OK - Packet loss = 0%, RTA = 0.06 ms",
       {{"rta", 0.000056}, {"pl", 0}}},
      {"check_procs",
       "PROCS OK: 147 processes | procs=147;500;1000;0;\n",
       "PROCS OK: 147 processes",
       {{"procs", 147}}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.plugin);
    const PluginOutput out = split_plugin_output(c.output);
    EXPECT_EQ(out.status_line, c.status_line);
    const auto items = parse_perfdata(out.perfdata);
    ASSERT_EQ(items.size(), c.values.size());
    for (size_t i = 0; i < items.size(); ++i) {
      EXPECT_EQ(items[i].label, c.values[i].first);
      ASSERT_TRUE(items[i].value);
      EXPECT_NEAR(*items[i].value, c.values[i].second, 1e-9 * std::max(1.0, c.values[i].second));
    }
  }
}

TEST(Perfdata, KeepsThresholdsAsWrittenAndBoundsInBaseUnits) {
  const auto items = parse_perfdata("rta=0.5ms;100.000000;@200:300;0.000000;1000");
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].uom, "ms");
  EXPECT_DOUBLE_EQ(*items[0].value, 0.0005);
  EXPECT_EQ(items[0].warn, "100.000000");
  EXPECT_EQ(items[0].crit, "@200:300");
  EXPECT_DOUBLE_EQ(*items[0].min, 0);
  EXPECT_DOUBLE_EQ(*items[0].max, 1.0);
}

TEST(Perfdata, ConvertsEveryUnitToBaseUnits) {
  const auto items = parse_perfdata(
      "a=2s b=250ms c=40us d=10B e=2KB f=3MB g=1GB h=1TB i=55% j=12345c k=7 l=3Mbps");
  EXPECT_DOUBLE_EQ(*value_of(items, "a"), 2);
  EXPECT_DOUBLE_EQ(*value_of(items, "b"), 0.25);
  EXPECT_DOUBLE_EQ(*value_of(items, "c"), 0.00004);
  EXPECT_DOUBLE_EQ(*value_of(items, "d"), 10);
  EXPECT_DOUBLE_EQ(*value_of(items, "e"), 2048);
  EXPECT_DOUBLE_EQ(*value_of(items, "f"), 3.0 * 1024 * 1024);
  EXPECT_DOUBLE_EQ(*value_of(items, "g"), 1024.0 * 1024 * 1024);
  EXPECT_DOUBLE_EQ(*value_of(items, "h"), 1024.0 * 1024 * 1024 * 1024);
  EXPECT_DOUBLE_EQ(*value_of(items, "i"), 55);     // percent stays a percentage
  EXPECT_DOUBLE_EQ(*value_of(items, "j"), 12345);  // a counter as counted
  EXPECT_DOUBLE_EQ(*value_of(items, "k"), 7);
  EXPECT_DOUBLE_EQ(*value_of(items, "l"), 3);  // a unit not known here: as written
  EXPECT_EQ(items.back().uom, "Mbps");
}

TEST(Perfdata, QuotedLabelsKeepSpacesAndDoubledQuotes) {
  const auto items =
      parse_perfdata("'C:\\ Label: Volume'=42%;80;90 'it''s'=1 'a=b'=2 ''=3 'open=4");
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(items[0].label, "C:\\ Label: Volume");
  EXPECT_EQ(items[1].label, "it's");
  EXPECT_EQ(items[2].label, "a=b");
}

TEST(Perfdata, EmptyFieldsAndUnknownValues) {
  const auto items = parse_perfdata("time=0.1s;;;; users=U;5;10 x=1;;;");
  ASSERT_EQ(items.size(), 3u);
  EXPECT_DOUBLE_EQ(*items[0].value, 0.1);
  EXPECT_EQ(items[0].warn, "");
  EXPECT_FALSE(items[0].min);
  EXPECT_FALSE(items[1].value);  // U: measured nothing
  EXPECT_EQ(items[1].warn, "5");
  EXPECT_DOUBLE_EQ(*items[2].value, 1);
}

TEST(Perfdata, GarbageCostsOnlyTheBadItem) {
  const auto items = parse_perfdata(
      "good=1 novalue= =5 noequals bad=abc load=1,5 inf=inf nan=nan hex=0x10 "
      "ctrl\x01=1 \xff\xfe=2 digitunit=5ms5 also_good=-2.5e1 'x'y=6 last=3");
  std::vector<std::string> labels(items.size());
  for (size_t i = 0; i < items.size(); ++i) labels[i] = items[i].label;
  EXPECT_EQ(labels, (std::vector<std::string>{"good", "also_good", "last"}));
  EXPECT_DOUBLE_EQ(*items[1].value, -25);
}

TEST(Perfdata, AtMostMaxItemsAndLabelsOfBoundedLength) {
  std::string text;
  for (int i = 0; i < 150; ++i) text += fmt::format("m{}={} ", i, i);
  EXPECT_EQ(parse_perfdata(text).size(), kPerfdataMaxItems);
  EXPECT_TRUE(parse_perfdata(std::string(kPerfdataMaxLabel + 1, 'x').append("=1")).empty());
  EXPECT_EQ(parse_perfdata(std::string(kPerfdataMaxLabel, 'x').append("=1")).size(), 1u);
}

TEST(PluginOutput, MultiLineFormGathersPerfdataFromLaterLines) {
  const PluginOutput out = split_plugin_output(
      "DISK OK - free space: / 3326 MB (56%); | /=2643MB;5948;5958;0;5968\r\n"
      "/ 15272 MB (77%);\n"
      "/boot 68 MB (69%);\n"
      "/home 69357 MB (27%);\n"
      "/var/log 819 MB (84%); | /boot=68MB;88;93;0;98\n"
      "/home=69357MB;253404;253409;0;253414 \n"
      "/var/log=818MB;970;975;0;980\n");
  EXPECT_EQ(out.status_line, "DISK OK - free space: / 3326 MB (56%);");
  const auto items = parse_perfdata(out.perfdata);
  ASSERT_EQ(items.size(), 4u);
  EXPECT_EQ(items[0].label, "/");
  EXPECT_EQ(items[1].label, "/boot");
  EXPECT_EQ(items[2].label, "/home");
  EXPECT_EQ(items[3].label, "/var/log");
  EXPECT_DOUBLE_EQ(*items[3].value, 818.0 * 1024 * 1024);
}

TEST(PluginOutput, LongTextWithoutBarsIsNotPerfdata) {
  const PluginOutput out = split_plugin_output("OK\nline a=1\nline b=2\n");
  EXPECT_EQ(out.status_line, "OK");
  EXPECT_EQ(out.perfdata, "");
}

TEST(PluginOutput, StatusLineIsTrimmedCleanedAndCapped) {
  EXPECT_EQ(split_plugin_output("  \tOK: fine\x1b[0m  \n").status_line, "OK: fine [0m");
  EXPECT_EQ(split_plugin_output("bad \xff byte").status_line, "bad \xEF\xBF\xBD byte");
  EXPECT_EQ(split_plugin_output("").status_line, "");
  EXPECT_EQ(split_plugin_output("|a=1").status_line, "");
  const std::string long_line = std::string(kPluginLineMax - 1, 'x').append("é and more");
  const std::string line = split_plugin_output(long_line).status_line;
  // Cut before the two bytes of "é", never inside them.
  EXPECT_EQ(line, std::string(kPluginLineMax - 1, 'x').append("…"));
}

struct VerdictCase {
  int64_t status;
  int signal;
  std::string line;
  Outcome outcome;
  std::string cause;
};

TEST(PluginVerdict, ExitStatusAsNagiosReadsIt) {
  const VerdictCase cases[] = {
      {0, 0, "OK - fine", Outcome::kUp, ""},
      {1, 0, "LOAD WARNING - 5.1", Outcome::kDegraded, "LOAD WARNING - 5.1"},
      {1, 0, "", Outcome::kDegraded, "WARNING (exit 1) without output"},
      {2, 0, "DISK CRITICAL - / 2%", Outcome::kDown, "DISK CRITICAL - / 2%"},
      {2, 0, "", Outcome::kDown, "CRITICAL (exit 2) without output"},
      {3, 0, "check_disk: unknown option", Outcome::kDown, "UNKNOWN: check_disk: unknown option"},
      {3, 0, "", Outcome::kDown, "UNKNOWN: no output"},
      {7, 0, "odd", Outcome::kDown, "UNKNOWN (exit 7): odd"},
      {255, 0, "", Outcome::kDown, "UNKNOWN (exit 255): no output"},
      {0, 11, "", Outcome::kDown, "UNKNOWN: killed by SIGSEGV"},
      {0, 9, "half a line", Outcome::kDown, "UNKNOWN: killed by SIGKILL: half a line"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.cause);
    const PluginVerdict v = judge_plugin({c.status, c.signal, c.line});
    EXPECT_EQ(v.outcome, c.outcome);
    EXPECT_EQ(v.cause, c.cause);
    EXPECT_EQ(v.kind == ErrorKind::kNone, c.outcome == Outcome::kUp);
  }
  EXPECT_EQ(judge_plugin({1, 0, "w"}).kind, ErrorKind::kExpectation);
  EXPECT_EQ(judge_plugin({3, 0, "u"}).kind, ErrorKind::kJobFailed);
}

}  // namespace
}  // namespace lookout
