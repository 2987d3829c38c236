#include "store/sqlite_store.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cassert>
#include <ctime>

#include "core/random.h"
#include "store/heartbeat_store.h"
#include "store/maintenance_store.h"
#include "store/post_store.h"
#include "store/rollup.h"
#include "store/schema.h"
#include "store/statement.h"
#include "store/subscriber_store.h"

namespace lookout {
namespace {

// A result as its row in `results` holds it: the samples only when there are several.
StoredRun stored_run(const ResultRow& r) {
  StoredRun run{r.outcome, r.timings.total_us, r.maintenance, std::nullopt};
  if (r.samples_us.size() > 1) run.samples = pack_samples(r.samples_us);
  return run;
}

}  // namespace

std::unique_ptr<SqliteStore> SqliteStore::open(const std::string& path, const Clock& clock,
                                               std::string& error) {
  sqlite3* db = open_sqlite_file(path, "the database", 5000, error);
  if (db == nullptr) return nullptr;
  std::string why;
  // WAL lets the web threads read while this connection writes; NORMAL sync keeps every commit
  // across a process kill (the WAL is in the OS) and costs no fsync per batch.
  // auto_vacuum only takes on a new, empty file: set it before the first table exists.
  if (!exec_sql(db,
                "PRAGMA auto_vacuum = INCREMENTAL; PRAGMA journal_mode = WAL; PRAGMA synchronous = "
                "NORMAL; "
                "PRAGMA foreign_keys = OFF;",
                why) ||
      !migrate(db, why) ||
      !exec_sql(db,
                "INSERT INTO meta (key, value) VALUES ('opened_at', strftime('%s','now')) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                why)) {
    error = fmt::format("storage {} is not usable: {}", path, why);
    sqlite3_close(db);
    return nullptr;
  }
  return std::unique_ptr<SqliteStore>(new SqliteStore(db, path, clock));
}

SqliteStore::SqliteStore(sqlite3* db, std::string path, const Clock& clock)
    : db_(db), path_(std::move(path)), clock_(clock), read_pool_(path_) {
  health_.last_commit = clock_.mono();
}

sqlite3* SqliteStore::startup_db() const {
  assert(!thread_.joinable() && "a start-up read or kept_secret() after SqliteStore::start()");
  return db_;
}

SqliteStore::~SqliteStore() {
  stop();
  sqlite3_close(db_);
}

std::map<std::string, StateRow> SqliteStore::load_states() {
  std::map<std::string, StateRow> out;
  Stmt st(startup_db(),
          "SELECT m.name, s.state, s.since_ms, s.recent, s.last_check_ms, s.last_outcome, "
          "s.last_latency_us, s.last_cause "
          "FROM monitor_state s JOIN monitors m ON m.id = s.monitor_id");
  while (st.ok() && st.step() == SQLITE_ROW) {
    StateRow r;
    r.monitor = column_text(st.get(), 0);
    r.state = column_text(st.get(), 1);
    r.since_ms = sqlite3_column_int64(st.get(), 2);
    r.recent = column_text(st.get(), 3);
    r.last_check_ms = column_opt(st.get(), 4);
    if (auto o = column_opt(st.get(), 5); o && *o >= 0 && *o <= 2)
      r.last_outcome = static_cast<Outcome>(*o);
    r.last_latency_us = column_opt(st.get(), 6);
    r.last_cause = column_text(st.get(), 7);
    out.emplace(r.monitor, std::move(r));
  }
  return out;
}

void SqliteStore::start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { run(); });
}

void SqliteStore::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void SqliteStore::add_result(ResultRow row) {
  std::lock_guard lock(mu_);
  if (pending_.results.size() >= max_backlog_) {
    // Storage is failing and the buffer is full: the oldest tenth goes at once, so the bound
    // holds without moving the whole buffer for every new row.
    const size_t drop = std::max<size_t>(1, max_backlog_ / 10);
    pending_.results.erase(pending_.results.begin(),
                           pending_.results.begin() + static_cast<long>(drop));
    health_.rows_dropped += drop;
  }
  pending_.results.push_back(std::move(row));
}

