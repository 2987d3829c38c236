// What `lookout run` does in cluster mode beside probing (docs/cluster.md): the node itself
// (ClusterNode: its database, leases, results and spool), which monitors it probes now, each
// location's judgement of the runs made here and its report, and the decisions about the shards
// it decides. The daemon's loop owns it: the daemon asks it which monitors to probe and hands
// it each run it made.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "alerting/cluster_decider.h"
#include "alerting/cluster_sender.h"
#include "alerting/cluster_status.h"
#include "alerting/location_judge.h"
#include "alerting/maintenance.h"
#include "alerting/silent_watch.h"
#include "config/config.h"
#include "core/clock.h"
#include "core/curl_bridge.h"
#include "core/event_loop.h"
#include "daemon/cluster_baselines.h"
#include "daemon/cluster_node.h"
#include "daemon/cluster_posts.h"
#include "daemon/cluster_subscribers.h"
#include "probes/heartbeat.h"
#include "store/location_reporter.h"
#include "store/pg_reads.h"
#include "store/pg_results.h"
#include "store/pg_roller.h"
#include "store/pg_summaries.h"
#include "store/storage.h"
#include "web/snapshot.h"

namespace lookout {

class ClusterRun final : public StorageReader {
 public:
  // `config` has a [cluster]. Opens the spool (before the loop runs).
  ClusterRun(EventLoop& loop, CurlBridge& curl, const Clock& clock,
             std::shared_ptr<const Config> config, std::string version);
  ~ClusterRun() override;
  ClusterRun(const ClusterRun&) = delete;
  ClusterRun& operator=(const ClusterRun&) = delete;

  // Joins the cluster once the database answers (ClusterNode::start); `ready` runs once, with an
  // empty string once joined, else with what the operator must fix.
  void start(std::function<void(const std::string& error)> ready);
  // Sends what is being sent and reports it, then hands the node's work over
  // (ClusterNode::stop); `done` runs once, on the loop.
  void stop(std::function<void()> done);

  // Whether this node probes `monitor` now: it holds the probe lease of its shard in this
  // location, and has read where the location's judgement of it stood (and, for a dns monitor
  // with on_change = "alert", the location's baselines since it took the lease); or PostgreSQL is
  // unreachable and the shard's lease ran out meanwhile (the node probes on what it probed, and
  // its results wait in the spool).
  bool probes(const std::string& monitor) const;
  // A run made here, as the evaluator judged it: its row goes to the results, and the run to the
  // location's judgement, whose report the deciding node counts.
  void add_run(const MonitorConfig& m, ResultRow row);

  // An acknowledgement taken here (a link, the API, a provider's callback), recorded for the
  // node deciding its incident, which applies it within a second or so. `done` runs once, on
  // the loop, with what the database answered; nullopt when it could not be asked (not joined,
  // or the database is away) or the statement failed (it may have been recorded all the same).
  void ask_ack(int64_t incident_id, const std::string& by,
               std::function<void(std::optional<AckAsked>)> done);

  // A heartbeat's ping taken here, recorded for the node deciding the monitor, which judges it
  // within a second or so (docs/cluster.md#heartbeats). `done` runs once, on the loop: true
  // once PostgreSQL committed it; false when it could not be asked (not joined, or the
  // database is away) or the statement failed.
  void take_ping(const std::string& monitor, const Ping& ping, std::function<void(bool)> done);
  // What the deciding nodes kept of each heartbeat monitor (its last pings and message), read
  // every kHeartbeatsEvery for the page and API; `heartbeat_reads()` counts the reads.
  const std::map<std::string, HeartbeatMemory>& heartbeats() const { return heartbeats_; }
  uint64_t heartbeat_reads() const { return heartbeat_reads_; }

