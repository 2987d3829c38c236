// What the loop shows the web threads: an immutable picture of every monitor, published
// whole and swapped under a mutex. Web threads never touch loop state.
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "alerting/dispatcher.h"
#include "alerting/incidents.h"
#include "alerting/maintenance.h"
#include "alerting/quorum.h"
#include "alerting/slo_window.h"
#include "alerting/state_machine.h"
#include "core/clock.h"
#include "core/published.h"
#include "core/scheduler.h"
#include "core/secret.h"
#include "probes/heartbeat.h"
#include "probes/probe.h"
#include "store/cluster_view.h"

namespace lookout {

struct MonitorView {
  std::string name;
  std::string group;
  std::string type;
  bool is_public = false;
  State state = State::kUnknown;
  std::optional<WallTime> since;  // unset while unknown
  std::optional<WallTime> last_check;
  std::optional<Outcome> last_outcome;
  std::optional<int64_t> latency_us;  // the last run's total; unset without a response
  std::string cause;                  // of the last run; already free of secrets
  PhaseTimings timings;
  uint64_t runs = 0;  // since this process started
  uint64_t failures = 0;
  std::optional<WallTime> cert_not_after;  // cert monitors: the earliest expiry of the chain
  std::vector<PerfdataValue> perfdata;     // exec monitors: the last run's performance data
  std::optional<SloJudgement>
      slo;  // monitors with slo.p95: the rolling window, once it has samples
  std::optional<Duration> slo_budget, slo_window;
  // heartbeat monitors: the last success or failure reported, and when the next ping is due.
  std::optional<WallTime> last_ping, next_due;
  std::optional<Secret> ping_token;         // shown only to the admin, as ping_url
  std::optional<PingMessage> last_message;  // shown only to the admin
  // Cluster mode: what every node shows alike, read from PostgreSQL (alerting/cluster_status.h).
  // Unset on a single node, whose answers stay as they were.
  struct Clustered {
    std::vector<LocationView> locations;    // in alphabetical order
    std::optional<std::string> decided_by;  // shown only to the admin; unset while none decides
  };
  std::optional<Clustered> cluster;
};

struct Snapshot {
  std::string title;
  std::optional<Secret> admin_token;
  WallTime built_at;
  // In config order. A view is shared by successive snapshots until its monitor changes, so a
  // publish costs what changed, not every monitor.
  std::vector<std::shared_ptr<const MonitorView>> monitors;
  SchedulerStats scheduler;
  size_t monitors_total = 0;
  std::vector<IncidentRecord> open_incidents;
  DispatchStats notifications;
  std::string ack_key;  // verifies ack links; never shown
  // Heartbeat monitors by the SHA-256 of their ping token (probes/heartbeat.h); shared by
  // snapshots until a heartbeat monitor is added or removed.
  using PingTokens = std::unordered_map<std::string, std::string>;
  std::shared_ptr<const PingTokens> ping_tokens = std::make_shared<const PingTokens>();
  // The pagerduty channels' webhook_secret values, which sign POST /hooks/pagerduty.
  std::vector<Secret> pagerduty_webhook_secrets;
  // Every post, oldest first; shared by snapshots until one changes.
  std::shared_ptr<const std::vector<PostRecord>> posts =
      std::make_shared<const std::vector<PostRecord>>();
  // Maintenance windows not yet ended when this was built, soonest first.
  std::vector<ListedMaintenance> maintenance;
  // [subscriptions]: set when stakeholders may subscribe by email.
  struct Subscriptions {
    int rate_limit = 10;  // POST /subscribe per client address...
    Duration rate_window{60'000};
    std::string key;  // verifies confirmation and unsubscribe links; never shown
    size_t confirmed = 0, pending = 0;
  };
  std::optional<Subscriptions> subscriptions;
  // [cluster]: the nodes as this node last read them, for GET /api/v1/cluster and the metrics.
  struct Cluster {
    bool storage_ok = false;  // the node's connection is up and its results go in
    std::vector<ClusterNodeView> nodes;
    WallTime read_at{};       // the nodes' last_seen are counted back from this
    uint64_t spool_rows = 0;  // results waiting in the local spool
  };
  std::optional<Cluster> cluster;
  // [heartbeat]: whether it is set, and when its outside check last answered with a 2xx.
  bool dead_mans_switch = false;
  std::optional<WallTime> dead_mans_switch_last_success;

  // The named monitor, when it is public or `include_private`; else null, as for a name that
  // does not exist.
  const MonitorView* find(std::string_view name, bool include_private) const {
    for (const auto& m : monitors) {
      if (m->name == name) return m->is_public || include_private ? m.get() : nullptr;
    }
    return nullptr;
  }
};

// The loop publishes, the web threads read.
using SnapshotHub = Published<Snapshot>;

// The loop's heartbeat, for /healthz and the systemd watchdog.
struct LoopHeartbeat {
  std::atomic<int64_t> mono_ms{0};
  void beat(MonoTime now) {
    mono_ms.store(
        std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count());
  }
  Duration age(MonoTime now) const {
    return Duration{
        std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() -
        mono_ms.load()};
  }
};

}  // namespace lookout