std::map<std::string, Baseline> SqliteStore::load_baselines() {
  std::map<std::string, Baseline> out;
  Stmt st(startup_db(),
          "SELECT m.name, b.question, b.answers FROM dns_baselines b JOIN monitors m ON m.id = "
          "b.monitor_id");
  while (st.ok() && st.step() == SQLITE_ROW) {
    const auto answers = nlohmann::json::parse(column_text(st.get(), 2), nullptr, false);
    if (!answers.is_array()) continue;
    Baseline b;
    b.question = column_text(st.get(), 1);
    for (const auto& a : answers) {
      if (a.is_string()) b.answers.push_back(a.get<std::string>());
    }
    out.emplace(column_text(st.get(), 0), std::move(b));
  }
  return out;
}

void SqliteStore::put_baseline(const std::string& monitor, Baseline baseline) {
  std::lock_guard lock(mu_);
  pending_.baselines[monitor] = std::move(baseline);
}

std::vector<PostRecord> SqliteStore::load_posts() { return read_posts(startup_db()); }

std::map<std::string, HeartbeatMemory> SqliteStore::load_heartbeats() {
  return read_heartbeats(startup_db());
}

void SqliteStore::put_heartbeat(const std::string& monitor, HeartbeatMemory memory) {
  std::lock_guard lock(mu_);
  pending_.heartbeats[monitor] = std::move(memory);
}

void SqliteStore::put_post(PostRecord post) {
  std::lock_guard lock(mu_);
  const int64_t id = post.id;
  pending_.posts[id] = std::move(post);
}

std::vector<MaintenanceRecord> SqliteStore::load_maintenance() {
  return read_maintenance(startup_db());
}

std::vector<SubscriberRecord> SqliteStore::load_subscribers() {
  return read_subscribers(startup_db());
}

void SqliteStore::put_subscriber(SubscriberRecord subscriber) {
  std::lock_guard lock(mu_);
  const int64_t id = subscriber.id;
  auto& slot = pending_.subscribers[id];
  if (subscriber.erased() && !slot.email.empty()) pending_.forgotten.insert(slot.email);
  slot = std::move(subscriber);
}

void SqliteStore::put_maintenance(int64_t id, std::optional<MaintenanceRecord> window) {
  std::lock_guard lock(mu_);
  pending_.maintenance[id] = std::move(window);
}

void SqliteStore::put_state(StateRow row) {
  std::lock_guard lock(mu_);
  auto name = row.monitor;
  pending_.states[name] = std::move(row);
}

uint64_t SqliteStore::add_alerts(AlertChanges changes) {
  std::lock_guard lock(mu_);
  pending_.alerts.push_back(std::move(changes));
  pending_.seq = next_seq_++;
  return pending_.seq;
}

uint64_t SqliteStore::mark() {
  std::lock_guard lock(mu_);
  pending_.seq = next_seq_++;
  return pending_.seq;
}

void SqliteStore::update_delivery(DeliveryUpdate u) {
  std::lock_guard lock(mu_);
  pending_.deliveries.push_back(std::move(u));
}

void SqliteStore::set_on_commit(std::function<void(uint64_t)> f) {
  std::lock_guard lock(mu_);
  on_commit_ = std::move(f);
}

std::vector<IncidentRecord> SqliteStore::load_open_incidents() {
  std::vector<IncidentRecord> out;
  Stmt st(startup_db(),
          "SELECT id, monitor, grp, type, state, cause, started_ms, acknowledged_ms, "
          "acknowledged_by, flapping, "
          "flap_notified, fired, next_reminder_ms FROM incidents WHERE resolved_ms IS NULL ORDER "
          "BY id");
  while (st.ok() && st.step() == SQLITE_ROW) {
    IncidentRecord i;
    i.id = sqlite3_column_int64(st.get(), 0);
    i.monitor = column_text(st.get(), 1);
    i.group = column_text(st.get(), 2);
    i.type = column_text(st.get(), 3);
    i.state = state_from_string(column_text(st.get(), 4)).value_or(State::kDown);
    i.cause = column_text(st.get(), 5);
    i.started_at = from_unix_ms(sqlite3_column_int64(st.get(), 6));
    if (auto a = column_opt(st.get(), 7)) i.acknowledged_at = from_unix_ms(*a);
    i.acknowledged_by = column_text(st.get(), 8);
    i.flapping = sqlite3_column_int(st.get(), 9) != 0;
    i.flap_notified = sqlite3_column_int(st.get(), 10) != 0;
    const std::string fired = column_text(st.get(), 11);
    for (size_t p = 0; p < fired.size();) {
      const size_t comma = fired.find(',', p);
      i.fired.push_back(
          fired.substr(p, comma == std::string::npos ? std::string::npos : comma - p));
      p = comma == std::string::npos ? fired.size() : comma + 1;
    }
    if (auto r = column_opt(st.get(), 12)) i.next_reminder = from_unix_ms(*r);
    out.push_back(std::move(i));
  }
  return out;
}

