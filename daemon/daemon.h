// `lookout run`: the loop thread owns every monitor, the scheduler and the probes; the store
// thread writes; the web threads read the published snapshot.
#pragma once

#include <atomic>
#include <deque>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "alerting/dispatcher.h"
#include "alerting/evaluator.h"
#include "alerting/incidents.h"
#include "alerting/posts.h"
#include "alerting/subscribers.h"
#include "config/config.h"
#include "core/curl_bridge.h"
#include "core/event_loop.h"
#include "core/scheduler.h"
#include "daemon/cluster_run.h"
#include "daemon/dead_mans_switch.h"
#include "daemon/loop_requests.h"
#include "probes/heartbeat.h"
#include "probes/probe.h"
#include "store/storage.h"
#include "web/server.h"
#include "web/snapshot.h"

namespace lookout {

class Daemon {
 public:
  Daemon(Config config, const Clock& clock);
  ~Daemon();
  // Runs until SIGTERM or SIGINT. Returns the process exit code.
  int run();

 private:
  struct Monitor {
    // The config the monitor was made from: its own entry is used in place, and kept alive by
    // `owner` also after a reload (a kept monitor goes on with the entry it started with).
    Monitor(std::shared_ptr<const Config> from, const MonitorConfig& entry)
        : owner(std::move(from)), cfg(entry), eval(entry) {}
    std::shared_ptr<const Config> owner;
    const MonitorConfig& cfg;
    MonitorId id = 0;
    std::unique_ptr<Probe> probe;
    EvaluationState eval;
    std::shared_ptr<const MonitorView>
        view;  // as last published; reset when a run changes the monitor
    // A heartbeat monitor has no probe: it is judged as its pings come (daemon/pings.cc), and
    // late by a timer on its deadline.
    std::unique_ptr<HeartbeatTracker> pings;
    std::unique_ptr<Timer> ping_deadline;
  };

  void add_monitor(const std::shared_ptr<const Config>& owner, const MonitorConfig& cfg,
                   const std::map<std::string, StateRow>* stored);
  void drop_monitor(MonitorId id);
  void schedule();
  void on_result(MonitorId id, ProbeResult r);
  // Evaluates a finished run (or a heartbeat's ping or deadline), stores it and alerts.
  void judge(Monitor& m, ProbeResult r);
  // daemon/pings.cc
  void add_heartbeat(Monitor& m, const StateRow* stored);
  void arm_ping_deadline(MonitorId id);
  void drain_pings();
  void drain_cluster_pings();
  // The trackers of a cluster's node restored from what the deciding nodes kept, when read anew.
  void show_cluster_heartbeats();
  // Keeps what a heartbeat's tracker knows, in storage and for a reload, when it changed.
  void keep_heartbeat(const Monitor& m);
  void publish_ping_tokens();
  // Whether `m`'s ping token is known: its own, or derived once the key is read.
  bool ping_token_known(const Monitor& m) const;
  Secret ping_token(const Monitor& m) const;
  void log_run(const Monitor& m, const Evaluation& e) const;
  void defer_run(MonitorId id, const std::string& cause);
  void apply_scheduler_limits();
  void publish_snapshot();
  void housekeeping();
  void reload();
  void apply(Config next_config);
  void shutdown();
  void start_cluster();
  // What sends notifications: the dispatcher, or the cluster node's sender's.
  const Dispatcher* sending() const;
  // What the web threads read: the store, or the cluster node.
  StorageReader& reader();
  HealthReport health() const;
  void record(AlertChanges changes);
  void alert_tick();
  void drain_web_requests();  // what web threads queued: acks, accepts, posts, ...
 public:
  // From a web thread: asks the loop to acknowledge; waits for its answer (nullopt: no answer in
  // time).
  std::optional<AlertEngine::AckResult> request_ack(int64_t incident_id, const std::string& by);
  // From a web thread: makes a dns monitor's last answers its baseline.
  AcceptResult request_accept(const std::string& monitor);
  // From a web thread: queues a heartbeat's ping for the loop (kBehind when kMaxQueuedPings
  // wait); in cluster mode waits until the node recorded it in PostgreSQL.
  PingTaken request_ping(const std::string& monitor, Ping ping);
  // From a web thread: a new post or an update of one; waits for the loop's answer (nullopt:
  // none in time).
  std::optional<PostChange> request_post(PostCommand command);
  // From a web thread: a new maintenance window or the deletion of one; waits likewise.
  std::optional<MaintenanceChange> request_maintenance(MaintenanceCommand command);
  // From a web thread: a subscription, or a confirmation or unsubscribing by a signed link.
  std::optional<SubscriptionAnswer> request_subscription(SubscriptionCommand command);

 private:
  std::string tag(const Monitor& m) const;

  // Shared with the alert engine, which reads the routes and channels: one copy, replaced
  // whole on a reload.
  std::shared_ptr<Config> config_;
  const Clock& clock_;
  EventLoop loop_;
  CurlBridge curl_;
  ProbeContext probe_ctx_;
  Scheduler scheduler_;
  std::unique_ptr<Storage> store_;  // one node; with [cluster], cluster_ instead
  // [cluster]: this node's share of the cluster's work, through PostgreSQL (docs/cluster.md).
  std::unique_ptr<ClusterRun> cluster_;
  uint64_t cluster_view_reads_ = 0;    // the cluster view's reads the snapshot has
  uint64_t cluster_status_reads_ = 0;  // the cluster status's reads the snapshot has
  int exit_code_ = 0;
  SnapshotHub snapshots_;
  LoopHeartbeat heartbeat_;
  std::unique_ptr<WebServer> web_;

