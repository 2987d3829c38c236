// /metrics in the Prometheus text format, rendered from a snapshot. Pure.
#pragma once

#include <string>

#include "store/storage.h"
#include "web/snapshot.h"

namespace lookout {

std::string metrics_text(const Snapshot& s, const StoreHealth& store, bool include_private);

// A label value with \, " and newlines escaped as the format requires.
std::string escape_label(const std::string& v);

}  // namespace lookout