int64_t SqliteStore::next_incident_id() {
  Stmt st(startup_db(), "SELECT coalesce(max(id), 0) + 1 FROM incidents");
  return st.ok() && st.step() == SQLITE_ROW ? sqlite3_column_int64(st.get(), 0) : 1;
}

namespace {

constexpr char kOutboxColumns[] =
    "SELECT id, incident_id, event, channel, recipient, payload, created_ms, route, attempts, "
    "due_ms, audience FROM outbox ";

OutboxRow outbox_row(Stmt& st) {
  OutboxRow row;
  row.id = column_text(st.get(), 0);
  row.incident_id = sqlite3_column_int64(st.get(), 1);
  row.event = column_text(st.get(), 2);
  row.channel = column_text(st.get(), 3);
  row.recipient = column_text(st.get(), 4);
  row.payload = column_text(st.get(), 5);
  row.created = from_unix_ms(sqlite3_column_int64(st.get(), 6));
  row.route = column_text(st.get(), 7);
  row.audience =
      column_text(st.get(), 10) == "subscriber" ? Audience::kSubscriber : Audience::kOnCall;
  return row;
}

}  // namespace

std::vector<PendingOutbox> SqliteStore::load_pending_outbox() {
  std::vector<PendingOutbox> out;
  Stmt st(startup_db(),
          std::string(kOutboxColumns) + "WHERE status = 'pending' ORDER BY created_ms");
  while (st.ok() && st.step() == SQLITE_ROW) {
    out.push_back(PendingOutbox{outbox_row(st), sqlite3_column_int(st.get(), 8),
                                sqlite3_column_int64(st.get(), 9)});
  }
  return out;
}

std::vector<OutboxRow> SqliteStore::load_open_deliveries() {
  std::vector<OutboxRow> out;
  Stmt st(startup_db(),
          std::string(kOutboxColumns) +
              "WHERE status = 'sent' AND incident_id IN "
              "(SELECT id FROM incidents WHERE resolved_ms IS NULL) ORDER BY created_ms");
  while (st.ok() && st.step() == SQLITE_ROW) out.push_back(outbox_row(st));
  return out;
}

std::string SqliteStore::kept_secret(const std::string& name) {
  {
    Stmt st(startup_db(), "SELECT value FROM meta WHERE key = ?");
    st.bind(1, name);
    if (st.ok() && st.step() == SQLITE_ROW) return column_text(st.get(), 0);
  }
  std::string value = random_hex(32);
  Stmt ins(startup_db(), "INSERT INTO meta (key, value) VALUES (?, ?)");
  ins.bind(1, name);
  ins.bind(2, value);
  ins.step();
  return value;
}

void SqliteStore::housekeep(HousekeepingJob job) {
  {
    std::lock_guard lock(mu_);
    pending_.housekeeping = job;
  }
  cv_.notify_all();
}

StoreHealth SqliteStore::health() const {
  std::lock_guard lock(mu_);
  StoreHealth h = health_;
  h.backlog = pending_.results.size();
  return h;
}

void SqliteStore::merge_back(Batch&& failed) {
  std::lock_guard lock(mu_);
  // Older rows first, then what arrived while writing.
  failed.results.insert(failed.results.end(), std::make_move_iterator(pending_.results.begin()),
                        std::make_move_iterator(pending_.results.end()));
  pending_.results = std::move(failed.results);
  if (pending_.results.size() > max_backlog_) {
    const size_t drop = pending_.results.size() - max_backlog_;
    pending_.results.erase(pending_.results.begin(),
                           pending_.results.begin() + static_cast<long>(drop));
    health_.rows_dropped += drop;
  }
  for (auto& [k, v] : failed.states) pending_.states.try_emplace(k, std::move(v));
  for (auto& [k, v] : failed.baselines) pending_.baselines.try_emplace(k, std::move(v));
  for (auto& [k, v] : failed.posts) pending_.posts.try_emplace(k, std::move(v));
  for (auto& [k, v] : failed.maintenance) pending_.maintenance.try_emplace(k, std::move(v));
  for (auto& [k, v] : failed.heartbeats) pending_.heartbeats.try_emplace(k, std::move(v));
  for (auto& [k, v] : failed.subscribers) pending_.subscribers.try_emplace(k, std::move(v));
  pending_.forgotten.merge(failed.forgotten);
  // Alerts are never dropped: they go back in front of what came since.
  failed.alerts.insert(failed.alerts.end(), std::make_move_iterator(pending_.alerts.begin()),
                       std::make_move_iterator(pending_.alerts.end()));
  pending_.alerts = std::move(failed.alerts);
  failed.deliveries.insert(failed.deliveries.end(),
                           std::make_move_iterator(pending_.deliveries.begin()),
                           std::make_move_iterator(pending_.deliveries.end()));
  pending_.deliveries = std::move(failed.deliveries);
  pending_.seq = std::max(pending_.seq, failed.seq);
  if (!pending_.housekeeping) pending_.housekeeping = failed.housekeeping;
}

