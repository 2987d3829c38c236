// The JSON answers of the API, rendered from a snapshot. Pure.
#pragma once

#include <nlohmann/json.hpp>

#include "daemon/snapshot.h"

namespace lookout {

// GET /api/v1/status. Private monitors only when `include_private`.
nlohmann::json status_json(const Snapshot& s, bool include_private);

}  // namespace lookout
