// The JSON answers of the API, rendered from a snapshot. Pure.
#pragma once

#include <nlohmann/json.hpp>

#include "daemon/snapshot.h"
#include "store/history.h"

namespace lookout {

// GET /api/v1/status. Private monitors only when `include_private`.
nlohmann::json status_json(const Snapshot& s, const SummaryMap& history, bool include_private);

// The answer of GET /api/v1/monitors/NAME/history.
nlohmann::json history_json(const std::string& monitor, int64_t window_ms, int64_t step_ms,
                            const std::vector<HistoryReader::Point>& points);

// window and step of a history request: step defaults to about a hundredth of the window,
// in whole minutes, hours or days. An error is a message for a 400 answer.
struct HistoryParams {
  int64_t window_ms = 0;
  int64_t step_ms = 0;
  std::string error;
};
HistoryParams parse_history_params(const std::string& window, const std::string& step, int64_t now_ms);
inline constexpr int64_t kMaxHistoryPoints = 10'000;

}  // namespace lookout
