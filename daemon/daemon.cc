#include "daemon/daemon.h"

#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>

#include <csignal>

#include "alerting/incident_log.h"
#include "config/channels/pagerduty_spec.h"
#include "config/kinds/dns_spec.h"
#include "core/crash.h"
#include "core/descriptors.h"
#include "core/random.h"
#include "core/units.h"
#include "daemon/cli.h"
#include "web/cluster_snapshot.h"

namespace lookout {
namespace {

constexpr Duration kHeartbeatEvery{500};
constexpr Duration kSnapshotEvery{200};
constexpr Duration kHousekeepingEvery{60'000};
constexpr Duration kLoopStaleAfter{2000};
constexpr Duration kStorageStaleAfter{5000};
constexpr Duration kShortageWarningEvery{10'000};

}  // namespace

Daemon::Daemon(Config config, const Clock& clock)
    : config_(std::make_shared<Config>(std::move(config))),
      clock_(clock),
      curl_(loop_, clock_),
      probe_ctx_{loop_, curl_, clock_, SourceAddress{}},
      scheduler_({config_->scheduler.max_in_flight, config_->scheduler.max_per_host}),
      alert_timer_(loop_),
      schedule_timer_(loop_),
      heartbeat_timer_(loop_),
      snapshot_timer_(loop_),
      housekeeping_timer_(loop_),
      watchdog_timer_(loop_) {
  mask_in_crash_output(config_->redactor);
}

Daemon::~Daemon() = default;

std::string Daemon::tag(const Monitor& m) const {
  return m.cfg.spec->insecure() ? fmt::format("{} (insecure: TLS not verified)", m.cfg.name)
                                : m.cfg.name;
}

void Daemon::add_monitor(const std::shared_ptr<const Config>& owner, const MonitorConfig& cfg,
                         const std::map<std::string, StateRow>* stored) {
  auto m = std::make_unique<Monitor>(owner, cfg);
  m->id = next_id_++;
  const StateRow* row = nullptr;
  if (stored != nullptr) {
    if (auto it = stored->find(cfg.name); it != stored->end()) {
      row = &it->second;
      m->eval = EvaluationState(cfg, *row);
    }
  }
  if (!cfg.spec->probed()) {
    Monitor& added = *m;
    order_.push_back(m->id);
    monitors_.emplace(m->id, std::move(m));
    add_heartbeat(added, row);
    publish_ping_tokens();
    return;
  }
  m->probe = make_probe(m->cfg, probe_ctx_, owner->redactor);
  // A stored baseline holds while the question is the same; a new question starts afresh.
  const auto* dns = cfg.spec_if<DnsSpec>();
  if (auto it = baselines_.find(cfg.name);
      it != baselines_.end() && dns != nullptr && it->second.question == dns_question(*dns)) {
    m->probe->set_baseline(it->second.answers);
  }
  if (m->cfg.spec->insecure())
    spdlog::warn("monitor {}: certificate checks are off (insecure = true)", tag(*m));
  scheduler_.add(m->id, cfg.interval, cfg.host, stable_hash(cfg.name), clock_.mono());
  order_.push_back(m->id);
  monitors_.emplace(m->id, std::move(m));
}

void Daemon::drop_monitor(MonitorId id) {
  auto it = monitors_.find(id);
  if (it == monitors_.end()) return;
  order_.erase(std::remove(order_.begin(), order_.end(), id), order_.end());
  if (it->second->pings) {
    heartbeats_.erase(it->second->cfg.name);
    monitors_.erase(it);
    publish_ping_tokens();
    return;
  }
  scheduler_.remove(id);
  // A run in flight reports itself cancelled (and frees its scheduler slot) before it goes.
  it->second->probe->cancel();
  monitors_.erase(id);
}

void Daemon::schedule() {
  if (stopping_) return;
  const MonoTime now = clock_.mono();
  for (const auto& start : scheduler_.take_due(now)) {
    auto it = monitors_.find(start.id);
    if (it == monitors_.end()) {
      scheduler_.finished(start.id);
      continue;
    }
    Monitor& m = *it->second;
    const MonitorId id = m.id;
    // In a cluster each monitor is probed from this location by the node holding its shard.
    if (cluster_ && !cluster_->probes(m.cfg.name)) {
      scheduler_.finished(id);
      continue;
    }
    if (!m.probe->start([this, id](ProbeResult r) { on_result(id, std::move(r)); })) {
      ProbeResult r;
      r.started_at = clock_.wall();
      r.started_mono = now;
      if (descriptors_exhausted()) {
        r.kind = ErrorKind::kResources;
        r.cause = "lookout is out of file descriptors (the run could not start)";
      } else {
        r.kind = ErrorKind::kInternal;
        r.cause = "the probe could not be started (out of memory?)";
        spdlog::error("monitor {}: {}", tag(m), r.cause);
      }
      on_result(id, std::move(r));
    }
  }
  if (auto next = scheduler_.next_wakeup()) {
    schedule_timer_.start(std::chrono::duration_cast<Duration>(*next - clock_.mono()) + Duration{1},
                          [this] { schedule(); });
  }
}

void Daemon::on_result(MonitorId id, ProbeResult r) {
  if (r.kind == ErrorKind::kResources) {
    defer_run(id, r.cause);
    return;
  }
  scheduler_.finished(id);
  if (r.kind == ErrorKind::kCancelled) return;
  auto it = monitors_.find(id);
  if (it == monitors_.end()) return;
  judge(*it->second, std::move(r));
  // A finished run may free a slot that a waiting run needs.
  if (scheduler_.stats().waiting > 0) schedule();
}

void Daemon::judge(Monitor& m, ProbeResult r) {
  m.view.reset();
  keep_answers(m, r);
  const bool maintenance = alerts_->maintenance().covers(m.cfg.name, r.started_at);
  Evaluation e = evaluator_->evaluate(m.cfg, m.eval, std::move(r), clock_.wall(), maintenance);
  dirty_ = true;
  if (cluster_) {
    // The location's judgement, not this run alone, is what the log and the decider hear of.
    cluster_->add_run(m.cfg, std::move(e.result));
    return;
  }
  log_run(m, e);
  store_->add_result(std::move(e.result));
  store_->put_state(std::move(e.state_row));
  record(std::move(e.alerts));
}

void Daemon::log_run(const Monitor& m, const Evaluation& e) const {
  switch (e.event) {
    case RunEvent::kNowUp:
      spdlog::info("monitor {} is up (was {})", tag(m), to_string(e.before));
      break;
    case RunEvent::kNowBad:
      spdlog::warn("monitor {} is {} (was {}): {}", tag(m), to_string(e.after), to_string(e.before),
                   e.result.cause);
      break;
    case RunEvent::kRunFailed:
      spdlog::debug("monitor {}: run {}: {}", tag(m), to_string(e.result.outcome), e.result.cause);
      break;
    case RunEvent::kQuiet:
      break;
  }
}

// The daemon, not the target, was short of descriptors: the run is not judged (that would be
// a false failure) but started again when a run finishes or the scheduler's hold ends.
void Daemon::defer_run(MonitorId id, const std::string& cause) {
  const MonoTime now = clock_.mono();
  scheduler_.deferred(id, now);
  if (auto it = monitors_.find(id); it != monitors_.end()) {
    spdlog::debug("monitor {}: run put back: {}", it->second->cfg.name, cause);
  }
  ++deferred_since_warning_;
  if (now >= next_shortage_warning_) {
    spdlog::warn(
        "{} run(s) put back to start again: {}; raise LimitNOFILE (or ulimit -n) or lower "
        "scheduler.max_in_flight",
        deferred_since_warning_, cause);
    deferred_since_warning_ = 0;
    next_shortage_warning_ = now + kShortageWarningEvery;
  }
  schedule();
}

void Daemon::apply_scheduler_limits() {
  const size_t configured = config_->scheduler.max_in_flight;
  if (descriptor_runs_ < configured) {
    spdlog::warn(
        "the file descriptor limit leaves room for {} runs at once, fewer than "
        "scheduler.max_in_flight = {}: "
        "at most {} run at once; raise LimitNOFILE (or ulimit -n) to allow more",
        descriptor_runs_, configured, descriptor_runs_);
  }
  scheduler_.set_limits({std::min(configured, descriptor_runs_), config_->scheduler.max_per_host});
}

void Daemon::answer_once_committed(std::function<void()> answer) {
  waiting_answers_.emplace_back(store_->mark(), std::move(answer));
}

void Daemon::answer_committed() {
  const uint64_t committed = committed_seq_.load();
  while (!waiting_answers_.empty() && waiting_answers_.front().first <= committed) {
    auto answer = std::move(waiting_answers_.front().second);
    waiting_answers_.pop_front();
    answer();
  }
}

void Daemon::record(AlertChanges changes) {
  if (changes.empty()) return;
  log_incident_changes(changes);
  if (config_->subscriptions) {
    add_incident_mails(
        changes, subscribers_, mailing(), [this](const std::string& m) { return is_public(m); },
        [] { return random_hex(16); });
  }
  const uint64_t seq = store_->add_alerts(changes);
  dispatcher_->add(std::move(changes), seq);
  dirty_ = true;
}

void Daemon::alert_tick() {
  AlertChanges changes;
  alerts_->tick(clock_.wall(), changes);
  record(std::move(changes));
}

namespace {

// What a cluster's database answered, as the web server tells it.
AlertEngine::AckResult ack_result(AckAsked asked) {
  switch (asked) {
    case AckAsked::kAsked:
      return AlertEngine::AckResult::kDone;
    case AckAsked::kAlready:
      return AlertEngine::AckResult::kAlready;
    case AckAsked::kResolved:
      return AlertEngine::AckResult::kResolved;
    case AckAsked::kUnknown:
      break;
  }
  return AlertEngine::AckResult::kUnknown;
}

}  // namespace

std::optional<AlertEngine::AckResult> Daemon::request_ack(int64_t incident_id,
                                                          const std::string& by) {
  auto result = std::make_shared<std::promise<std::optional<AlertEngine::AckResult>>>();
  std::future<std::optional<AlertEngine::AckResult>> answer = result->get_future();
  {
    std::lock_guard lock(ack_mu_);
    ack_queue_.push_back(AckRequest{incident_id, by, std::move(result)});
  }
  ack_async_->send();
  if (answer.wait_for(std::chrono::seconds(5)) != std::future_status::ready) return std::nullopt;
  try {
    return answer.get();
  } catch (const std::future_error&) {
    // Stopping: the database's answer was dropped with its connection.
    return std::nullopt;
  }
}

void Daemon::drain_web_requests() {
  drain_post_requests();
  drain_maintenance_requests();
  drain_subscription_requests();
  drain_accept_requests();
  std::deque<AckRequest> requests;
  {
    std::lock_guard lock(ack_mu_);
    requests.swap(ack_queue_);
  }
  for (auto& req : requests) {
    if (cluster_) {
      cluster_->ask_ack(req.incident_id, req.by, [result = req.result](std::optional<AckAsked> a) {
        result->set_value(a ? std::optional(ack_result(*a)) : std::nullopt);
      });
      continue;
    }
    AlertChanges changes;
    const auto result = alerts_->acknowledge(req.incident_id, req.by, clock_.wall(), changes);
    if (result == AlertEngine::AckResult::kDone)
      spdlog::info("incident {} acknowledged by {}", req.incident_id, req.by);
    record(std::move(changes));
    req.result->set_value(result);
  }
}

void Daemon::publish_snapshot() {
  heartbeat_.beat(clock_.mono());
  if (cluster_) {
    cluster_->publish_health();
    show_cluster_heartbeats();
    if (cluster_->view_reads() != cluster_view_reads_ ||
        cluster_->status_reads() != cluster_status_reads_) {
      dirty_ = true;
    }
  }
  // A maintenance window that began or ended changes monitors' shown state without a run.
  if (maintenance_edge_ && clock_.wall() >= *maintenance_edge_) dirty_ = true;
  if (!dirty_) return;
  dirty_ = false;
  auto s = std::make_shared<Snapshot>();
  s->title = config_->server.title;
  s->admin_token = config_->server.admin_token;
  s->built_at = clock_.wall();
  s->scheduler = scheduler_.stats();
  s->monitors_total = monitors_.size();
  s->monitors.reserve(order_.size());
  for (MonitorId id : order_) {
    Monitor& m = *monitors_.at(id);
    const EvaluationState& ev = m.eval;
    const State shown = alerts_->maintenance().covers(m.cfg.name, s->built_at) ? State::kMaintenance
                                                                               : ev.sm.state();
    if (m.view != nullptr && m.view->state == shown) {
      s->monitors.push_back(m.view);
      continue;
    }
    MonitorView v;
    v.name = m.cfg.name;
    v.group = m.cfg.group;
    v.type = m.cfg.type;
    v.is_public = m.cfg.is_public;
    v.state = shown;
    if (ev.sm.state() != State::kUnknown) v.since = ev.sm.since();
    v.last_check = ev.last_check;
    v.last_outcome = ev.last_outcome;
    v.latency_us = ev.latency_us;
    v.cause = ev.cause;
    v.timings = ev.timings;
    v.runs = ev.runs;
    v.failures = ev.failures;
    v.cert_not_after = ev.cert_not_after;
    v.perfdata = ev.perfdata;
    v.slo = ev.slo_last;
    if (m.cfg.slo.p95) {
      v.slo_budget = m.cfg.slo.p95;
      v.slo_window = m.cfg.slo.window;
    }
    if (m.pings) {
      v.last_ping = m.pings->last_ping();
      v.next_due = m.pings->next_due();
      if (ping_token_known(m)) v.ping_token = ping_token(m);
      v.last_message = m.pings->last_message();
    }
    m.view = std::make_shared<const MonitorView>(std::move(v));
    s->monitors.push_back(m.view);
  }
  for (const auto& [name, inc] : alerts_->open_incidents()) s->open_incidents.push_back(inc);
  if (const Dispatcher* d = sending()) s->notifications = d->stats();
  s->ack_key = cluster_ ? cluster_->node().ack_key() : alerts_->ack_key();
  s->ping_tokens = ping_tokens_;
  s->posts = published_posts_;
  s->maintenance = alerts_->maintenance().listed(s->built_at);
  maintenance_edge_ = alerts_->maintenance().next_edge(s->built_at);
  if (const auto& sub = config_->subscriptions) {
    // A cluster's book is ClusterSubscribers', read from PostgreSQL, its key the nodes'.
    const SubscriberBook& book = cluster_ ? cluster_->subscribers().book() : subscribers_;
    s->subscriptions =
        Snapshot::Subscriptions{sub->rate_limit, sub->rate_window,
                                cluster_ ? cluster_->node().subscription_key() : subscription_key_,
                                book.confirmed_count(), book.pending_count()};
  }
  if (cluster_ && cluster_->status()) {
    // Every node shows what the cluster decided, not what its own runs say.
    cluster_status_reads_ = cluster_->status_reads();
    show_cluster_status(*cluster_->status(), *s);
  }
  if (cluster_ && cluster_->view()) {
    cluster_view_reads_ = cluster_->view_reads();
    s->cluster = *cluster_->view();
    s->cluster->storage_ok = cluster_->health().ok;
    s->cluster->spool_rows = cluster_->node().spool_rows();
  }
  s->dead_mans_switch = dead_mans_switch_->configured();
  s->dead_mans_switch_last_success = dead_mans_switch_->last_success();
  for (const auto& c : config_->channels) {
    if (c.type != "pagerduty") continue;
    if (const auto& secret = c.spec_as<PagerDutySpec>().webhook_secret)
      s->pagerduty_webhook_secrets.push_back(*secret);
  }
  snapshots_.publish(std::move(s));
}

void Daemon::housekeeping() {
  // A run is stored under its start time and may finish up to its timeout later: minutes
  // are rolled up only once no run of theirs can still arrive.
  Duration longest{0};
  for (const auto& [id, m] : monitors_) longest = std::max(longest, m->cfg.timeout);
  if (!store_) return;  // a cluster's node: PostgreSQL's tables (ClusterRun)
  expire_subscriptions();
  const auto& s = config_->storage;
  store_->housekeep(HousekeepingJob{to_unix_ms(clock_.wall()),
                                    (longest + kStorageFlushEvery + Duration{5000}).count(),
                                    RetentionPolicy{s.keep_raw.count(), s.keep_minutes.count(),
                                                    s.keep_hours.count(), s.keep_days.count()}});
}

HealthReport Daemon::health() const {
  const MonoTime now = clock_.mono();
  const Duration loop_age = heartbeat_.age(now);
  if (loop_age > kLoopStaleAfter) {
    return {false, fmt::format("the event loop has not turned for {}", format_duration(loop_age))};
  }
  if (cluster_) {
    if (const auto unreachable = cluster_->unreachable()) return {false, *unreachable};
    return {};
  }
  const StoreHealth sh = store_->health();
  if (!sh.ok) return {false, fmt::format("storage {} is failing: {}", store_->where(), sh.error)};
  if (sh.last_commit) {
    const auto age = std::chrono::duration_cast<Duration>(now - *sh.last_commit);
    if (age > kStorageStaleAfter) {
      return {false, fmt::format("storage {} has not committed for {}", store_->where(),
                                 format_duration(age))};
    }
  }
  return {};
}

void Daemon::reload() {
  if (reloading_ || stopping_) return;
  if (cluster_) {
    // Every node runs the same monitors, checked at start: a reload would change one node's.
    spdlog::error(
        "cluster mode: reloading the config is not available yet; still running the previous "
        "one. Restart the node to apply a new config (every node of a cluster needs the same "
        "[[monitor]] entries and [defaults])");
    return;
  }
  reloading_ = true;
  sd_notify(0, "RELOADING=1");
  spdlog::info("reloading {}", config_->file);
  auto result = std::make_shared<LoadResult>();
  const std::string path = config_->file;
  // Reading and parsing (and ${file:} secrets) happen off the loop.
  queue_work(
      loop_, [result, path] { *result = load_config(path); },
      [this, result] {
        reloading_ = false;
        for (const auto& e : result->errors) {
          if (e.warning) spdlog::warn("{}", e.plain());
        }
        if (!result->ok()) {
          for (const auto& e : result->errors) {
            if (!e.warning) spdlog::error("{}", e.plain());
          }
          spdlog::error("the new config is invalid; still running the previous one");
        } else if (result->config->cluster) {
          // Cluster mode joins at start, with the check of the monitors against the live nodes.
          spdlog::error(
              "the new config has [cluster]; cluster mode starts only with the process: restart "
              "lookout to run it; still running the previous one");
        } else if (!stopping_) {
          apply(std::move(*result->config));
        }
        sd_notify(0, "READY=1");
      });
}

void Daemon::apply(Config next_config) {
  // Listening and storage stay as they started; the new monitors refer into `next`, so it is
  // made final before any of them.
  const auto next = std::make_shared<Config>(std::move(next_config));
  if (next->server.listen_host != config_->server.listen_host ||
      next->server.listen_port != config_->server.listen_port) {
    spdlog::warn("server.listen changed; it takes effect at the next restart");
  }
  if (next->storage.path != config_->storage.path) {
    spdlog::warn("storage.path changed; it takes effect at the next restart");
  }
  next->server.listen_host = config_->server.listen_host;
  next->server.listen_port = config_->server.listen_port;
  next->storage.path = config_->storage.path;
  std::unordered_map<std::string, MonitorId> by_name;
  for (const auto& [id, m] : monitors_) by_name.emplace(m->cfg.name, id);

  size_t kept = 0, added = 0, changed = 0, removed = 0;
  std::vector<MonitorId> new_order;
  std::unordered_map<std::string, bool> in_next;
  for (const auto& cfg : next->monitors) in_next[cfg.name] = true;
  AlertChanges forgotten;
  for (const auto& [name, id] : by_name) {
    if (in_next.count(name) == 0) {
      drop_monitor(id);
      alerts_->forget(name, clock_.wall(), forgotten);
      ++removed;
    }
  }
  record(std::move(forgotten));
  for (const auto& cfg : next->monitors) {
    auto it = by_name.find(cfg.name);
    if (it != by_name.end() && monitors_.count(it->second) != 0 &&
        monitors_.at(it->second)->cfg.same_as(cfg)) {
      new_order.push_back(it->second);
      ++kept;
      continue;
    }
    if (it != by_name.end() && monitors_.count(it->second) != 0) {
      drop_monitor(it->second);
      ++changed;
    } else {
      ++added;
    }
    add_monitor(next, cfg, nullptr);
    new_order.push_back(order_.back());
  }
  order_ = std::move(new_order);
  config_ = next;
  mask_in_crash_output(config_->redactor);
  apply_scheduler_limits();
  alerts_->configure(config_);
  dispatcher_->configure(*config_);
  dead_mans_switch_->configure(config_->heartbeat, config_->redactor);
  dirty_ = true;
  spdlog::info(
      "config reloaded: {} monitors kept, {} changed (their state starts again), {} added, {} "
      "removed",
      kept, changed, added, removed);
  schedule();
}

void Daemon::shutdown() {
  if (stopping_) return;
  stopping_ = true;
  sd_notify(0, "STOPPING=1");
  spdlog::info("stopping: cancelling {} runs in flight and writing the last results",
               scheduler_.stats().in_flight);
  for (auto& [id, m] : monitors_) {
    if (m->probe) m->probe->cancel();
  }
  // Notifications in flight stay pending in the outbox and go out, with the same id, after
  // the next start.
  if (dispatcher_) dispatcher_->stop();
  if (!cluster_) {
    loop_.stop();
    return;
  }
  // The node hands its leases over and writes the results waiting, on the loop, then it stops.
  cluster_->stop([this] { loop_.stop(); });
}

void Daemon::start_cluster() {
  cluster_->start([this](const std::string& error) {
    if (!error.empty()) {
      spdlog::critical("{}", error);
      exit_code_ = 1;
      shutdown();
      return;
    }
    spdlog::info("cluster: node {} of location {} joined; {}", cluster_->node().node(),
                 cluster_->node().location(), cluster_->where());
    // Read while joining: the heartbeats' derived tokens work from now on.
    heartbeat_key_ = cluster_->node().heartbeat_key();
    publish_ping_tokens();
  });
}

const Dispatcher* Daemon::sending() const {
  if (cluster_) return &cluster_->sender().dispatcher();
  return dispatcher_.get();
}

StorageReader& Daemon::reader() {
  if (cluster_) return *cluster_;
  return *store_;
}

int Daemon::run() {
  if (const auto errors = start_errors(*config_); !errors.empty()) {
    for (const auto& e : errors) spdlog::critical("{}", e.plain());
    return 2;
  }
  const uint64_t descriptor_limit = raise_descriptor_limit();
  spdlog::debug("file descriptor limit {}", descriptor_limit);
  descriptor_runs_ = runs_within_descriptor_limit(descriptor_limit);
  apply_scheduler_limits();
  // A file-size limit (or quota) reached while writing must fail that write, which the store
  // reports and retries, not kill the daemon.
  std::signal(SIGXFSZ, SIG_IGN);
  // OpenSSL writes TLS records to the status page's sockets with write(2): a client that went
  // away must fail that write, not kill the daemon.
  std::signal(SIGPIPE, SIG_IGN);
  std::string error;
  std::map<std::string, StateRow> stored;
  if (config_->cluster) {
    // The spool is opened here, before the loop runs; the node joins once the loop does.
    cluster_ = std::make_unique<ClusterRun>(loop_, curl_, clock_, config_, LOOKOUT_VERSION);
    // Before any probe is made; a reload, which could change it, is refused in cluster mode.
    probe_ctx_.source = config_->cluster->source_address;
    // The probing side only judges runs: the node deciding a monitor decides its incidents
    // (ClusterRun), and this engine keeps the config's maintenance windows for the page.
    alerts_ = std::make_unique<AlertEngine>("", [] { return random_hex(16); });
    alerts_->configure(config_);
    evaluator_ = std::make_unique<Evaluator>();
    // The API's windows, as the node reads them from PostgreSQL: its runs are marked, and its
    // page shows them, as on one node.
    cluster_->on_maintenance([this](const std::vector<MaintenanceRecord>& windows) {
      alerts_->maintenance().load(windows);
      dirty_ = true;
    });
    // The subscribers' counts the admin sees, as ClusterSubscribers read them.
    cluster_->on_subscribers([this] { dirty_ = true; });
    // The dns baselines of this node's location, read by ClusterBaselines.
    cluster_->on_baselines([this](const std::map<std::string, LocationBaseline>& rows) {
      apply_cluster_baselines(rows);
    });
    // The posts as the cluster has them, read by ClusterPosts.
    cluster_->on_posts([this](const std::vector<PostRecord>& posts) {
      published_posts_ = std::make_shared<const std::vector<PostRecord>>(posts);
      dirty_ = true;
      // Pages are kept for a few seconds: rendered anew from the snapshot that has the change.
      publish_snapshot();
      if (web_) web_->forget_rendered_pages();
    });
  } else {
    store_ = open_storage(config_->storage.path, clock_, error);
    if (!store_) {
      spdlog::critical("{}", error);
      return 1;
    }
    store_->set_max_backlog(config_->storage.max_backlog);
    stored = store_->load_states();
    baselines_ = store_->load_baselines();
    heartbeat_memory_ = store_->load_heartbeats();
    alerts_ = std::make_unique<AlertEngine>(store_->kept_secret("ack_key"),
                                            [] { return random_hex(16); });
    alerts_->configure(config_);
    alerts_->restore(store_->load_open_incidents(), store_->next_incident_id());
    evaluator_ = std::make_unique<Evaluator>(*alerts_);
    dispatcher_ = std::make_unique<Dispatcher>(loop_, curl_, clock_, *store_, alerts_->ack_key());
    dispatcher_->configure(*config_, store_->load_open_deliveries());
    dispatcher_->add_loaded(store_->load_pending_outbox());
  }
  // The outside check hears from lookout only while its loop turns (this runs on it), storage
  // commits and no notification is stuck.
  dead_mans_switch_ = std::make_unique<DeadMansSwitch>(
      curl_, clock_,
      [this] {
        HealthReport h = health();
        if (!h.ok) return h;
        const Dispatcher* d = sending();
        const auto stuck =
            d != nullptr ? stuck_notification(d->stats(), clock_.wall(), kNotificationStuckAfter)
                         : std::nullopt;
        return stuck ? HealthReport{false, *stuck} : h;
      },
      [this] { dirty_ = true; });
  commit_async_ = std::make_unique<Async>(loop_, [this] {
    if (dispatcher_) dispatcher_->committed(committed_seq_.load());
    answer_committed();
  });
  ack_async_ = std::make_unique<Async>(loop_, [this] { drain_web_requests(); });
  ping_async_ = std::make_unique<Async>(loop_, [this] { drain_pings(); });
  if (store_) {
    heartbeat_key_ = store_->kept_secret("heartbeat_key");
    subscription_key_ = store_->kept_secret("subscription_key");
    subscribers_.load(store_->load_subscribers());
    store_->set_on_commit([this](uint64_t seq) {
      uint64_t seen = committed_seq_.load();
      while (seen < seq && !committed_seq_.compare_exchange_weak(seen, seq)) {
      }
      commit_async_->send();
    });
  }
  for (const auto& cfg : config_->monitors) add_monitor(config_, cfg, &stored);
  if (store_) {
    posts_.load(store_->load_posts());
    alerts_->maintenance().load(store_->load_maintenance());
  }
  published_posts_ = std::make_shared<const std::vector<PostRecord>>(posts_.all());
  heartbeat_.beat(clock_.mono());
  publish_snapshot();

  LoopCalls calls{
      [this] { return health(); },
      [this](int64_t id, const std::string& by) { return request_ack(id, by); },
      [this](const std::string& name) { return request_accept(name); },
      [this](const std::string& name, Ping ping) { return request_ping(name, std::move(ping)); },
      [this](PostCommand command) { return request_post(std::move(command)); },
      [this](MaintenanceCommand command) { return request_maintenance(std::move(command)); },
      [this](SubscriptionCommand command) { return request_subscription(std::move(command)); }};
  web_ =
      std::make_unique<WebServer>(config_->server, clock_, snapshots_, reader(), std::move(calls));
  if (!web_->start(error)) {
    spdlog::critical("{}", error);
    return 1;
  }
  if (store_) store_->start();
  if (cluster_) start_cluster();

  sigterm_ = std::make_unique<Signal>(loop_, SIGTERM, [this] { shutdown(); });
  sigint_ = std::make_unique<Signal>(loop_, SIGINT, [this] { shutdown(); });
  sighup_ = std::make_unique<Signal>(loop_, SIGHUP, [this] { reload(); });
  snapshot_timer_.start_repeating(kSnapshotEvery, [this] { publish_snapshot(); });
  heartbeat_timer_.start_repeating(kHeartbeatEvery, [this] { heartbeat_.beat(clock_.mono()); });
  // At start, again once the first runs are in (so the page's numbers appear within seconds),
  // then every minute.
  housekeeping_timer_.start(Duration{0}, [this] {
    housekeeping();
    housekeeping_timer_.start(Duration{10'000}, [this] {
      housekeeping();
      housekeeping_timer_.start_repeating(kHousekeepingEvery, [this] { housekeeping(); });
    });
  });
  uint64_t watchdog_usec = 0;
  if (sd_watchdog_enabled(0, &watchdog_usec) > 0 && watchdog_usec > 0) {
    // Pet the watchdog only while the loop turns (this timer runs on it) and, on one node,
    // storage commits. A cluster node whose database is away keeps probing into its spool, which
    // a restart would only interrupt: its watchdog follows the loop alone.
    watchdog_timer_.start_repeating(Duration{static_cast<int64_t>(watchdog_usec / 2000)}, [this] {
      if (cluster_ || health().ok) sd_notify(0, "WATCHDOG=1");
    });
  }
  alert_timer_.start_repeating(Duration{1000}, [this] { alert_tick(); });
  dead_mans_switch_->configure(config_->heartbeat, config_->redactor);
  schedule();

  if (cluster_) {
    spdlog::info(
        "lookout {} running {} monitors as node {} of location {}; listening on http://{}:{}; "
        "storage {}, spool {}",
        LOOKOUT_VERSION, monitors_.size(), cluster_->node().node(), cluster_->node().location(),
        config_->server.listen_host, web_->port(), cluster_->where(), config_->storage.path);
  } else {
    spdlog::info("lookout {} running {} monitors; listening on http://{}:{}; storage {}",
                 LOOKOUT_VERSION, monitors_.size(), config_->server.listen_host, web_->port(),
                 config_->storage.path);
  }
  sd_notify(0, "READY=1");
  loop_.run();

  // Stopped: finish what runs on the loop, then the threads. Acks still queued are answered
  // as not done, before and after the web server stops, so no web thread waits on a loop
  // that is gone.
  auto refuse_acks = [this] {
    std::lock_guard lock(ack_mu_);
    for (auto& req : ack_queue_) req.result->set_value(std::nullopt);
    ack_queue_.clear();
  };
  auto refuse_all = [this, &refuse_acks] {
    refuse_acks();
    post_requests_.take();
    maintenance_requests_.take();
    subscription_requests_.take();
    accept_requests_.take();
    waiting_answers_.clear();
  };
  refuse_all();
  web_->stop();
  refuse_all();
  if (store_) {
    store_->set_on_commit(nullptr);
    store_->stop();
  }
  monitors_.clear();
  sigterm_.reset();
  sigint_.reset();
  sighup_.reset();
  spdlog::info("stopped");
  return exit_code_;
}

}  // namespace lookout
