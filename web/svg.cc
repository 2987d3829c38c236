#include "web/svg.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <string_view>

#include "core/clock.h"

namespace lookout {

std::string xml_escape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        // Control characters are not allowed in XML 1.0 documents.
        if (static_cast<unsigned char>(c) >= 0x20 || c == '\n' || c == '\t') out += c;
    }
  }
  return out;
}

std::string uptime_colour(std::optional<double> uptime) {
  if (!uptime) return "#8c959f";
  if (*uptime >= 99.9) return "#1a7f37";
  if (*uptime >= 99.0) return "#4ac26b";
  if (*uptime >= 95.0) return "#bf8700";
  return "#cf222e";
}

const char* day_class(const DaySummary& day) {
  if (day.count == 0) return "none";
  if (day.uptime >= 99.9F) return "up";
  if (day.uptime >= 99.0F) return "minor";
  if (day.uptime >= 95.0F) return "degraded";
  return "down";
}

std::string uptime_bars_svg(const std::vector<DaySummary>& days) {
  // Day i spans x = i .. i + 1 of a viewBox one unit high, stretched to the box the stylesheet
  // gives (preserveAspectRatio="none"). A run of days of one class is one horizontal stroke,
  // one unit thick; the stylesheet's dash pattern (.8 on, .2 off) cuts it into days, and it
  // starts afresh at every run since each run is its own subpath.
  static constexpr std::array<const char*, 5> kClasses = {"up", "minor", "degraded", "down",
                                                          "none"};
  std::array<std::string, kClasses.size()> paths;
  std::array<size_t, kClasses.size()> pen{};  // where the last run of each class ended
  for (size_t i = 0; i < days.size();) {
    const char* cls = day_class(days[i]);
    size_t end = i + 1;
    while (end < days.size() && std::string_view(day_class(days[end])) == cls) ++end;
    const size_t k = static_cast<size_t>(
        std::find(kClasses.begin(), kClasses.end(), std::string_view(cls)) - kClasses.begin());
    std::string& d = paths[k];
    // The first run moves absolutely to its start, the next ones relatively from the last's end.
    d += d.empty() ? fmt::format("M{} .5h{}", i, end - i)
                   : fmt::format("m{} 0h{}", i - pen[k], end - i);
    pen[k] = end;
    i = end;
  }
  std::string out = fmt::format(
      "<svg class=\"bars\" viewBox=\"0 0 {} 1\" preserveAspectRatio=\"none\" "
      "aria-hidden=\"true\">",
      days.size());
  for (size_t k = 0; k < kClasses.size(); ++k) {
    if (!paths[k].empty())
      out += fmt::format("<path class=\"{}\" d=\"{}\"/>", kClasses[k], paths[k]);
  }
  return out + "</svg>";
}

namespace {

double nice_ceiling(double v) {
  if (v <= 0) return 1;
  const double p = std::pow(10.0, std::floor(std::log10(v)));
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0}) {
    if (v <= m * p) return m * p;
  }
  return 10 * p;
}

}  // namespace

