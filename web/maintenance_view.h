// Maintenance windows as readers see them: in the API's JSON, as the page's "upcoming
// maintenance" section, and for the Statuspage-compatible JSON. A window is public when any
// monitor it covers is; a reader without the token sees the public monitors it covers, never
// the globs as written (a glob may name private monitors).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "web/snapshot.h"

namespace lookout {

// The monitors a window covers that the reader may see, in config order.
std::vector<std::string> maintenance_monitors_for(const ListedMaintenance& w, const Snapshot& s,
                                                  bool admin);
// The windows not ended at `now` that the reader may see, soonest first.
std::vector<const ListedMaintenance*> visible_maintenance(const Snapshot& s, bool admin,
                                                          WallTime now);

// {"id","title","body","monitors","start","end","duration","state","source"}; the admin reads
// the monitors as written (globs), others the public monitors covered.
nlohmann::json maintenance_json(const ListedMaintenance& w, const Snapshot& s, bool admin,
                                WallTime now);

// The page's section of upcoming and active windows; empty when there is none.
std::string maintenance_section(const std::vector<const ListedMaintenance*>& windows,
                                const Snapshot& s, bool admin, WallTime now);

}  // namespace lookout
