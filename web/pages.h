// The HTML pages, rendered on the server as pure functions of what the snapshot, the cached
// summaries and the incident rows hold. No script; the markup is well-formed XML.
#pragma once

#include <string>
#include <vector>

#include "alerting/incidents.h"
#include "store/history.h"
#include "store/incident_queries.h"
#include "web/snapshot.h"
#include "web/svg.h"

namespace lookout {

struct StatusPageInput {
  const Snapshot& snapshot;
  const SummaryMap& summaries;
  const std::vector<IncidentRecord>& resolved;  // the last 14 days
  bool admin = false;
  WallTime now;
};
std::string render_status_page(const StatusPageInput& in);

// all operational | partial outage | major outage | maintenance, over the visible monitors.
std::string overall_banner(const std::vector<const MonitorView*>& visible);

struct MonitorPageInput {
  const MonitorView& monitor;
  const HistorySummary& summary;
  std::vector<std::pair<std::string, std::vector<ChartPoint>>> charts;  // "24 hours" -> points
  const std::vector<IncidentRecord>& incidents;
  const std::vector<IncidentEventRow>& events;
  std::string title;
  WallTime now;
};
std::string render_monitor_page(const MonitorPageInput& in);

const std::string& stylesheet();

}  // namespace lookout