void SqliteStore::run() {
  bool last_round = false;
  while (!last_round) {
    Batch batch;
    {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, kStorageFlushEvery, [this] { return stopping_; });
      last_round = stopping_;
      const bool idle_and_fresh = pending_.empty() && health_.ok && health_.last_commit &&
                                  clock_.mono() - *health_.last_commit < std::chrono::seconds(1);
      if (idle_and_fresh && !last_round) continue;
      std::swap(batch, pending_);
    }
    std::optional<HousekeepingJob> job = std::exchange(batch.housekeeping, std::nullopt);
    std::string error;
    const bool ok = write(batch, error);
    if (ok && batch.seq != 0) {
      std::function<void(uint64_t)> notify;
      {
        std::lock_guard lock(mu_);
        notify = on_commit_;
      }
      if (notify) notify(batch.seq);
    }
    if (ok) {
      for (const auto& r : batch.results) summary_builder_.add(r.monitor, r.t_ms, stored_run(r));
    }
    if (ok && job) run_housekeeping(*job);
    // Before health counts the rows written: whoever sees them counted sees them summarized.
    if (ok) publish_summaries();
    const MonoTime now = clock_.mono();
    if (ok) {
      std::lock_guard lock(mu_);
      if (!health_.ok) spdlog::info("storage {} is writable again", path_);
      health_.ok = true;
      health_.error.clear();
      health_.last_commit = now;
      health_.rows_written += batch.results.size();
    } else {
      {
        std::lock_guard lock(mu_);
        if (health_.ok || health_.error != error) {
          spdlog::error(
              "cannot write to storage {}: {}; results are kept in memory (up to {} rows) and "
              "retried",
              path_, error, max_backlog_);
        }
        health_.ok = false;
        health_.error = error;
      }
      merge_back(std::move(batch));
      if (last_round) {
        spdlog::error("stopping with {} results not written to {}", health().backlog, path_);
      }
    }
  }
}

namespace {
double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}
}  // namespace

void SqliteStore::run_housekeeping(const HousekeepingJob& job) {
  const auto started = std::chrono::steady_clock::now();
  const double cpu_started = thread_cpu_seconds();
  std::string error;
  RollupStats rolled;
  uint64_t deleted = 0;
  if (!roll_up(db_, job.now_ms, job.grace_ms, rolled, error)) {
    spdlog::error("rollup in {} failed: {}; it is retried at the next housekeeping tick", path_,
                  error);
  } else if (!apply_retention(db_, job.now_ms, job.retention, deleted, error)) {
    spdlog::error("retention in {} failed: {}; it is retried at the next housekeeping tick", path_,
                  error);
  }
  // Give freed pages back to the file system a bounded slice at a time, keep the WAL short,
  // and let SQLite refresh its planner statistics now and then.
  sqlite3_exec(db_, "PRAGMA incremental_vacuum(2048)", nullptr, nullptr, nullptr);
  sqlite3_exec(db_, "PRAGMA wal_checkpoint(PASSIVE)", nullptr, nullptr, nullptr);
  if (job.now_ms - last_optimize_ms_ >= 3'600'000) {
    sqlite3_exec(db_, "PRAGMA optimize", nullptr, nullptr, nullptr);
    last_optimize_ms_ = job.now_ms;
  }
  summary_builder_.rebuild(db_, job.now_ms, job.grace_ms);
  const auto took =
      std::chrono::duration_cast<Duration>(std::chrono::steady_clock::now() - started);
  {
    std::lock_guard lock(mu_);
    health_.housekeeping_seconds = static_cast<double>(took.count()) / 1000.0;
    health_.housekeeping_cpu_seconds = thread_cpu_seconds() - cpu_started;
  }
  spdlog::debug("housekeeping: {} minute, {} hour, {} day rollups, {} rows past retention, {} ms",
                rolled.minute_rows, rolled.hour_rows, rolled.day_rows, deleted, took.count());
}

