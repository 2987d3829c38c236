// The JSON answers of the API, rendered from a snapshot. Pure.
#pragma once

#include <nlohmann/json.hpp>

#include "store/cluster_view.h"
#include "store/history.h"
#include "web/snapshot.h"

namespace lookout {

// GET /api/v1/status. Private monitors, and what else only the admin sees, only for `admin`.
nlohmann::json status_json(const Snapshot& s, const SummaryMap& history, bool admin);
// One monitor's object of the list above; `admin` adds what only the admin sees.
nlohmann::json monitor_status_json(const MonitorView& m, const SummaryMap& history, bool admin);

// The answer of GET /api/v1/monitors/NAME/history.
nlohmann::json history_json(const std::string& monitor, int64_t window_ms, int64_t step_ms,
                            const std::vector<SeriesPoint>& points);

// GET /api/v1/cluster (admin): the storage engine and whether its last write went in, and every
// node with what it probes and decides now. `now` turns each node's age into its last_seen.
nlohmann::json cluster_json(bool storage_ok, const std::vector<ClusterNodeView>& nodes,
                            WallTime now);

}  // namespace lookout
