// Incidents and the notifications they cause. Pure: no clock, no I/O; the loop feeds it runs,
// ticks and acks, and stores what it returns (incident rows, events and outbox rows) in one
// transaction.
//
// Level-triggered: a monitor that is down or degraded has one open incident; up resolves it.
// So a restart (or the end of a maintenance window) never opens a second incident, and never
// loses one. Escalations and reminders are decided on tick() from the stored incident (tiers
// fired, next reminder), so they survive restarts as well.
#pragma once

#include <bitset>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "alerting/maintenance.h"
#include "alerting/state_machine.h"
#include "config/config.h"
#include "core/clock.h"
#include "store/records.h"

namespace lookout {

// The contract's fields of an incident, as the incidents API and notifications show it.
nlohmann::json incident_json(const IncidentRecord& i);
// A notification's incident: incident_json with its ack link, serialised.
std::string incident_payload(const IncidentRecord& i, const std::string& ack_url);
// The events of a status-page post: it was made, or it has a new update (the resolving one
// too). Their notifications carry incident_id 0, as a test's do, and the post as payload.
inline constexpr char kPostPosted[] = "incident.posted";
inline constexpr char kPostUpdated[] = "incident.post_updated";
bool is_post_event(std::string_view event);
// A post as its notifications carry it: {"id", "title", "status", "impact", "monitors",
// "created_at", "resolved_at", "url" (its page), "update": {"status", "body", "at"}} with the
// latest update. `monitors` names private monitors too: notifications go to on-call people.
nlohmann::json post_json(const PostRecord& post, const std::string& public_url);
std::string post_payload(const PostRecord& post, const std::string& public_url);

// What grouping and messages read back from an incident's payload: empty for a test's null
// payload, a post's, or one that does not parse.
struct PayloadFields {
  std::string monitor;
  std::string state;
};
PayloadFields payload_fields(const std::string& payload);

class AlertEngine {
 public:
  using IdSource = std::function<std::string()>;
  AlertEngine(std::string ack_key, IdSource ids);

  void configure(std::shared_ptr<const Config> config);
  // Open incidents from storage, and the next incident id to use.
  void restore(std::vector<IncidentRecord> open, int64_t next_id);
  // Cluster mode: a deciding node holds the open incidents of the shards it decides only. It
  // adopts those of a shard it gains as the database has them, and drops the monitors of a
  // shard it loses (their incidents stay open in the database, for the node that takes them).
  void adopt(std::vector<IncidentRecord> open);
  void drop(const std::function<bool(const std::string& monitor)>& lost);
  // Cluster mode: an incident's id comes from `next_id` (ids the database reserved, unique in
  // the whole cluster) instead of the engine's own count.
  void number_with(std::function<int64_t()> next_id) { number_ = std::move(next_id); }

  void on_run(const MonitorConfig& m, State state, bool state_changed, const std::string& cause,
              WallTime now, bool in_maintenance, AlertChanges& out);
  void tick(WallTime now, AlertChanges& out);

  // A monitor left the config: its open incident resolves, quietly (nobody is paged for a
  // config change).
  void forget(const std::string& monitor, WallTime now, AlertChanges& out);

  // A post was made (`created`) or has a new update: one event, incident.posted or
  // incident.post_updated, notifying each channel of the routes with on_post that the post fits
  // (routes_for_post, with the state of a monitor that has an open incident), once, under the
  // first such route in config order; not the channels of a type that takes no posts. A
  // private post notifies as well: routes reach the people who run the service.
  void on_post(const PostRecord& post, bool created, WallTime now, AlertChanges& out);

  enum class AckResult { kDone, kAlready, kResolved, kUnknown };
  AckResult acknowledge(int64_t incident_id, const std::string& by, WallTime now,
                        AlertChanges& out);

  const std::map<std::string, IncidentRecord>& open_incidents() const { return open_; }
  // The config's [[maintenance]] blocks (set by configure) and the API's windows: during one,
  // a monitor's incidents neither open nor escalate.
  MaintenanceBook& maintenance() { return maintenance_; }
  const MaintenanceBook& maintenance() const { return maintenance_; }
  std::string ack_url(int64_t incident_id, WallTime now) const;
  const std::string& ack_key() const { return ack_key_; }
  // For an engine made before its key was known (a cluster node's, once it joined).
  void sign_acks_with(std::string ack_key) { ack_key_ = std::move(ack_key); }

 private:
  struct Target {
    std::string channel, route;
  };
  void emit(IncidentRecord& inc, const std::string& event, const std::vector<Target>& targets,
            WallTime now, AlertChanges& out);
  // The event's notifications: a row per channel that takes it and per recipient.
  void notify(EventRecord& ev, const std::string& payload, const std::vector<Target>& targets,
              WallTime now);
  // Each channel once, with the first route (in config order) that names it.
  static void add_targets(std::vector<Target>& out, const std::vector<std::string>& channels,
                          const std::string& route);
  std::vector<Target> targets(const IncidentRecord& inc, const std::string& event) const;
  std::vector<Target> post_targets(const PostRecord& post) const;
  bool flapping_update(const MonitorConfig& m, bool state_changed, IncidentRecord* inc);

  std::string ack_key_;
  IdSource ids_;
  std::shared_ptr<const Config> config_;
  MaintenanceBook maintenance_;
  int64_t next_id_ = 1;
  std::function<int64_t()> number_;
  std::map<std::string, IncidentRecord> open_;  // by monitor
  // Per monitor: did the state change at each of the last flap.window (at most 100) runs,
  // newest in bit 0; a bit per run, since 10,000 monitors each keep one.
  struct FlapWindow {
    std::bitset<128> changed;
    int runs = 0;
    bool flapping = false;
  };
  std::map<std::string, FlapWindow> flap_;
  std::map<int64_t, std::string>
      resolved_recently_;  // id -> monitor, to answer a late ack with 409
};

}  // namespace lookout
