// Incident rows for the pages, on a read-only connection.
#pragma once

#include <sqlite3.h>

#include <string>
#include <vector>

#include "alerting/incidents.h"

namespace lookout {

// Incidents resolved at or after `resolved_since_ms`, newest first.
std::vector<IncidentRecord> resolved_incidents(sqlite3* db, int64_t resolved_since_ms, int limit);
// One monitor's incidents, newest first.
std::vector<IncidentRecord> monitor_incidents(sqlite3* db, const std::string& monitor, int limit);

}  // namespace lookout
