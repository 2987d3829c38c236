// Cluster mode's page and API show what the cluster decided, read from PostgreSQL, instead of
// what this node's own runs say: every node answers alike, whichever monitors it probes. Pure.
#pragma once

#include "alerting/cluster_status.h"
#include "web/snapshot.h"

namespace lookout {

// `view` (as this node's runs made it) with the cluster's state, since, last run, cause,
// locations and decided_by. A monitor in maintenance here stays so: the decided state is the
// runs', and a window is judged where the page is built.
MonitorView clustered_view(const MonitorView& view, const ClusterMonitorStatus& status);

// Each monitor of `s` that `status` has, as clustered_view() shows it, and the cluster's open
// incidents in place of this node's. Call it on each snapshot built while cluster mode runs,
// with the last status read (also one with ok false: the last picture stands).
void show_cluster_status(const ClusterStatus& status, Snapshot& s);

}  // namespace lookout
