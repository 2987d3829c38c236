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
  std::vector<const PostRecord*> open_posts;          // those the reader may see, newest first
  std::vector<const ListedMaintenance*> maintenance;  // upcoming and active, soonest first
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

// Every page's head (title escaped here; `refresh`: reload every 60 s), and a time as people
// read it ("2026-12-06 04:16 UTC") inside a <time> element.
std::string page_head(const std::string& title, bool refresh);
std::string page_time(WallTime t);
// An incident as a list item: monitor, state, cause, since, resolved, acknowledged.
std::string page_incident_item(const IncidentRecord& i);

}  // namespace lookout
