// /metrics in the Prometheus text format, rendered from a snapshot. Pure.
#pragma once

#include <string>

#include "store/cluster_view.h"
#include "store/storage.h"
#include "web/accept_gate.h"
#include "web/snapshot.h"

namespace lookout {

std::string metrics_text(const Snapshot& s, const StoreHealth& store, bool include_private);

// The accept gate's counters and its gauge of open connections.
std::string gate_metrics_text(const GateCounts& g);

// Cluster mode: the nodes by location and whether they are alive, each node's monitors by role
// (probe, decide), and the result rows waiting in this node's local spool.
std::string cluster_metrics_text(const std::vector<ClusterNodeView>& nodes, size_t spool_rows);

// A label value with \, " and newlines escaped as the format requires.
std::string escape_label(const std::string& v);

}  // namespace lookout
