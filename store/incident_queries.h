// Incident rows for the pages, on a read-only connection.
#pragma once

#include <sqlite3.h>

#include <string>
#include <vector>

#include "alerting/incidents.h"

namespace lookout {

// Incidents resolved at or after `resolved_since_ms`, newest first.
std::vector<IncidentRecord> resolved_incidents(sqlite3* db, int64_t resolved_since_ms, int limit);
struct IncidentEventRow {
  int64_t incident_id = 0;
  std::string event;
  WallTime at;
  std::string deliveries;  // "ops-email delivered, ops-webhook pending"
};
// The events of these incidents, oldest first.
std::vector<IncidentEventRow> incident_events(sqlite3* db, const std::vector<int64_t>& incident_ids);

// One monitor's incidents, newest first.
std::vector<IncidentRecord> monitor_incidents(sqlite3* db, const std::string& monitor, int limit);

}  // namespace lookout
