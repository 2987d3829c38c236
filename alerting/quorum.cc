#include "alerting/quorum.h"

#include <fmt/format.h>

#include <algorithm>

#include "core/units.h"

namespace lookout {
namespace {

bool is_fresh(WallTime last_check, WallTime now, Duration fresh_for) {
  return now - last_check <= fresh_for;
}

// "down from fra, nyc (2 of 3): expected status 200, got 503"
std::string quorum_cause(State state, const std::vector<std::string>& names, size_t fresh,
                         const std::string& why) {
  return fmt::format("{} from {} ({} of {}): {}", to_string(state), fmt::join(names, ", "),
                     names.size(), fresh, why);
}

}  // namespace

Duration freshness_bound(const MonitorConfig& m, Duration lease) {
  return 2 * m.interval + m.timeout + lease;
}

QuorumRules quorum_rules(const MonitorConfig& m, const ClusterConfig& cluster) {
  return {freshness_bound(m, cluster.lease), cluster.quorum};
}

void MonitorQuorum::set_location(const std::string& location, LocationReport report,
                                 WallTime heard_at) {
  locations_[location] = Location{std::move(report), heard_at};
}

void MonitorQuorum::restore(State state, WallTime since, std::string cause) {
  state_ = state;
  since_ = since;
  cause_ = std::move(cause);
}

QuorumDecision MonitorQuorum::set(State state, WallTime at, std::string cause) {
  QuorumDecision d{state_, state, state != state_, cause};
  if (d.changed) since_ = at;
  state_ = state;
  cause_ = std::move(cause);
  return d;
}

QuorumDecision MonitorQuorum::decide(WallTime now, const QuorumRules& rules) {
  QuorumDecision d;
  d.before = state_;
  // The fresh locations that say down, and those that say degraded or down (a location that is
  // down is at least degraded, as a down run is the worst in a streak); alphabetical, as the map.
  size_t fresh = 0;
  std::vector<std::string> down, bad;
  for (const auto& [name, l] : locations_) {
    if (!is_fresh(l.heard_at, now, rules.fresh_for)) continue;
    ++fresh;
    const State s = l.report.state;
    if (s == State::kDown) down.push_back(name);
    if (s == State::kDown || s == State::kDegraded) bad.push_back(name);
  }
  if (fresh == 0) {
    d.after = state_;
    d.cause = cause_;
    return d;
  }
  const size_t quorum = rules.quorum ? static_cast<size_t>(*rules.quorum) : fresh / 2 + 1;
  // With fewer fresh locations than the quorum, all of them must say so.
  const size_t needed = std::min(quorum, fresh);
  State next = State::kUp;
  if (down.size() >= needed) {
    next = State::kDown;
  } else if (bad.size() >= needed) {
    next = State::kDegraded;
  }

  std::string cause;
  if (next != State::kUp) {
    const std::vector<std::string>& named = next == State::kDown ? down : bad;
    // The cause of the first named location whose own state is the monitor's: a degraded
    // monitor gives a reason for being degraded, not a down location's.
    const auto first = std::find_if(named.begin(), named.end(), [&](const std::string& n) {
      return locations_.at(n).report.state == next;
    });
    cause = quorum_cause(next, named, fresh, locations_.at(*first).report.cause);
  }
  d.after = next;
  d.changed = next != state_;
  if (d.changed) since_ = now;
  state_ = next;
  cause_ = cause;
  d.cause = std::move(cause);
  return d;
}

std::vector<LocationView> MonitorQuorum::view(WallTime now, Duration fresh_for) const {
  std::vector<LocationView> out;
  out.reserve(locations_.size());
  for (const auto& [name, l] : locations_) {
    const LocationReport& r = l.report;
    out.push_back({name, is_fresh(l.heard_at, now, fresh_for) ? r.state : State::kUnknown,
                   r.last_check, r.latency_us, r.cause});
  }
  return out;
}

std::optional<Duration> silence_bound(const std::vector<MonitorConfig>& monitors,
                                      const std::string& location, Duration lease) {
  std::optional<Duration> shortest;
  for (const MonitorConfig& m : monitors) {
    // A heartbeat is pinged, not probed: no location sends its results.
    if (!m.spec->probed()) continue;
    if (m.locations &&
        std::find(m.locations->begin(), m.locations->end(), location) == m.locations->end()) {
      continue;
    }
    const Duration bound = freshness_bound(m, lease);
    if (!shortest || bound < *shortest) shortest = bound;
  }
  return shortest;
}

std::vector<SilentLocation> silent_locations(const std::vector<LocationActivity>& locations,
                                             WallTime now) {
  std::vector<SilentLocation> out;
  for (const LocationActivity& a : locations) {
    WallTime from = a.watched_since;
    if (a.newest_result && *a.newest_result > from) from = *a.newest_result;
    const Duration quiet = std::chrono::duration_cast<Duration>(now - from);
    if (quiet <= a.bound) continue;
    // Whole seconds: the message names a span, and milliseconds would only make it noisy.
    const Duration shown = std::chrono::floor<std::chrono::seconds>(quiet);
    out.push_back({a.location, quiet,
                   fmt::format("location {} has sent no results for {}", a.location,
                               format_duration(shown))});
  }
  std::sort(out.begin(), out.end(), [](const SilentLocation& x, const SilentLocation& y) {
    return x.location < y.location;
  });
  return out;
}

}  // namespace lookout
