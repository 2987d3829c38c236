#include "alerting/incident_log.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace lookout {

void log_incident_changes(const AlertChanges& changes) {
  for (const auto& e : changes.events) {
    const auto inc = std::find_if(changes.incidents.begin(), changes.incidents.end(),
                                  [&](const IncidentRecord& i) { return i.id == e.incident_id; });
    if (inc == changes.incidents.end()) continue;
    if (e.event == "incident.opened") {
      spdlog::warn("incident {} opened for monitor {} ({}): {}; {} notifications", inc->id,
                   inc->monitor, to_string(inc->state), inc->cause, e.notifications.size());
    } else if (e.event == "incident.resolved") {
      spdlog::info("incident {} of monitor {} resolved", inc->id, inc->monitor);
    } else if (e.event != "incident.acknowledged") {
      spdlog::info("incident {} of monitor {}: {}{}", inc->id, inc->monitor, e.event,
                   inc->flapping ? " (flapping)" : "");
    }
  }
}

}  // namespace lookout
