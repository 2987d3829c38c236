// Atlassian Statuspage's public v2 shape (/api/v2/status.json and /api/v2/summary.json), so
// that status aggregators and existing widgets read lookout as they read a Statuspage page.
// Public only: one component per public monitor, open public posts as incidents, upcoming and
// active maintenance windows that cover a public monitor. Pure.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "web/snapshot.h"

namespace lookout {

struct StatuspageInput {
  const Snapshot& snapshot;
  std::string public_url;  // the page's address, without a trailing slash
  WallTime now;
};

// "none" | "minor" | "major" | "critical", and Statuspage's words for it.
struct StatuspageIndicator {
  std::string indicator, description;
};
// The worst of: open public posts' impact; a public monitor down (major; all of them down:
// critical); degraded (minor).
StatuspageIndicator statuspage_indicator(const StatuspageInput& in);

// up/unknown: operational, degraded: degraded_performance, down: major_outage, maintenance:
// under_maintenance.
const char* statuspage_component_status(State s);

nlohmann::json statuspage_status(const StatuspageInput& in);
nlohmann::json statuspage_summary(const StatuspageInput& in);

}  // namespace lookout
