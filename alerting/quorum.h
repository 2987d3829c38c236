// Cluster mode's quorum: a monitor probed from several locations is judged per location, as a
// single node judges it (fail_after, recover_after: alerting/location_judge.h, on the node that
// probes it there), and its state follows from the locations whose reports are fresh
// (docs/cluster.md#quorum). Beside it, which locations have gone silent. Pure: no clock, no
// I/O; every time is passed in, and all of them must be read on one clock: the database's.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "alerting/location_judge.h"
#include "alerting/state_machine.h"
#include "config/config.h"
#include "core/clock.h"
#include "probes/probe.h"
#include "store/records.h"

namespace lookout {

// How long a location's report of `m` counts after it was written: 2 × interval + timeout + lease,
// the oldest it can be while the location works, even while a dead node's work moves to another
// node of the location (within lease plus one interval, and one timeout for that run to finish).
Duration freshness_bound(const MonitorConfig& m, Duration lease);

struct QuorumRules {
  Duration fresh_for;         // freshness_bound
  std::optional<int> quorum;  // [cluster] quorum; unset: a majority of the fresh locations
};
QuorumRules quorum_rules(const MonitorConfig& m, const ClusterConfig& cluster);

struct QuorumDecision {
  State before = State::kUnknown;
  State after = State::kUnknown;
  bool changed = false;
  // "down from fra, nyc (2 of 3): CAUSE" or "degraded from ..."; empty when up or unknown.
  std::string cause;
};

// One location's entry in a monitor's "locations" of /api/v1/status.
struct LocationView {
  std::string location;
  State state = State::kUnknown;      // unknown once its report is no longer fresh
  WallTime last_check;                // its newest run's start
  std::optional<int64_t> latency_us;  // of that run; unset without a response
  std::string cause;                  // why it is not up, or why its last run was not
};

// One monitor's locations and its state from them.
class MonitorQuorum {
 public:
  // Takes what `location` says now; `heard_at` is when its report was written, by the
  // database's clock, which decide() and view() compare with `now` on that clock (a location's
  // run times are by the clock of the node that ran them, which is not trusted).
  void set_location(const std::string& location, LocationReport report, WallTime heard_at);

  // Carries on from what the node that decided the monitor before left (monitor_states): a
  // takeover changes nothing by itself, and the next decision is judged against this.
  void restore(State state, WallTime since, std::string cause);

  // A monitor judged without locations (a heartbeat, by its pings and deadlines): its state is
  // what its last run said, changed at `at` when it differs.
  QuorumDecision set(State state, WallTime at, std::string cause);

  // The monitor's state at `now` from the locations whose report is fresh. With none
  // fresh, the state and cause stay as they were: nobody has looked, which says nothing about
  // the service (the silent locations say why).
  QuorumDecision decide(WallTime now, const QuorumRules& rules);

  State state() const { return state_; }
  WallTime since() const { return since_; }
  const std::string& cause() const { return cause_; }
  // Every location that has reported, in alphabetical order.
  std::vector<LocationView> view(WallTime now, Duration fresh_for) const;

 private:
  struct Location {
    LocationReport report;
    WallTime heard_at;
  };
  std::map<std::string, Location> locations_;  // by name: alphabetical, so causes are stable
  State state_ = State::kUnknown;
  WallTime since_{};
  std::string cause_;
};

// What the deciding node knows of a location, to tell whether it has gone silent.
struct LocationActivity {
  std::string location;
  // When the database last heard from it: the write of its newest report of any monitor it
  // runs (within 250 ms of that run's end), on the deciding node's clock.
  std::optional<WallTime> newest_result;
  // When results from it were first expected: when the deciding node took the lease that
  // decides it, or when its reads of the cluster's status answered again after failing.
  WallTime watched_since;
  Duration bound;  // silence_bound
};

struct SilentLocation {
  std::string location;
  Duration silent_for;
  std::string message;  // "location nyc has sent no results for 45s"
};

// How long a location may send nothing before it is silent: the shortest freshness bound of the
// probed monitors it runs (those that name it, or name no location). nullopt when it runs none.
std::optional<Duration> silence_bound(const std::vector<MonitorConfig>& monitors,
                                      const std::string& location, Duration lease);

// The locations that have sent nothing for longer than their bound, counted from their newest
// result or from when they were first watched, whichever is later; in alphabetical order.
std::vector<SilentLocation> silent_locations(const std::vector<LocationActivity>& locations,
                                             WallTime now);

}  // namespace lookout