void SqliteStore::publish_summaries() {
  if (summary_builder_.built())
    summaries_.publish(summary_builder_.summarize(to_unix_ms(clock_.wall())));
}

bool SqliteStore::write_alerts(const Batch& batch, std::string& error) {
  if (batch.alerts.empty() && batch.deliveries.empty()) return true;
  Stmt inc(db_,
           "INSERT INTO incidents (id, monitor, grp, type, state, cause, started_ms, resolved_ms, "
           "acknowledged_ms, "
           "acknowledged_by, flapping, flap_notified, fired, next_reminder_ms) VALUES "
           "(?,?,?,?,?,?,?,?,?,?,?,?,?,?) "
           "ON CONFLICT (id) DO UPDATE SET state = excluded.state, cause = excluded.cause, "
           "resolved_ms = excluded.resolved_ms, "
           "acknowledged_ms = excluded.acknowledged_ms, acknowledged_by = "
           "excluded.acknowledged_by, flapping = excluded.flapping, "
           "flap_notified = excluded.flap_notified, fired = excluded.fired, next_reminder_ms = "
           "excluded.next_reminder_ms");
  Stmt ev(db_, "INSERT INTO incident_events (incident_id, event, at_ms) VALUES (?,?,?)");
  Stmt out(db_,
           "INSERT OR IGNORE INTO outbox (id, event_id, incident_id, event, channel, recipient, "
           "payload, created_ms, due_ms, "
           "route, audience, status) VALUES (?,?,?,?,?,?,?,?,?,?,?, 'pending')");
  Stmt upd(db_,
           "UPDATE outbox SET status = ?, attempts = ?, due_ms = ?, last_error = ?, sent_ms = ? "
           "WHERE id = ? AND status != 'cancelled'");
  auto ms = [](const std::optional<WallTime>& t) {
    return t ? std::optional<int64_t>(to_unix_ms(*t)) : std::nullopt;
  };
  auto fail = [&] {
    error = sqlite3_errmsg(db_);
    return false;
  };
  for (const auto& changes : batch.alerts) {
    for (const auto& i : changes.incidents) {
      std::string fired;
      for (const auto& f : i.fired) fired += (fired.empty() ? "" : ",") + f;
      inc.bind(1, i.id);
      inc.bind(2, i.monitor);
      inc.bind(3, i.group);
      inc.bind(4, i.type);
      inc.bind(5, std::string(to_string(i.state)));
      inc.bind(6, i.cause);
      inc.bind(7, to_unix_ms(i.started_at));
      inc.bind(8, ms(i.resolved_at));
      inc.bind(9, ms(i.acknowledged_at));
      inc.bind_text_or_null(10, i.acknowledged_by);
      inc.bind(11, static_cast<int64_t>(i.flapping));
      inc.bind(12, static_cast<int64_t>(i.flap_notified));
      inc.bind(13, fired);
      inc.bind(14, ms(i.next_reminder));
      if (inc.step() != SQLITE_DONE) return fail();
      inc.reset();
    }
    for (const auto& e : changes.events) {
      ev.bind(1, e.incident_id);
      ev.bind(2, e.event);
      ev.bind(3, to_unix_ms(e.at));
      if (ev.step() != SQLITE_DONE) return fail();
      ev.reset();
      const int64_t event_id = sqlite3_last_insert_rowid(db_);
      for (const auto& n : e.notifications) {
        out.bind(1, n.id);
        out.bind(2, event_id);
        out.bind(3, n.incident_id);
        out.bind(4, n.event);
        out.bind(5, n.channel);
        out.bind(6, n.recipient);
        out.bind_text_or_null(7, n.payload);
        out.bind(8, to_unix_ms(n.created));
        out.bind(9, to_unix_ms(n.created));
        out.bind(10, n.route);
        out.bind_static(11, n.audience == Audience::kSubscriber ? "subscriber" : "oncall");
        if (out.step() != SQLITE_DONE) return fail();
        out.reset();
      }
    }
  }
  for (const auto& d : batch.deliveries) {
    upd.bind(1, d.status);
    upd.bind(2, static_cast<int64_t>(d.attempts));
    upd.bind(3, d.due_ms);
    upd.bind_text_or_null(4, d.last_error);
    upd.bind(5, d.sent_ms);
    upd.bind(6, d.id);
    if (upd.step() != SQLITE_DONE) return fail();
    upd.reset();
  }
  return true;
}

