// /metrics in the Prometheus text format, rendered from a snapshot. Pure.
#pragma once

#include <string>

#include "store/storage.h"
#include "web/accept_gate.h"
#include "web/snapshot.h"

namespace lookout {

std::string metrics_text(const Snapshot& s, const StoreHealth& store, bool include_private);

// The accept gate's counters and its gauge of open connections.
std::string gate_metrics_text(const GateCounts& g);

// A label value with \, " and newlines escaped as the format requires.
std::string escape_label(const std::string& v);

}  // namespace lookout
