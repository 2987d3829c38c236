// Heartbeat monitors' memory in SQLite (table heartbeats): what a tracker knows beyond the runs
// (the last success or failure, running jobs' starts, the last message), one row a monitor,
// read at start-up and written whenever a ping or a deadline changed it.
#pragma once

#include <sqlite3.h>

#include <functional>
#include <map>
#include <string>

#include "probes/heartbeat.h"

namespace lookout {

// Every stored memory, by monitor name.
std::map<std::string, HeartbeatMemory> read_heartbeats(sqlite3* db);
// Inside the caller's transaction; `monitor_id` gives a monitor's row id (negative on failure).
bool write_heartbeats(sqlite3* db, const std::map<std::string, HeartbeatMemory>& memories,
                      const std::function<int64_t(const std::string&)>& monitor_id,
                      std::string& error);

}  // namespace lookout
