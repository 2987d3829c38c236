// Inline SVG for the pages, as pure functions: no JavaScript, text for every colour.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "store/history.h"

namespace lookout {

std::string xml_escape(const std::string& s);

// A day's colour class by its uptime: "up" (99.9 % and more), "minor" (99 %), "degraded"
// (95 %), "down" (below 95 %), "none" (no runs). The stylesheet gives each class its colour.
const char* day_class(const DaySummary& day);

// The daily bars, oldest first, as one small SVG: one <path> per colour class holding all that
// class's days as runs, no attributes repeated per day. Decorative (aria-hidden): the figures
// are in the text beside it.
std::string uptime_bars_svg(const std::vector<DaySummary>& days);

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
