#include "alerting/location_incidents.h"

#include <algorithm>

#include "alerting/channels/registry.h"
#include "alerting/incidents.h"
#include "alerting/routing.h"
#include "store/lease_plan.h"

namespace lookout {
namespace {

constexpr std::string_view kPrefix = "location ";

}  // namespace

std::string location_incident_monitor(std::string_view location) {
  return std::string(kPrefix) + std::string(location);
}

std::optional<std::string> location_of_incident(std::string_view monitor) {
  if (monitor.size() <= kPrefix.size() || monitor.substr(0, kPrefix.size()) != kPrefix) {
    return std::nullopt;
  }
  return std::string(monitor.substr(kPrefix.size()));
}

int location_incident_shard(std::string_view location) {
  return shard_of(location_incident_monitor(location));
}

LocationIncidentStep location_incident_step(const std::string& location, bool open,
                                            std::optional<Duration> bound,
                                            std::optional<WallTime> heard, WallTime watched_since,
                                            WallTime now) {
  LocationIncidentStep step;
  if (open) {
    step.heard_again = bound && heard && now - *heard <= *bound;
    if (!bound || step.heard_again) step.kind = LocationIncidentStep::Kind::kResolve;
    return step;
  }
  if (!bound) return step;
  auto silent = silent_locations({LocationActivity{location, heard, watched_since, *bound}}, now);
  if (silent.empty()) return step;
  step.kind = LocationIncidentStep::Kind::kOpen;
  step.silent = std::move(silent.front());
  return step;
}

IncidentRecord location_incident(int64_t id, const SilentLocation& silent, WallTime now) {
  IncidentRecord i;
  i.id = id;
  i.monitor = location_incident_monitor(silent.location);
  i.type = kLocationIncidentType;
  i.state = State::kDown;
  i.cause = silent.message;
  i.started_at = now;
  return i;
}

EventRecord location_incident_event(const Config& config, const IncidentRecord& incident,
                                    const std::string& event, WallTime now,
                                    const std::function<std::string()>& ids) {
  EventRecord ev{incident.id, event, now, {}};
  // No ack link: a cluster's nodes share no key to sign one with, as for a monitor's incidents.
  const std::string payload = incident_payload(incident, "");
  const RouteSubject subject{incident.monitor, incident.group, incident.type, "down"};
  std::vector<std::string> told;
  for (const RouteConfig& r : config.routes) {
    if (!route_matches(r, subject)) continue;
    if (event == "incident.resolved" && !r.on_resolve) continue;
    for (const std::string& channel : r.notify) {
      if (std::find(told.begin(), told.end(), channel) != told.end()) continue;
      told.push_back(channel);
      const ChannelConfig* c = config.channel(channel);
      if (c == nullptr || !channel_takes(*c, event)) continue;
      for (const std::string& to : row_recipients(*c)) {
        ev.notifications.push_back(
            OutboxRow{"evt_" + ids(), incident.id, event, channel, r.name, to, now, payload});
      }
    }
  }
  return ev;
}

}  // namespace lookout