  ClusterNode& node() { return node_; }
  const ClusterDecider& decider() const { return decider_; }
  const ClusterSender& sender() const { return sender_; }
  // Why /healthz answers 503, from any thread, as publish_health() last saw it: the database
  // unreachable, or the node not joined yet; nullopt when neither.
  std::optional<std::string> unreachable() const;

  // The nodes as last read, every kViewEvery, with this node's storage and spool: nullopt
  // before the first read. `view_reads()` counts the reads, so the daemon knows when its
  // snapshot is behind.
  const std::optional<Snapshot::Cluster>& view() const { return view_; }
  uint64_t view_reads() const { return view_reads_; }
  // What the cluster decided of every monitor, for the page and the API, read every second:
  // nullopt before the first read answered; `status_reads()` counts the reads.
  const std::optional<ClusterStatus>& status() const { return status_; }
  uint64_t status_reads() const { return status_reads_; }

  // The maintenance windows made through the API, as this node knows them: read from
  // PostgreSQL every kMaintenanceEvery, and changed at once by a change made here. `windows`
  // gets the whole list on the loop whenever it changes, as does the decider's engine.
  void on_maintenance(std::function<void(const std::vector<MaintenanceRecord>&)> windows);
  // A window that passed check_maintenance, written to PostgreSQL, which numbers it. `done` runs
  // once, on the loop, once the list has the window (kDone with its id), or with kUnavailable
  // saying what failed.
  void add_maintenance(MaintenanceRecord window, std::function<void(MaintenanceChange)> done);
  // The window `id` deleted: kDone with the window, kUnknown when there is none, or
  // kUnavailable; likewise.
  void remove_maintenance(int64_t id, std::function<void(MaintenanceChange)> done);

  // The status page's posts, shared by the nodes; started once the node joined.
  ClusterPosts& posts() { return posts_; }
  void on_posts(std::function<void(const std::vector<PostRecord>&)> posts);
  // The dns monitors' baselines of this node's location, likewise; `baselines` gets them all
  // whenever they changed.
  ClusterBaselines& baselines() { return baselines_; }
  void on_baselines(std::function<void(const std::map<std::string, LocationBaseline>&)> baselines) {
    on_baselines_ = std::move(baselines);
  }
  // The status page's subscribers, likewise; `changed` runs whenever their book changed.
  ClusterSubscribers& subscribers() { return subscribers_; }
  void on_subscribers(std::function<void()> changed) { on_subscribers_ = std::move(changed); }

  // What the web threads read: incidents and history from PostgreSQL on connections of their
  // own; the summaries as PgSummaries last published them.
  const SummaryCache& summaries() const override { return summaries_; }
  StoreHealth health() const override;
  // On the loop: what health() answers, as the node has it now.
  void publish_health();
  const std::string& where() const override { return where_; }
  // nullptr while the node cannot reach the database or has not joined (the schema may not be
  // this version's yet).
  std::unique_ptr<StorageReads> reads() override;

 private:
  // The results' partitions of the next days made, and those past the raw retention dropped
  // once every shard has rolled them up: at joining, then every hour (every node does it; the
  // statements take a lock and are idempotent).
  void keep_partitions();
  void tell_held_back(const PgResult& answer);
  void read_view();
  void on_leases(const LeaseChanges& changes);
  void restore(const std::vector<int>& shards);
  void on_restored(const PgResult& answer, const std::map<int, int64_t>& asked);
  void read_maintenance();
  void read_heartbeats();
  // The list as read or changed here, handed on when it differs from what was handed on.
  void keep_maintenance(std::vector<MaintenanceRecord> windows);
  // Why a change of `what` cannot be sent now (the node has not joined, or its connection is
  // down), as the API answers it; nullopt when it can.
  std::optional<std::string> maintenance_unsendable(const char* what) const;
  // The answer to a change whose statement failed or answered in a shape this lookout does not
  // know.
  MaintenanceChange maintenance_failed(const PgResult& answer, const char* what) const;

