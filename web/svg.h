// Inline SVG for the pages, as pure functions: no JavaScript, text for every colour.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "store/history.h"

namespace lookout {

std::string xml_escape(const std::string& s);

// 90 daily bars coloured by uptime, each with a <title> tooltip: date, uptime, p95.
std::string uptime_bars_svg(const std::vector<DaySummary>& days, int64_t first_day_ms);

// p50/p95/p99 lines in milliseconds and failures as bars, with axes and units.
struct ChartPoint {
  int64_t t_ms;
  std::optional<double> p50, p95, p99;
  uint64_t count = 0;
  uint64_t failures = 0;
};
std::string latency_chart_svg(const std::vector<ChartPoint>& points, const std::string& label);

// A small uptime badge: "uptime | 99.95%".
std::string badge_svg(const std::string& label, const std::string& value,
                      const std::string& colour);

// The colour for an uptime percentage (grey without data).
std::string uptime_colour(std::optional<double> uptime);

}  // namespace lookout
