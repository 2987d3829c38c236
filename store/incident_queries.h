// Incident rows for the pages, on a read-only connection. An incident's notifications are the
// on-call ones: mails to status-page subscribers are not listed (there may be thousands).
#pragma once

#include <sqlite3.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "store/records.h"

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
std::vector<IncidentEventRow> incident_events(sqlite3* db,
                                              const std::vector<int64_t>& incident_ids);

enum class IncidentFilter { kOpen, kResolved, kAll };
// Incidents newest first (by start), those `keep` accepts, at most `limit`.
std::vector<IncidentRecord> list_incidents(sqlite3* db, IncidentFilter which,
                                           const std::function<bool(const IncidentRecord&)>& keep,
                                           size_t limit);

// An event of an incident and one notification it made (an event that notified no channel
// has none), oldest first, by channel.
struct IncidentNotification {
  int64_t incident_id = 0;
  std::string event;
  WallTime at;
  std::optional<std::string> id, channel, status;  // the outbox row
};
std::vector<IncidentNotification> incident_notifications(sqlite3* db, int64_t first_id,
                                                         int64_t last_id);

// One monitor's incidents, newest first.
std::vector<IncidentRecord> monitor_incidents(sqlite3* db, const std::string& monitor, int limit);

}  // namespace lookout
