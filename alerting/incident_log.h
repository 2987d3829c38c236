// The operator's log lines about what the alert engine decided: an incident opened (with how
// many notifications it sends), resolved, escalated, reminded or changed. The single node and a
// cluster's deciding node tell them alike.
#pragma once

#include "store/records.h"

namespace lookout {

void log_incident_changes(const AlertChanges& changes);

}  // namespace lookout
