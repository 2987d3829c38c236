#include "web/history_params.h"

#include <fmt/format.h>

#include <algorithm>

#include "core/units.h"

namespace lookout {

HistoryParams parse_history_params(const std::string& window, const std::string& step,
                                   int64_t now_ms) {
  constexpr int64_t kMinute = 60'000, kHour = 3'600'000, kDay = 86'400'000;
  HistoryParams p;
  const auto w = parse_duration(window.empty() ? "24h" : window);
  if (!w.value) {
    p.error = "window: " + w.error;
    return p;
  }
  p.window_ms = w.value->count();
  if (p.window_ms <= 0 || p.window_ms > 3650 * kDay) {
    p.error = "window must be between 1ms and 3650d";
    return p;
  }
  if (step.empty()) {
    const int64_t raw = p.window_ms / 100;
    // Round to the unit nearest in size, so buckets stay aligned to whole minutes, hours or days.
    const int64_t unit = raw < 30 * kMinute ? kMinute : raw < 12 * kHour ? kHour : kDay;
    p.step_ms = std::max<int64_t>(1, (raw + unit / 2) / unit) * unit;
  } else {
    const auto s = parse_duration(step);
    if (!s.value) {
      p.error = "step: " + s.error;
      return p;
    }
    p.step_ms = s.value->count();
    if (p.step_ms < 1000) {
      p.error = "step must be at least 1s";
      return p;
    }
  }
  const int64_t from = now_ms - p.window_ms;
  const int64_t points = now_ms / p.step_ms - from / p.step_ms + 1;
  if (points > kMaxHistoryPoints) {
    p.error = fmt::format(
        "window {} with step {} would return {} points; the most is {}: choose a longer step",
        window, format_duration(Duration{p.step_ms}), points, kMaxHistoryPoints);
  }
  return p;
}

}  // namespace lookout