std::string latency_chart_svg(const std::vector<ChartPoint>& points, const std::string& label) {
  constexpr double kW = 720, kH = 220, kLeft = 56, kRight = 12, kTop = 12, kBottom = 40;
  const double plot_w = kW - kLeft - kRight, plot_h = kH - kTop - kBottom;
  double max_ms = 0;
  uint64_t max_fail = 0;
  for (const auto& p : points) {
    for (const auto& v : {p.p50, p.p95, p.p99}) {
      if (v) max_ms = std::max(max_ms, *v);
    }
    max_fail = std::max(max_fail, p.failures);
  }
  const double top = nice_ceiling(max_ms);
  const size_t n = std::max<size_t>(points.size(), 2);
  auto x = [&](size_t i) {
    return kLeft + plot_w * static_cast<double>(i) / static_cast<double>(n - 1);
  };
  auto y = [&](double ms) { return kTop + plot_h * (1.0 - ms / top); };

  std::string out = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" viewBox=\"0 0 {} {}\" "
      "role=\"img\" "
      "aria-label=\"{}: latency p50, p95 and p99 in milliseconds, and failures\">",
      kW, kH, xml_escape(label));
  // Axes, grid and labels with units.
  for (int k = 0; k <= 4; ++k) {
    const double v = top * k / 4.0;
    out += fmt::format(
        "<line class=\"grid\" x1=\"{0}\" y1=\"{1:.1f}\" x2=\"{2}\" y2=\"{1:.1f}\"/>"
        "<text class=\"axis\" x=\"{3}\" y=\"{4:.1f}\" text-anchor=\"end\">{5} ms</text>",
        kLeft, y(v), kW - kRight, kLeft - 6, y(v) + 4,
        v >= 10 ? fmt::format("{:.0f}", v) : fmt::format("{:.1f}", v));
  }
  if (!points.empty()) {
    const size_t last = points.size() - 1;
    for (size_t i : {size_t{0}, points.size() / 2, last}) {
      const std::string when = rfc3339(from_unix_ms(points[i].t_ms));
      const char* anchor = i == 0 ? "start" : i == last ? "end" : "middle";
      out +=
          fmt::format("<text class=\"axis\" x=\"{:.1f}\" y=\"{}\" text-anchor=\"{}\">{} {}Z</text>",
                      x(i), kH - 20, anchor, when.substr(5, 5), when.substr(11, 5));
    }
  }
  // Failures as red bars from the bottom, scaled to their own maximum.
  if (max_fail > 0) {
    const double bar_w = std::max(1.0, plot_w / static_cast<double>(n) - 1);
    for (size_t i = 0; i < points.size(); ++i) {
      if (points[i].failures == 0) continue;
      const double h =
          plot_h * 0.3 * static_cast<double>(points[i].failures) / static_cast<double>(max_fail);
      out += fmt::format(
          "<rect class=\"fail\" x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" "
          "height=\"{:.1f}\"><title>{} failures of {} runs</title></rect>",
          x(i) - bar_w / 2, kTop + plot_h - h, bar_w, h, points[i].failures, points[i].count);
    }
  }
  auto line = [&](const char* cls, std::optional<double> ChartPoint::*field) {
    std::string d;
    for (size_t i = 0; i < points.size(); ++i) {
      const auto& v = points[i].*field;
      if (!v) continue;
      d += fmt::format("{}{:.1f},{:.1f}", d.empty() ? "M" : " L", x(i), y(*v));
    }
    if (!d.empty()) out += fmt::format("<path class=\"{}\" d=\"{}\"/>", cls, d);
  };
  line("p99", &ChartPoint::p99);
  line("p95", &ChartPoint::p95);
  line("p50", &ChartPoint::p50);
  out += fmt::format(
      "<text class=\"legend p50t\" x=\"{0}\" y=\"{1}\">p50</text><text class=\"legend p95t\" "
      "x=\"{2}\" y=\"{1}\">p95</text>"
      "<text class=\"legend p99t\" x=\"{3}\" y=\"{1}\">p99</text><text class=\"legend failt\" "
      "x=\"{4}\" y=\"{1}\">failures</text>",
      kLeft, kH - 4, kLeft + 50, kLeft + 100, kLeft + 150);
  return out + "</svg>";
}

std::string badge_svg(const std::string& label, const std::string& value,
                      const std::string& colour) {
  const int lw = 6 * static_cast<int>(label.size()) + 12,
            vw = 7 * static_cast<int>(value.size()) + 12;
  return fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"20\" role=\"img\" "
      "aria-label=\"{3}: {4}\">"
      "<title>{3}: {4}</title><rect width=\"{1}\" height=\"20\" fill=\"#555\"/><rect x=\"{1}\" "
      "width=\"{2}\" height=\"20\" "
      "fill=\"{5}\"/><g fill=\"#fff\" font-family=\"Verdana,DejaVu Sans,sans-serif\" "
      "font-size=\"11\">"
      "<text x=\"6\" y=\"14\">{3}</text><text x=\"{6}\" y=\"14\">{4}</text></g></svg>",
      lw + vw, lw, vw, xml_escape(label), xml_escape(value), colour, lw + 6);
}

}  // namespace lookout
