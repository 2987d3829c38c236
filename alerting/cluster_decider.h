// The deciding node's incidents in cluster mode (docs/cluster.md#decisions). The quorum's
// decisions (QuorumReader), and the judgements of heartbeat monitors' pings
// (ClusterHeartbeats), about the monitors whose eval leases this node holds go through an
// AlertEngine, as a single node's runs do, and what it decides is written to PostgreSQL through
// the fence of each monitor's eval lease: an incident with its events and their outbox rows in
// one statement, then the monitor's state. The engine holds the open incidents of the shards
// held and nothing else: a shard gained is read from the database before its monitors are
// decided, a shard lost is dropped, and a shard whose write did not go in (the lease lost, an
// incident opened meanwhile by another node, the database away) is dropped and read again, so
// that what the database has is what stands. Incident ids are reserved from the database ahead
// of time, since notifications and ack links carry them before they are written. An
// acknowledgement taken by any node waits in ack_requests until this node, deciding its shard,
// applies it (docs/cluster.md#acknowledgements). Runs on the loop.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "alerting/cluster_heartbeats.h"
#include "alerting/incident_ids.h"
#include "alerting/incidents.h"
#include "alerting/quorum_reader.h"
#include "config/config.h"
#include "core/clock.h"
#include "core/event_loop.h"
#include "store/lease_registry.h"
#include "store/pg_acks.h"
#include "store/pg_connection.h"

namespace lookout {

class ClusterDecider {
 public:
  // The eval shards held now with their epochs (LeaseKeeper::deciding()), and the fence a
  // decision about a monitor of a shard is written under (LeaseKeeper::decision_fence()).
  using Held = QuorumReader::Held;
  using FenceOf = std::function<std::optional<LeaseFence>(int shard)>;

  // `config` has a [cluster]. `notified` runs after a write put notifications in the outbox,
  // so that the sender claims them at once rather than at its next look.
  ClusterDecider(EventLoop& loop, PgConnection& pg, const Clock& clock,
                 std::shared_ptr<const Config> config, Held held, FenceOf fence_of,
                 std::function<void()> notified, Duration every = Duration{1000});
  ~ClusterDecider();
  ClusterDecider(const ClusterDecider&) = delete;
  ClusterDecider& operator=(const ClusterDecider&) = delete;

  // `ack_key` signs the ack links of its notifications: the cluster's (ClusterNode::ack_key),
  // known once the node joined.
  void start(const std::string& ack_key);
  // No more decisions (at SIGTERM, before the node's leases go): what was decided is written
  // or refused by the fences, and the next decider carries on from the database.
  void stop();
  // The open incidents of the shards this node decides, as written.
  const AlertEngine& engine() const { return engine_; }
  // The maintenance windows made through the API, as the node last read them: a monitor inside
  // one opens no incident, as on a single node. The config's blocks stay as configured.
  void set_maintenance(std::vector<MaintenanceRecord> windows) {
    engine_.maintenance().load(std::move(windows));
    windows_known_ = true;
  }
  bool windows_known() const { return windows_known_; }
  // Adds to each change what else its events send (the status page's subscribers' mails), so
  // that they are written with it.
  void add_mails_with(std::function<void(AlertChanges&)> add_mails) {
    add_mails_ = std::move(add_mails);
  }
  // Before start(): a decision that may open an incident waits for the first set_maintenance(),
  // for at most `at_most` after start. A node started inside a window made through the API
  // would otherwise page for a monitor in it before its first read of the windows.
  void await_windows(Duration at_most) { await_windows_ = at_most; }
  const QuorumReader& reader() const { return reader_; }
  const ClusterHeartbeats& heartbeats() const { return heartbeats_; }
  // Why the last write or read failed; empty since one went in.
  const std::string& last_error() const { return last_error_; }

 private:
  struct Pending {
    const MonitorConfig* monitor = nullptr;
    QuorumDecision decision;
  };
  ClusterHeartbeats::Hooks heartbeat_hooks();
  void tick();
  void load(const std::vector<int>& shards, const std::map<int, int64_t>& epochs);
  void on_loaded(const PgResult& answer, const std::map<int, int64_t>& epochs);
  // The quorum's decisions come only when a monitor's state changes, while a single node's
  // engine sees every run: its flap window counts runs, a maintenance window that ends opens
  // the incident of a monitor still down at the next run, and a state down without an incident
  // (its decider died between the two writes) opens one. So each monitor of a loaded shard is
  // also shown its state unchanged once per interval, as a run would.
  void observe();
  void decided(const MonitorConfig& m, const QuorumDecision& d);
  void apply(const MonitorConfig& m, const QuorumDecision& d);
  void apply_pending();
  // The acknowledgements waiting for the shards loaded, each applied and then deleted under
  // its shard's fence.
  void take_acks();
  void acknowledge(const AckRequestRow& request);
  void ack_done(int shard, int64_t incident_id);
  // `then` runs once each incident of `changes` is written.
  void write(AlertChanges changes, const std::function<void()>& then = {});
  // The monitor's state as its quorum has it now, to be written; nullopt while not decided here.
  std::optional<StateRow> state_row(const MonitorConfig& m) const;
  void put_state(const MonitorConfig& m, int shard);
  // A write about `shard` did not go in: what this node thought of it is dropped and read again.
  void reset(int shard, const std::string& why);
  void failed(const std::string& error);

  PgConnection& pg_;
  const Clock& clock_;
  std::shared_ptr<const Config> config_;
  Held held_;
  FenceOf fence_of_;
  std::function<void()> notified_;
  std::function<void(AlertChanges&)> add_mails_;
  Duration every_;
  AlertEngine engine_;
  QuorumReader reader_;
  // The heartbeat monitors of the shards loaded: their pings and deadlines judged here, each
  // change then decided as a quorum's is.
  ClusterHeartbeats heartbeats_;
  Timer timer_;
  std::map<int, int64_t> loaded_;  // shards whose incidents the engine holds, with epochs
  std::set<int> loading_;          // shards whose incidents are being read
  std::map<std::string, WallTime> observed_;  // when each monitor was last shown to the engine
  std::map<std::string, Pending> pending_;    // waiting for their shard's incidents or an id
  IncidentIds ids_;
  bool reading_acks_ = false;
  bool stopped_ = false;
  bool windows_known_ = false;
  Duration await_windows_{0};
  MonoTime windows_until_{};  // decisions that may open an incident wait until then at most
  bool told_windows_ = false;
  std::string last_error_;
  // Tells an answer that arrives after destruction to do nothing.
  std::shared_ptr<ClusterDecider*> self_;
};

}  // namespace lookout