  std::unique_ptr<AlertEngine> alerts_;
  std::unique_ptr<Evaluator> evaluator_;  // judges runs with alerts_
  std::unique_ptr<Dispatcher> dispatcher_;
  std::unique_ptr<DeadMansSwitch> dead_mans_switch_;  // [heartbeat]
  std::unique_ptr<Async> commit_async_, ack_async_;
  std::atomic<uint64_t> committed_seq_{0};
  // Answers to web threads that wait for what the loop put in storage to be committed, by the
  // storage sequence number (Storage::mark) that covers it: answered on the loop, in order.
  void answer_once_committed(std::function<void()> answer);
  void answer_committed();
  std::deque<std::pair<uint64_t, std::function<void()>>> waiting_answers_;
  struct AckRequest {
    int64_t incident_id;
    std::string by;
    // Shared: in cluster mode the answer comes from the database, in a callback.
    std::shared_ptr<std::promise<std::optional<AlertEngine::AckResult>>> result;
  };
  std::mutex ack_mu_;
  std::deque<AckRequest> ack_queue_;
  // dns baselines (daemon/baselines.cc): by monitor, as stored; in cluster mode, as this node's
  // location has them.
  std::map<std::string, Baseline> baselines_;
  LoopRequests<std::string, AcceptResult> accept_requests_;  // accepts, by monitor name
  void drain_accept_requests();
  // A run's answers, kept when they make a baseline (or, in cluster mode, are new to the
  // location).
  void keep_answers(const Monitor& m, const ProbeResult& r);
  void store_baseline(const MonitorConfig& m, const std::vector<std::string>& answers);
  void apply_cluster_baselines(const std::map<std::string, LocationBaseline>& rows);
  std::map<std::string, HeartbeatMemory> heartbeat_memory_;  // by monitor, as last kept
  // Posts on the status page: the loop owns them (in cluster mode, ClusterPosts does); web
  // threads ask through post_requests_ and read the copy in the snapshot. Maintenance windows
  // likewise, kept by the alert engine.
  LoopRequests<PostCommand, PostChange> post_requests_;
  LoopRequests<MaintenanceCommand, MaintenanceChange> maintenance_requests_;
  std::optional<WallTime> maintenance_edge_;  // the next start or end of a window
  PostBook posts_;
  std::shared_ptr<const std::vector<PostRecord>> published_posts_ =
      std::make_shared<const std::vector<PostRecord>>();
  void drain_post_requests();
  void drain_cluster_posts(std::deque<LoopRequests<PostCommand, PostChange>::Request> requests);
  void drain_maintenance_requests();
  void drain_cluster_maintenance(
      std::deque<LoopRequests<MaintenanceCommand, MaintenanceChange>::Request> requests);
  // Email subscribers (daemon/subscriptions.cc): the book, owned by the loop like the posts, and
  // the key their links are signed with.
  LoopRequests<SubscriptionCommand, SubscriptionAnswer> subscription_requests_;
  SubscriberBook subscribers_;
  std::optional<MonoTime> told_subscribers_full_;  // the operator is told once an hour
  std::string subscription_key_;
  void drain_subscription_requests();
  void expire_subscriptions();
  SubscriberMailing mailing() const;
  bool is_public(const std::string& monitor) const;
  // Heartbeats: pings from the web threads, the key tokens are derived from, the monitors by
  // name, and their tokens' digests as the web threads look them up.
  static constexpr size_t kMaxQueuedPings = 100'000;
  std::mutex ping_mu_;
  std::vector<std::pair<std::string, Ping>> ping_queue_;
  // Cluster mode: pings the web threads wait on until PostgreSQL recorded them.
  LoopRequests<std::pair<std::string, Ping>, bool> cluster_pings_;
  uint64_t cluster_heartbeat_reads_ = 0;  // of ClusterRun::heartbeats() shown
  std::unique_ptr<Async> ping_async_;
  std::string heartbeat_key_;
  std::unordered_map<std::string, MonitorId> heartbeats_;
  std::shared_ptr<const Snapshot::PingTokens> ping_tokens_ =
      std::make_shared<const Snapshot::PingTokens>();
  Timer alert_timer_;

  std::unordered_map<MonitorId, std::unique_ptr<Monitor>> monitors_;
  std::vector<MonitorId> order_;  // config order, for pages and the API
  MonitorId next_id_ = 1;
  bool dirty_ = true;
  bool reloading_ = false;
  bool stopping_ = false;

  // Runs at once the descriptor limit leaves room for (set at start), and the operator's
  // warning about runs deferred for want of descriptors, at most one per kShortageWarningEvery.
  size_t descriptor_runs_ = SIZE_MAX;
  MonoTime next_shortage_warning_{};
  uint64_t deferred_since_warning_ = 0;

  Timer schedule_timer_;
  Timer heartbeat_timer_;
  Timer snapshot_timer_;
  Timer housekeeping_timer_;
  Timer watchdog_timer_;
  std::unique_ptr<Signal> sigterm_, sigint_, sighup_;
};

}  // namespace lookout