int64_t SqliteStore::monitor_id(const std::string& name) {
  if (auto it = ids_.find(name); it != ids_.end()) return it->second;
  Stmt ins(db_, "INSERT INTO monitors (name) VALUES (?) ON CONFLICT (name) DO NOTHING");
  ins.bind(1, name);
  ins.step();
  Stmt sel(db_, "SELECT id FROM monitors WHERE name = ?");
  sel.bind(1, name);
  if (sel.step() != SQLITE_ROW) return -1;
  const int64_t id = sqlite3_column_int64(sel.get(), 0);
  ids_.emplace(name, id);
  return id;
}

bool SqliteStore::write(Batch& batch, std::string& error) {
  if (!exec_sql(db_, "BEGIN IMMEDIATE", error)) return false;
  bool ok = true;
  auto fail = [&] {
    error = sqlite3_errmsg(db_);
    ok = false;
  };
  if (!batch.results.empty()) {
    Stmt ins(db_,
             "INSERT INTO results (monitor_id, t_ms, outcome, http_status, total_us, dns_us, "
             "connect_us, tls_us, "
             "first_byte_us, kind, cause, maintenance, detail, samples) VALUES "
             "(?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    for (const auto& r : batch.results) {
      const int64_t id = monitor_id(r.monitor);
      if (id < 0) {
        fail();
        break;
      }
      ins.bind(1, id);
      ins.bind(2, r.t_ms);
      ins.bind(3, static_cast<int64_t>(r.outcome));
      ins.bind(4, r.http_status > 0 ? std::optional<int64_t>(r.http_status) : std::nullopt);
      ins.bind(5, r.timings.total_us);
      ins.bind(6, r.timings.dns_us);
      ins.bind(7, r.timings.connect_us);
      ins.bind(8, r.timings.tls_us);
      ins.bind(9, r.timings.first_byte_us);
      ins.bind_text_or_null(
          10, r.kind == ErrorKind::kNone ? std::string() : std::string(to_string(r.kind)));
      ins.bind_text_or_null(11, r.cause);
      ins.bind(12, static_cast<int64_t>(r.maintenance));
      ins.bind_text_or_null(13, r.detail);
      if (auto samples = stored_run(r).samples) {
        ins.bind_blob(14, *samples);
      } else {
        ins.bind_null(14);
      }
      if (ins.step() != SQLITE_DONE) {
        fail();
        break;
      }
      ins.reset();
    }
  }
  if (ok && !batch.states.empty()) {
    Stmt up(db_,
            "INSERT INTO monitor_state (monitor_id, state, since_ms, recent, last_check_ms, "
            "last_outcome, last_latency_us, "
            "last_cause) VALUES (?,?,?,?,?,?,?,?) ON CONFLICT (monitor_id) DO UPDATE SET state = "
            "excluded.state, "
            "since_ms = excluded.since_ms, recent = excluded.recent, last_check_ms = "
            "excluded.last_check_ms, "
            "last_outcome = excluded.last_outcome, last_latency_us = excluded.last_latency_us, "
            "last_cause = excluded.last_cause");
    for (const auto& [name, s] : batch.states) {
      const int64_t id = monitor_id(name);
      if (id < 0) {
        fail();
        break;
      }
      up.bind(1, id);
      up.bind(2, s.state);
      up.bind(3, s.since_ms);
      up.bind(4, s.recent);
      up.bind(5, s.last_check_ms);
      up.bind(6, s.last_outcome ? std::optional<int64_t>(static_cast<int64_t>(*s.last_outcome))
                                : std::nullopt);
      up.bind(7, s.last_latency_us);
      up.bind_text_or_null(8, s.last_cause);
      if (up.step() != SQLITE_DONE) {
        fail();
        break;
      }
      up.reset();
    }
  }
  if (ok && !batch.baselines.empty()) {
    Stmt up(db_,
            "INSERT INTO dns_baselines (monitor_id, question, answers, set_ms) VALUES (?,?,?,?) ON "
            "CONFLICT (monitor_id) "
            "DO UPDATE SET question = excluded.question, answers = excluded.answers, set_ms = "
            "excluded.set_ms");
    for (const auto& [name, b] : batch.baselines) {
      const int64_t id = monitor_id(name);
      if (id < 0) {
        fail();
        break;
      }
      up.bind(1, id);
      up.bind(2, b.question);
      up.bind(3, nlohmann::json(b.answers).dump());
      up.bind(4, to_unix_ms(clock_.wall()));
      if (up.step() != SQLITE_DONE) {
        fail();
        break;
      }
      up.reset();
    }
  }
  if (ok && !batch.posts.empty()) ok = write_posts(db_, batch.posts, error);
  if (ok && !batch.maintenance.empty()) ok = write_maintenance(db_, batch.maintenance, error);
  if (ok && !batch.heartbeats.empty()) {
    ok = write_heartbeats(
        db_, batch.heartbeats, [this](const std::string& name) { return monitor_id(name); }, error);
  }
  if (ok) ok = write_alerts(batch, error);
  // After the outbox rows: erasing an address cancels its pending mail, which includes mail
  // this same batch adds for it.
  if (ok && !batch.subscribers.empty())
    ok = write_subscribers(db_, batch.subscribers, batch.forgotten, error);
  if (ok) {
    // The heartbeat row makes every flush a commit, so /healthz can tell a writable disk from
    // an idle one.
    Stmt beat(db_,
              "INSERT INTO meta (key, value) VALUES ('heartbeat', ?) ON CONFLICT (key) DO UPDATE "
              "SET value = excluded.value");
    beat.bind(1, std::to_string(to_unix_ms(clock_.wall())));
    if (beat.step() != SQLITE_DONE) fail();
  }
  if (ok && !exec_sql(db_, "COMMIT", error)) ok = false;
  if (!ok) {
    std::string ignored;
    exec_sql(db_, "ROLLBACK", ignored);
    ids_.clear();  // ids inserted in the rolled back transaction are gone
  }
  return ok;
}

