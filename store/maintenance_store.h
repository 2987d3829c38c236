// Maintenance windows made through the API, in SQLite: read whole at start-up (a few a week),
// each written when made and deleted when the API deletes it.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "store/records.h"

namespace lookout {

// Every stored window, by id.
std::vector<MaintenanceRecord> read_maintenance(sqlite3* db);
// Inside the caller's transaction: each id's window as given, or deleted when nullopt.
bool write_maintenance(sqlite3* db,
                       const std::map<int64_t, std::optional<MaintenanceRecord>>& windows,
                       std::string& error);

}  // namespace lookout
