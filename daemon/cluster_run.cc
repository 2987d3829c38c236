#include "daemon/cluster_run.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "config/kinds/dns_spec.h"
#include "daemon/cluster_changes.h"
#include "store/cluster_view.h"
#include "store/lease_plan.h"
#include "store/node_registry.h"
#include "store/pg_decisions.h"
#include "store/pg_heartbeats.h"
#include "store/pg_maintenance.h"

namespace lookout {
namespace {

// A location's report is carried on however old it is: the streak and since of a location
// that was silent for a while still say more than a judge that starts over, whose first run
// would set the location's state on its own.
constexpr Duration kCarriedWithin{30LL * 86'400'000};
constexpr Duration kPartitionsEvery{3'600'000};
// How often the nodes are read for /api/v1/cluster and the metrics.
constexpr Duration kViewEvery{2000};
// How often the maintenance windows made through the API are read: a window made on another
// node is in effect here within this.
constexpr Duration kMaintenanceEvery{2000};
// The page's heartbeats read: their deciding node keeps each ping within about a second.
constexpr Duration kHeartbeatsEvery{1000};
// Windows that ended longer ago than this are not read: they change nothing. A day leaves room
// for any node's clock.
constexpr Duration kMaintenanceEndedWithin{86'400'000};

std::vector<std::string> monitor_names(const Config& config) {
  std::vector<std::string> out;
  out.reserve(config.monitors.size());
  for (const MonitorConfig& m : config.monitors) out.push_back(m.name);
  return out;
}

PgRollerOptions roller_options(const Config& config) {
  // As the single node's housekeeping: a run is stored under its start and may be written up
  // to its timeout and the writer's batching later.
  Duration longest{0};
  for (const MonitorConfig& m : config.monitors) longest = std::max(longest, m.timeout);
  PgRollerOptions o;
  o.grace_ms = (longest + kStorageFlushEvery + Duration{5000}).count();
  o.keep_minutes_ms = config.storage.keep_minutes.count();
  o.keep_hours_ms = config.storage.keep_hours.count();
  o.keep_days_ms = config.storage.keep_days.count();
  return o;
}

}  // namespace

ClusterRun::ClusterRun(EventLoop& loop, CurlBridge& curl, const Clock& clock,
                       std::shared_ptr<const Config> config, std::string version)
    : clock_(clock),
      config_(std::move(config)),
      node_(loop, clock, *config_, std::move(version)),
      where_(fmt::format("PostgreSQL at {}", node_.connection().server())),
      read_pool_(config_->cluster->dsn, config_->redactor),
      reporter_(loop, node_.connection(), node_.node(), node_.location(),
                [this](int shard) -> std::optional<int64_t> {
                  const auto held = probing_.find(shard);
                  if (held == probing_.end()) return std::nullopt;
                  return held->second;
                }),
      sender_(loop, curl, node_.connection(), clock, node_.node(),
              ClusterSender::leases_of(node_.leases())),
      decider_(
          loop, node_.connection(), clock, config_, [this] { return node_.leases().deciding(); },
          [this](int shard) { return node_.leases().decision_fence(shard); },
          [this] { sender_.poke(); }),
      silent_(
          node_.connection(), clock, config_, [this] { return node_.leases().deciding(); },
          [this](int shard) { return node_.leases().decision_fence(shard); },
          [this] { sender_.poke(); }),
      roll_pg_(loop, config_->cluster->dsn, config_->redactor),
      roller_(
          loop, roll_pg_, monitor_names(*config_), [this] { return node_.leases().deciding(); },
          [this](int shard) { return node_.leases().decision_fence(shard); },
          roller_options(*config_)),
      status_pg_(loop, config_->cluster->dsn, config_->redactor),
      status_reader_(loop, status_pg_, clock, *config_,
                     [this](const ClusterStatus& status) {
                       status_ = status;
                       ++status_reads_;
                       silent_.observe(status);
                     }),
      summary_reader_(loop, status_pg_, clock, monitor_names(*config_), summaries_),
      maintenance_timer_(loop),
      posts_(loop, status_pg_, node_),
      baselines_(loop, status_pg_, node_),
      subscribers_(loop, clock, status_pg_, node_, config_),
      heartbeat_timer_(loop),
      retry_(loop),
      partitions_(loop),
      view_timer_(loop),
      self_(std::make_shared<ClusterRun*>(this)) {
  node_.leases().on_change([this](const LeaseChanges& changes) { on_leases(changes); });
  // Subscribers hear of a public monitor's incident from the node deciding it.
  decider_.add_mails_with(
      [this](AlertChanges& changes) { subscribers_.add_incident_mails(changes); });
  for (const MonitorConfig& m : config_->monitors) {
    if (!m.spec->probed()) heartbeat_names_.push_back(m.name);
    if (baseline_spec(m) != nullptr) baseline_monitors_.insert(m.name);
  }
}

ClusterRun::~ClusterRun() { *self_ = nullptr; }

void ClusterRun::start(std::function<void(const std::string& error)> ready) {
  node_.start([this, ready = std::move(ready)](const std::string& error) {
    if (error.empty()) {
      reporter_.start();
      // Links are signed with the cluster's key, read while joining.
      sender_.configure(*config_, node_.ack_key());
      // Decisions that may page wait for the first read of the windows, a few of its turns at
      // most.
      decider_.await_windows(5 * kMaintenanceEvery);
      decider_.start(node_.ack_key());
      roll_pg_.start();
      roller_.start();
      sender_.start();
      status_pg_.start();
      status_reader_.start();
      summary_reader_.start();
      read_maintenance();
      maintenance_timer_.start_repeating(kMaintenanceEvery, [this] { read_maintenance(); });
      posts_.start(on_posts_);
      if (!baseline_monitors_.empty()) baselines_.start(on_baselines_);
      subscribers_.start(on_subscribers_, [this](const std::string& address) {
        sender_.cancel_subscriber_mail(address);
      });
      keep_partitions();
      partitions_.start_repeating(kPartitionsEvery, [this] { keep_partitions(); });
      read_view();
      view_timer_.start_repeating(kViewEvery, [this] { read_view(); });
      if (!heartbeat_names_.empty()) {
        read_heartbeats();
        heartbeat_timer_.start_repeating(kHeartbeatsEvery, [this] { read_heartbeats(); });
      }
    }
    ready(error);
  });
}

void ClusterRun::ask_ack(int64_t incident_id, const std::string& by,
                         std::function<void(std::optional<AckAsked>)> done) {
  if (!node_.joined()) {
    done(std::nullopt);
    return;
  }
  // On the page's connection, as the maintenance windows' writes: the ask may wait a moment for
  // the incident's row lock, and a lease renewal must not wait behind it.
  const PgStatement s = PgAcks::ask(incident_id, by, node_.node());
  status_pg_.query(s.sql, s.params, [incident_id, done = std::move(done)](const PgResult& answer) {
    if (!answer.ok()) {
      spdlog::warn(
          "cluster: the acknowledgement of incident {} was not recorded ({}); the one who "
          "asked is told it may not be and to try again",
          incident_id, answer.error);
    }
    done(PgAcks::asked(answer));
  });
}

void ClusterRun::take_ping(const std::string& monitor, const Ping& ping,
                           std::function<void(bool)> done) {
  if (!node_.joined()) {
    done(false);
    return;
  }
  // On the node's own connection, not the page's: the job waits for the answer (5 s at most,
  // then 503 and it sends the ping again), and one insert of a row no one locks is quick beside
  // the page's reads, which would hold it up.
  const PgStatement s = PgHeartbeats::take(monitor, ping, node_.node());
  node_.connection().query(
      s.sql, s.params, [self = self_, monitor, done = std::move(done)](const PgResult& answer) {
        const bool taken = PgHeartbeats::taken(answer).has_value();
        ClusterRun* r = *self;
        if (r != nullptr) {
          // Told once until a ping goes in again: while the database is away every ping fails
          // alike, and jobs may send thousands.
          const std::string error = taken ? "" : answer_failure(answer);
          if (!error.empty() && error != r->ping_error_) {
            spdlog::warn(
                "cluster: a ping of heartbeat {} was not recorded ({}); its job is answered 503 "
                "and may send it again; the pings that fail alike after it are not logged",
                monitor, error);
          } else if (taken && !r->ping_error_.empty()) {
            spdlog::info("cluster: heartbeat pings are recorded again");
          }
          r->ping_error_ = error;
        }
        done(taken);
      });
}

void ClusterRun::read_heartbeats() {
  if (heartbeats_in_flight_) return;
  heartbeats_in_flight_ = true;
  const PgStatement s = PgHeartbeats::kept(heartbeat_names_);
  status_pg_.query(s.sql, s.params, [self = self_](const PgResult& answer) {
    ClusterRun* r = *self;
    if (r == nullptr) return;
    r->heartbeats_in_flight_ = false;
    // On a failure the last read stands: /healthz says when the database is away.
    auto kept = PgHeartbeats::memories(answer);
    if (!kept) return;
    std::map<std::string, HeartbeatMemory> now(kept->begin(), kept->end());
    if (now == r->heartbeats_) return;
    r->heartbeats_ = std::move(now);
    ++r->heartbeat_reads_;
  });
}

void ClusterRun::stop(std::function<void()> done) {
  // Nothing more is decided or read; the location's last reports and the outcomes of the
  // notifications being sent go in before the leases are released and the connection closes.
  decider_.stop();
  silent_.stop();
  roller_.stop();
  roll_pg_.stop();
  status_reader_.stop();
  summary_reader_.stop();
  maintenance_timer_.stop();
  posts_.stop();
  baselines_.stop();
  subscribers_.stop();
  heartbeat_timer_.stop();
  status_pg_.stop();
  view_timer_.stop();
  partitions_.stop();
  retry_.stop();
  auto remaining = std::make_shared<int>(2);
  auto one_done = [this, remaining, done = std::move(done)]() mutable {
    if (--*remaining == 0) node_.stop(std::move(done));
  };
  sender_.stop(one_done);
  reporter_.stop(one_done);
}

bool ClusterRun::probes(const std::string& monitor) const {
  const int shard = shard_of(monitor);
  if (probing_.count(shard) > 0) {
    if (baseline_monitors_.count(monitor) == 0) return true;
    const auto read = baseline_reads_.find(shard);
    return read != baseline_reads_.end() && baselines_.read_since(read->second);
  }
  return !node_.connection().connected() && stranded_.count(shard) > 0 &&
         stranded_connects_ == node_.connection().connects();
}

void ClusterRun::add_run(const MonitorConfig& m, ResultRow row) {
  const LocationRun run{row.outcome, row.cause, row.timings.total_us, from_unix_ms(row.t_ms)};
  node_.results().add(std::move(row));
  const auto judge = judges_.find(m.name);
  // The shard went while the run was out: the node that took it reports the location now.
  if (judge == judges_.end()) return;
  const State before = judge->second.report().state;
  if (!judge->second.add_run(run, m.fail_after, m.recover_after)) return;
  const LocationReport& report = judge->second.report();
  if (report.state != before && before != State::kUnknown) {
    spdlog::info("monitor {}: {} from {} (was {}){}{}", m.name, to_string(report.state),
                 node_.location(), to_string(before), report.cause.empty() ? "" : ": ",
                 report.cause);
  }
  reporter_.report(report_row(m.name, node_.location(), report));
}

std::optional<std::string> ClusterRun::unreachable() const {
  std::lock_guard lock(health_mu_);
  return unreachable_;
}

void ClusterRun::keep_partitions() {
  auto told = [self = self_](const PgResult& answer) {
    ClusterRun* r = *self;
    if (r == nullptr || answer.ok() || answer.error == r->partitions_error_) return;
    r->partitions_error_ = answer.error;
    spdlog::warn(
        "cluster: cannot make or drop the results' partitions in PostgreSQL: {}; tried again in "
        "an hour (rows of days without a partition make theirs as they are written)",
        answer.error);
  };
  const PgStatement make = make_result_partitions();
  node_.connection().query(make.sql, make.params, told);
  const PgStatement drop = drop_old_result_partitions(config_->storage.keep_raw);
  node_.connection().query(drop.sql, drop.params, told);
  const PgStatement held = held_back_result_partitions(config_->storage.keep_raw);
  node_.connection().query(held.sql, held.params, [self = self_](const PgResult& answer) {
    if (ClusterRun* r = *self; r != nullptr) r->tell_held_back(answer);
  });
}

void ClusterRun::tell_held_back(const PgResult& answer) {
  const auto held = held_back_days(answer);
  if (!held) return;  // the drop's own failure is told above
  if (held->days == 0) {
    held_back_told_.clear();
    return;
  }
  const std::string text =
      held->shards < kLeaseShards
          ? fmt::format(
                "cluster: keeping {} days of raw results past [storage] keep_raw: {} of {} shards "
                "have no rollups yet (each is rolled up by the node deciding it; check that the "
                "nodes run this lookout version and reach PostgreSQL)",
                held->days, kLeaseShards - held->shards, kLeaseShards)
          : fmt::format(
                "cluster: keeping {} days of raw results past [storage] keep_raw: a shard's "
                "rollups reach only {} (dropped once every shard has rolled them up; check the "
                "log of the node deciding it)",
                held->days, rfc3339(from_unix_ms(held->folded_ms.value_or(0))));
  if (text == held_back_told_) return;
  held_back_told_ = text;
  spdlog::warn("{}", text);
}

void ClusterRun::read_view() {
  if (view_in_flight_) return;
  view_in_flight_ = true;
  const PgStatement nodes = NodeRegistry::list(config_->cluster->lease);
  node_.connection().query(nodes.sql, nodes.params, [self = self_](const PgResult& answer) {
    ClusterRun* r = *self;
    if (r == nullptr) return;
    auto rows = NodeRegistry::nodes(answer);
    if (!rows) {
      r->view_in_flight_ = false;
      return;  // the view stays as last read; the health says why the database is away
    }
    const PgStatement held = LeaseRegistry::list();
    r->node_.connection().query(held.sql, held.params,
                                [self, rows = std::move(*rows)](const PgResult& leases_answer) {
                                  ClusterRun* run = *self;
                                  if (run == nullptr) return;
                                  run->view_in_flight_ = false;
                                  const auto leases = LeaseRegistry::rows(leases_answer);
                                  if (!leases) return;
                                  Snapshot::Cluster view;
                                  view.nodes = cluster_nodes(rows, *leases, run->config_->monitors);
                                  view.read_at = run->clock_.wall();
                                  run->view_ = std::move(view);
                                  ++run->view_reads_;
                                });
  });
}

void ClusterRun::on_maintenance(
    std::function<void(const std::vector<MaintenanceRecord>&)> windows) {
  on_maintenance_ = std::move(windows);
}

void ClusterRun::on_posts(std::function<void(const std::vector<PostRecord>&)> posts) {
  on_posts_ = std::move(posts);
}

void ClusterRun::read_maintenance() {
  if (maintenance_in_flight_) return;
  maintenance_in_flight_ = true;
  const PgStatement s = PgMaintenance::list(kMaintenanceEndedWithin);
  status_pg_.query(s.sql, s.params, [self = self_](const PgResult& answer) {
    ClusterRun* r = *self;
    if (r == nullptr) return;
    r->maintenance_in_flight_ = false;
    auto windows = PgMaintenance::windows(answer);
    if (!windows) {
      // The windows last read stay in effect; /healthz says when the database is away.
      const std::string error = answer_failure(answer);
      if (error != r->maintenance_error_) {
        r->maintenance_error_ = error;
        spdlog::warn(
            "cluster: cannot read the maintenance windows made through the API from PostgreSQL "
            "({}); those last read stay in effect, read again every {} s",
            error, kMaintenanceEvery.count() / 1000);
      }
      return;
    }
    r->maintenance_error_.clear();
    r->keep_maintenance(std::move(*windows));
  });
}

void ClusterRun::keep_maintenance(std::vector<MaintenanceRecord> windows) {
  std::sort(windows.begin(), windows.end(),
            [](const MaintenanceRecord& a, const MaintenanceRecord& b) { return a.id < b.id; });
  // The first read counts even when it finds none: the decider waits for it.
  if (windows == maintenance_ && decider_.windows_known()) return;
  maintenance_ = std::move(windows);
  decider_.set_maintenance(maintenance_);
  if (on_maintenance_) on_maintenance_(maintenance_);
}

std::optional<std::string> ClusterRun::maintenance_unsendable(const char* what) const {
  return change_unsendable(node_, status_pg_, "the window", what);
}

MaintenanceChange ClusterRun::maintenance_failed(const PgResult& answer, const char* what) const {
  MaintenanceChange c;
  c.code = MaintenanceChange::Code::kUnavailable;
  c.error = change_failed(answer, status_pg_, "the window", what,
                          fmt::format("GET /api/v1/maintenance shows which within {} s",
                                      kMaintenanceEvery.count() / 1000));
  return c;
}

void ClusterRun::add_maintenance(MaintenanceRecord window,
                                 std::function<void(MaintenanceChange)> done) {
  if (auto why = maintenance_unsendable("made")) {
    done(MaintenanceChange{MaintenanceChange::Code::kUnavailable, std::move(*why), {}});
    return;
  }
  const PgStatement s = PgMaintenance::insert(window);
  status_pg_.query(s.sql, s.params,
                   [self = self_, window = std::move(window),
                    done = std::move(done)](const PgResult& answer) mutable {
                     ClusterRun* r = *self;
                     if (r == nullptr) return;
                     const auto id = PgMaintenance::inserted_id(answer);
                     if (!id) {
                       done(r->maintenance_failed(answer, "made"));
                       return;
                     }
                     window.id = *id;
                     std::vector<MaintenanceRecord> windows = r->maintenance_;
                     windows.push_back(window);
                     r->keep_maintenance(std::move(windows));
                     done(MaintenanceChange{MaintenanceChange::Code::kDone, {}, window});
                   });
}

void ClusterRun::remove_maintenance(int64_t id, std::function<void(MaintenanceChange)> done) {
  if (auto why = maintenance_unsendable("deleted")) {
    done(MaintenanceChange{MaintenanceChange::Code::kUnavailable, std::move(*why), {}});
    return;
  }
  const PgStatement s = PgMaintenance::remove(id);
  status_pg_.query(
      s.sql, s.params, [self = self_, id, done = std::move(done)](const PgResult& answer) {
        ClusterRun* r = *self;
        if (r == nullptr) return;
        const auto removed = PgMaintenance::removed(answer);
        if (!removed) {
          done(r->maintenance_failed(answer, "deleted"));
          return;
        }
        std::vector<MaintenanceRecord> windows = r->maintenance_;
        std::erase_if(windows, [id](const MaintenanceRecord& w) { return w.id == id; });
        r->keep_maintenance(std::move(windows));
        if (!*removed) {
          done(MaintenanceChange{MaintenanceChange::Code::kUnknown, {}, {}});
          return;
        }
        done(MaintenanceChange{MaintenanceChange::Code::kDone, {}, **removed});
      });
}

std::unique_ptr<StorageReads> ClusterRun::reads() {
  if (unreachable()) return nullptr;
  return read_pool_.reads();
}

StoreHealth ClusterRun::health() const {
  std::lock_guard lock(health_mu_);
  return health_;
}

void ClusterRun::publish_health() {
  StoreHealth h;
  const PgResultWriter& w = node_.results();
  h.ok = node_.joined() && node_.connection().connected() && w.last_error().empty();
  h.error =
      !node_.connection().last_error().empty() ? node_.connection().last_error() : w.last_error();
  if (h.ok) h.error.clear();
  h.rows_written = w.written();
  h.rows_dropped = w.dropped();
  h.backlog = w.waiting();
  std::optional<std::string> unreachable;
  if (!node_.connection().connected()) {
    unreachable = "storage: postgresql unreachable";
  } else if (!node_.joined()) {
    unreachable =
        "cluster: this node has not joined yet (migrating the schema or comparing "
        "its monitors with the live nodes')";
  }
  std::lock_guard lock(health_mu_);
  health_ = std::move(h);
  unreachable_ = std::move(unreachable);
}

void ClusterRun::on_leases(const LeaseChanges& changes) {
  // A change heard over a live connection is the cluster's word again: what this node probed
  // while the database was away no longer counts.
  const bool away = !node_.connection().connected();
  if (!away) stranded_.clear();
  for (const KeptLease& l : changes.lost) {
    if (l.work != LeaseWork::kProbe) continue;
    if (away) {
      stranded_.insert(l.shard);
      stranded_connects_ = node_.connection().connects();
    }
    probing_.erase(l.shard);
    restoring_.erase(l.shard);
    std::erase_if(judges_, [&](const auto& j) { return shard_of(j.first) == l.shard; });
  }
  std::vector<int> gained;
  for (const KeptLease& l : changes.gained) {
    if (l.work != LeaseWork::kProbe) continue;
    restoring_[l.shard] = l.epoch;
    gained.push_back(l.shard);
    if (!baseline_monitors_.empty()) baseline_reads_[l.shard] = baselines_.ask_fresh();
  }
  if (!gained.empty()) restore(gained);
}

void ClusterRun::restore(const std::vector<int>& shards) {
  std::map<int, int64_t> asked;
  for (const int s : shards) asked.emplace(s, restoring_.at(s));
  const PgStatement s = PgDecisions::location_reports(shards, kCarriedWithin);
  node_.connection().query(s.sql, s.params, [self = self_, asked](const PgResult& answer) {
    if (ClusterRun* r = *self; r != nullptr) r->on_restored(answer, asked);
  });
}

void ClusterRun::on_restored(const PgResult& answer, const std::map<int, int64_t>& asked) {
  // Only the shards still held under the epoch they were asked for.
  std::vector<int> current;
  for (const auto& [shard, epoch] : asked) {
    const auto r = restoring_.find(shard);
    if (r != restoring_.end() && r->second == epoch) current.push_back(shard);
  }
  if (current.empty()) return;
  const auto rows = PgDecisions::report_rows(answer);
  if (!rows) {
    // Probing without them would judge from scratch: a single failed run would say the location
    // is down. Asked again shortly.
    spdlog::warn(
        "cluster: cannot read this location's reports of {} shards from PostgreSQL ({}); their "
        "monitors are probed once they are read",
        current.size(), answer_failure(answer));
    retry_.start(Duration{1000}, [this] {
      std::vector<int> again;
      for (const auto& shard_epoch : restoring_) again.push_back(shard_epoch.first);
      if (!again.empty()) restore(again);
    });
    return;
  }
  restore_error_.clear();
  const std::set<int> restored(current.begin(), current.end());
  for (const MonitorConfig& m : config_->monitors) {
    if (restored.count(shard_of(m.name)) > 0) judges_.insert_or_assign(m.name, LocationJudge());
  }
  for (const LocationReportRow& row : *rows) {
    if (row.state.location != node_.location() ||
        restored.count(shard_of(row.state.monitor)) == 0 || judges_.count(row.state.monitor) == 0) {
      continue;
    }
    judges_.insert_or_assign(row.state.monitor, LocationJudge(report_of(row)));
  }
  for (const int s : current) {
    probing_[s] = restoring_.at(s);
    restoring_.erase(s);
  }
}

}  // namespace lookout