namespace {

// A lease of one read-only connection; the history reader is made on first use, since most
// requests read incidents only.
class SqliteReads final : public StorageReads {
 public:
  explicit SqliteReads(std::unique_ptr<ReadPool::Lease> lease) : lease_(std::move(lease)) {}

  std::vector<SeriesPoint> series(const std::string& monitor, int64_t from_ms, int64_t to_ms,
                                  int64_t step_ms) override {
    if (!history_) history_ = std::make_unique<HistoryReader>(lease_->get());
    if (const auto id = history_->monitor_id(monitor))
      return history_->series(*id, from_ms, to_ms, step_ms);
    std::vector<SeriesPoint> empty;
    for (int64_t t = align_down(from_ms, step_ms); t <= to_ms; t += step_ms)
      empty.push_back({t, {}});
    return empty;
  }
  std::vector<IncidentRecord> resolved_incidents(int64_t resolved_since_ms, int limit) override {
    return lookout::resolved_incidents(lease_->get(), resolved_since_ms, limit);
  }
  std::vector<IncidentEventRow> incident_events(const std::vector<int64_t>& ids) override {
    return lookout::incident_events(lease_->get(), ids);
  }
  std::vector<IncidentRecord> list_incidents(IncidentFilter which,
                                             const std::function<bool(const IncidentRecord&)>& keep,
                                             size_t limit) override {
    return lookout::list_incidents(lease_->get(), which, keep, limit);
  }
  std::vector<IncidentNotification> incident_notifications(int64_t first_id,
                                                           int64_t last_id) override {
    return lookout::incident_notifications(lease_->get(), first_id, last_id);
  }
  std::vector<IncidentRecord> monitor_incidents(const std::string& monitor, int limit) override {
    return lookout::monitor_incidents(lease_->get(), monitor, limit);
  }

 private:
  std::unique_ptr<ReadPool::Lease> lease_;
  std::unique_ptr<HistoryReader> history_;
};

}  // namespace

std::unique_ptr<StorageReads> SqliteStore::reads() {
  auto lease = read_pool_.take();
  if (!lease) return nullptr;
  return std::make_unique<SqliteReads>(std::move(lease));
}

std::unique_ptr<Storage> open_storage(const std::string& path, const Clock& clock,
                                      std::string& error) {
  return SqliteStore::open(path, clock, error);
}

}  // namespace lookout