  const Clock& clock_;
  std::shared_ptr<const Config> config_;
  ClusterNode node_;
  std::string where_;
  SummaryCache summaries_;
  PgReadPool read_pool_;
  // Written on the loop, read by web threads for the metrics.
  mutable std::mutex health_mu_;
  StoreHealth health_;
  std::optional<std::string> unreachable_ = "storage: postgresql unreachable";
  LocationReporter reporter_;
  ClusterSender sender_;
  ClusterDecider decider_;
  // Meta-incidents of silent locations, from each read of the status below.
  SilentLocationWatch silent_;
  // Rolls up the shards this node decides, on a connection of its own: a step may wait a
  // moment for the shard's rollup lock (a batch of another node writing), and a lease renewal
  // must not wait behind it.
  PgConnection roll_pg_;
  PgRoller roller_;
  // The page's reads go on a connection of their own: a lease renewal never waits behind one.
  PgConnection status_pg_;
  ClusterStatusReader status_reader_;
  std::optional<ClusterStatus> status_;
  uint64_t status_reads_ = 0;
  // The page's uptime figures and bars, on the page's connection too.
  PgSummaries summary_reader_;
  // The maintenance windows made through the API, read and written on the page's connection
  // too: one statement at a time, in order, so a read sent before a change made here answers
  // before it, and one sent after sees it.
  Timer maintenance_timer_;
  bool maintenance_in_flight_ = false;
  std::vector<MaintenanceRecord> maintenance_;
  std::function<void(const std::vector<MaintenanceRecord>&)> on_maintenance_;
  std::string maintenance_error_;  // the last read failure told
  // The posts, read and written on the page's connection too.
  ClusterPosts posts_;
  std::function<void(const std::vector<PostRecord>&)> on_posts_;
  // The dns baselines, read and written on the page's connection too. The monitors that keep
  // one are not probed under a lease before a read of the location's baselines sent after the
  // lease was gained has answered (that read's number, by shard).
  ClusterBaselines baselines_;
  std::function<void(const std::map<std::string, LocationBaseline>&)> on_baselines_;
  std::set<std::string> baseline_monitors_;
  std::map<int, uint64_t> baseline_reads_;
  // The subscribers, read and written on the page's connection too.
  ClusterSubscribers subscribers_;
  std::function<void()> on_subscribers_;
  // The heartbeats' memories for the page, read on the page's connection too.
  std::vector<std::string> heartbeat_names_;
  Timer heartbeat_timer_;
  bool heartbeats_in_flight_ = false;
  std::map<std::string, HeartbeatMemory> heartbeats_;
  uint64_t heartbeat_reads_ = 0;
  std::string ping_error_;  // why the last ping was not recorded, as told; empty once one was
  // Probe shards held (with the epoch) whose judgements are restored: only their monitors run.
  std::map<int, int64_t> probing_;
  std::map<int, int64_t> restoring_;
  std::map<std::string, LocationJudge> judges_;  // of the monitors of probing_
  // Probe shards whose leases ran out while the connection was down. Without them a node would
  // stop probing a lease after the database went away, and no node could take the work over
  // while it is away: the location would go unprobed. Their runs are written (through the
  // spool) but judge nothing, since the location's report is written under the lease.
  std::set<int> stranded_;
  // The connection's connects() when they were stranded: once it connected again they no
  // longer count, even if no lease changed (which would clear them) before the next outage.
  uint64_t stranded_connects_ = 0;
  Timer retry_;                // of a restore that failed
  std::string restore_error_;  // the last one told
  Timer partitions_;
  Timer view_timer_;
  bool view_in_flight_ = false;
  std::optional<Snapshot::Cluster> view_;
  uint64_t view_reads_ = 0;
  std::string partitions_error_;  // the last one told
  std::string held_back_told_;    // why raw days past keep_raw are kept, as last logged
  // Tells an answer that arrives after destruction to do nothing.
  std::shared_ptr<ClusterRun*> self_;
};

}  // namespace lookout
