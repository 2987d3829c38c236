// What the cluster looks like from one node, for GET /api/v1/cluster and the cluster metrics:
// each node's row and how many monitors it probes and decides now, counted from the leases it
// holds by the server's clock. Every node computes the counts for every node from the leases
// table and its own config (which every node shares: monitor_sets.h), so no node has to
// publish them. Pure.
#pragma once

#include <cstddef>
#include <vector>

#include "config/config.h"
#include "store/lease_registry.h"
#include "store/node_registry.h"

namespace lookout {

struct ClusterNodeView {
  NodeRow row;
  size_t probing = 0;   // monitors it probes from its location now
  size_t deciding = 0;  // monitors whose state and incidents it decides now
};

// `leases` as LeaseRegistry::list() answers (held now, by the server's clock). A probe lease
// counts for its holder only in the holder's own location; a monitor is probed from a location
// its `locations` names (any, when unset), and only when it has a probe (not a heartbeat).
std::vector<ClusterNodeView> cluster_nodes(const std::vector<NodeRow>& nodes,
                                           const std::vector<LeaseRow>& leases,
                                           const std::vector<MonitorConfig>& monitors);

}  // namespace lookout
