// The window and step query parameters of GET /api/v1/monitors/NAME/history. Pure.
#pragma once

#include <cstdint>
#include <string>

namespace lookout {

// window and step of a history request: step defaults to about a hundredth of the window,
// in whole minutes, hours or days. An error is a message for a 400 answer.
struct HistoryParams {
  int64_t window_ms = 0;
  int64_t step_ms = 0;
  std::string error;
};
HistoryParams parse_history_params(const std::string& window, const std::string& step,
                                   int64_t now_ms);
inline constexpr int64_t kMaxHistoryPoints = 10'000;

}  // namespace lookout
