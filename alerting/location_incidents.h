// The meta-incident of a silent location in cluster mode (docs/cluster.md#quorum, silent
// locations): what it is called, which shard's eval lease decides it, and its incident, events and
// notifications as the deciding node writes them. Pure: no clock, no I/O.
//
// It is an incident like a monitor's, in the same table, so the API, the outbox, the sender and
// a takeover treat it alike. Its `monitor` is "location NAME": a monitor's name holds only
// a-z, 0-9, _ and -, so no monitor can take it, and the unique index on open incidents' monitor
// keeps one open per location. Its type is "location", by which a route's `match` picks it.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "alerting/quorum.h"
#include "config/config.h"
#include "core/clock.h"
#include "store/records.h"

namespace lookout {

inline constexpr char kLocationIncidentType[] = "location";

// "location nyc".
std::string location_incident_monitor(std::string_view location);
// The location a meta-incident's `monitor` names; nullopt for a monitor's incident.
std::optional<std::string> location_of_incident(std::string_view monitor);
// The eval shard whose lease holder decides the location's meta-incident: that of its `monitor`
// (stable_hash("location " + NAME) mod 256), so the locations' meta-incidents spread over the
// nodes as monitors do, and the outbox rows carry the shard their sender claims by.
int location_incident_shard(std::string_view location);

// What the deciding node does about a location's meta-incident at `now`, from its silence
// bound (silence_bound; unset when no monitor runs from the location, or it is watched no
// more), when the database last heard from it (its newest report) and when this node began to
// watch it. Without an open one: open one when silent_locations finds the location silent.
// With one open: resolve it on a report within the bound, or when the bound is unset; never
// for the time this node has watched, which says nothing of a location found silent before (a
// takeover carries the meta-incident on).
struct LocationIncidentStep {
  enum class Kind { kNone, kOpen, kResolve };
  Kind kind = Kind::kNone;
  std::optional<SilentLocation> silent;  // kOpen: what opens
  bool heard_again = false;              // kResolve: by a report, not for the bound unset
};
LocationIncidentStep location_incident_step(const std::string& location, bool open,
                                            std::optional<Duration> bound,
                                            std::optional<WallTime> heard, WallTime watched_since,
                                            WallTime now);

// The meta-incident opened for `silent` with id `id` at `now`; its cause is the silence's message.
IncidentRecord location_incident(int64_t id, const SilentLocation& silent, WallTime now);

// The event (incident.opened or incident.resolved) of `incident` at `now` with a notification
// for each channel of the routes whose `match` fits it (the name "location NAME", an empty
// group, the type "location", the state "down"; a route without `match` fits every incident),
// each channel once under the first route naming it, and a resolution only through routes with
// on_resolve. A monitor's `routes` list does not apply: no monitor is about a location. `ids`
// makes each notification's id.
EventRecord location_incident_event(const Config& config, const IncidentRecord& incident,
                                    const std::string& event, WallTime now,
                                    const std::function<std::string()>& ids);

}  // namespace lookout
