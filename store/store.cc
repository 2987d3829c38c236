#include "store/store.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <ctime>
#include <filesystem>

#include "store/schema.h"

namespace lookout {
namespace {

class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) { rc_ = sqlite3_prepare_v2(db, sql, -1, &st_, nullptr); }
  ~Stmt() { sqlite3_finalize(st_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  bool ok() const { return rc_ == SQLITE_OK; }
  sqlite3_stmt* get() { return st_; }
  void bind(int i, int64_t v) { sqlite3_bind_int64(st_, i, v); }
  void bind(int i, const std::string& v) { sqlite3_bind_text(st_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT); }
  void bind(int i, std::optional<int64_t> v) {
    if (v) {
      sqlite3_bind_int64(st_, i, *v);
    } else {
      sqlite3_bind_null(st_, i);
    }
  }
  void bind_text_or_null(int i, const std::string& v) {
    if (v.empty()) {
      sqlite3_bind_null(st_, i);
    } else {
      bind(i, v);
    }
  }
  int step() { return sqlite3_step(st_); }
  void reset() {
    sqlite3_reset(st_);
    sqlite3_clear_bindings(st_);
  }

 private:
  sqlite3_stmt* st_ = nullptr;
  int rc_;
};

bool exec(sqlite3* db, const char* sql, std::string& error) {
  char* msg = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &msg) != SQLITE_OK) {
    error = msg != nullptr ? msg : sqlite3_errmsg(db);
    sqlite3_free(msg);
    return false;
  }
  return true;
}

std::optional<int64_t> column_opt(sqlite3_stmt* st, int i) {
  if (sqlite3_column_type(st, i) == SQLITE_NULL) return std::nullopt;
  return sqlite3_column_int64(st, i);
}

std::string column_text(sqlite3_stmt* st, int i) {
  const auto* t = sqlite3_column_text(st, i);
  return t != nullptr ? std::string(reinterpret_cast<const char*>(t)) : std::string();
}

}  // namespace

std::unique_ptr<Store> Store::open(const std::string& path, const Clock& clock, std::string& error) {
  std::error_code ec;
  const auto dir = std::filesystem::path(path).parent_path();
  if (!dir.empty()) std::filesystem::create_directories(dir, ec);
  if (ec) {
    error = fmt::format("cannot create the storage folder {}: {}", dir.string(), ec.message());
    return nullptr;
  }
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
    error = fmt::format("cannot open the database {}: {}", path, db != nullptr ? sqlite3_errmsg(db) : "out of memory");
    sqlite3_close(db);
    return nullptr;
  }
  sqlite3_busy_timeout(db, 5000);
  std::string why;
  // WAL lets the web threads read while this connection writes; NORMAL sync keeps every commit
  // across a process kill (the WAL is in the OS) and costs no fsync per batch.
  // auto_vacuum only takes on a new, empty file: set it before the first table exists.
  if (!exec(db, "PRAGMA auto_vacuum = INCREMENTAL; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; "
                "PRAGMA foreign_keys = OFF;", why) ||
      !migrate(db, why) ||
      !exec(db, "INSERT INTO meta (key, value) VALUES ('opened_at', strftime('%s','now')) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            why)) {
    error = fmt::format("storage {} is not usable: {}", path, why);
    sqlite3_close(db);
    return nullptr;
  }
  return std::unique_ptr<Store>(new Store(db, path, clock));
}

Store::Store(sqlite3* db, std::string path, const Clock& clock) : db_(db), path_(std::move(path)), clock_(clock) {
  health_.last_commit = clock_.mono();
}

Store::~Store() {
  stop();
  sqlite3_close(db_);
}

std::map<std::string, StateRow> Store::load_states() {
  std::map<std::string, StateRow> out;
  Stmt st(db_,
          "SELECT m.name, s.state, s.since_ms, s.recent, s.last_check_ms, s.last_outcome, s.last_latency_us, s.last_cause "
          "FROM monitor_state s JOIN monitors m ON m.id = s.monitor_id");
  while (st.ok() && st.step() == SQLITE_ROW) {
    StateRow r;
    r.monitor = column_text(st.get(), 0);
    r.state = column_text(st.get(), 1);
    r.since_ms = sqlite3_column_int64(st.get(), 2);
    r.recent = column_text(st.get(), 3);
    r.last_check_ms = column_opt(st.get(), 4);
    if (auto o = column_opt(st.get(), 5); o && *o >= 0 && *o <= 2) r.last_outcome = static_cast<Outcome>(*o);
    r.last_latency_us = column_opt(st.get(), 6);
    r.last_cause = column_text(st.get(), 7);
    out.emplace(r.monitor, std::move(r));
  }
  return out;
}

void Store::start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { run(); });
}

void Store::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Store::add_result(ResultRow row) {
  std::lock_guard lock(mu_);
  pending_.results.push_back(std::move(row));
}

void Store::put_state(StateRow row) {
  std::lock_guard lock(mu_);
  auto name = row.monitor;
  pending_.states[name] = std::move(row);
}

void Store::housekeep(HousekeepingJob job) {
  {
    std::lock_guard lock(mu_);
    pending_.housekeeping = job;
  }
  cv_.notify_all();
}

StoreHealth Store::health() const {
  std::lock_guard lock(mu_);
  StoreHealth h = health_;
  h.backlog = pending_.results.size();
  return h;
}

void Store::merge_back(Batch&& failed) {
  std::lock_guard lock(mu_);
  // Older rows first, then what arrived while writing.
  failed.results.insert(failed.results.end(), std::make_move_iterator(pending_.results.begin()),
                        std::make_move_iterator(pending_.results.end()));
  pending_.results = std::move(failed.results);
  if (pending_.results.size() > kMaxBacklog) {
    const size_t drop = pending_.results.size() - kMaxBacklog;
    pending_.results.erase(pending_.results.begin(), pending_.results.begin() + static_cast<long>(drop));
    health_.rows_dropped += drop;
  }
  for (auto& [k, v] : failed.states) pending_.states.try_emplace(k, std::move(v));
  if (!pending_.housekeeping) pending_.housekeeping = failed.housekeeping;
}

void Store::run() {
  bool last_round = false;
  while (!last_round) {
    Batch batch;
    {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, kFlushEvery, [this] { return stopping_; });
      last_round = stopping_;
      const bool idle_and_fresh = pending_.empty() && health_.ok && health_.last_commit &&
                                  clock_.mono() - *health_.last_commit < std::chrono::seconds(1);
      if (idle_and_fresh && !last_round) continue;
      std::swap(batch, pending_);
    }
    std::optional<HousekeepingJob> job = std::exchange(batch.housekeeping, std::nullopt);
    std::string error;
    const bool ok = write(batch, error);
    if (ok && job) run_housekeeping(*job);
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
          spdlog::error("cannot write to storage {}: {}; results are kept in memory (up to {} rows) and retried",
                        path_, error, kMaxBacklog);
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

void Store::run_housekeeping(const HousekeepingJob& job) {
  const auto started = std::chrono::steady_clock::now();
  const double cpu_started = thread_cpu_seconds();
  std::string error;
  RollupStats rolled;
  uint64_t deleted = 0;
  if (!roll_up(db_, job.now_ms, job.grace_ms, rolled, error)) {
    spdlog::error("rollup in {} failed: {}; it is retried at the next housekeeping tick", path_, error);
  } else if (!apply_retention(db_, job.now_ms, job.retention, deleted, error)) {
    spdlog::error("retention in {} failed: {}; it is retried at the next housekeeping tick", path_, error);
  }
  // Give freed pages back to the file system a bounded slice at a time, keep the WAL short,
  // and let SQLite refresh its planner statistics now and then.
  sqlite3_exec(db_, "PRAGMA incremental_vacuum(2048)", nullptr, nullptr, nullptr);
  sqlite3_exec(db_, "PRAGMA wal_checkpoint(PASSIVE)", nullptr, nullptr, nullptr);
  if (job.now_ms - last_optimize_ms_ >= 3'600'000) {
    sqlite3_exec(db_, "PRAGMA optimize", nullptr, nullptr, nullptr);
    last_optimize_ms_ = job.now_ms;
  }
  summaries_.publish(std::make_shared<const SummaryMap>(compute_summaries(db_, job.now_ms)));
  const auto took = std::chrono::duration_cast<Duration>(std::chrono::steady_clock::now() - started);
  {
    std::lock_guard lock(mu_);
    health_.housekeeping_seconds = static_cast<double>(took.count()) / 1000.0;
    health_.housekeeping_cpu_seconds = thread_cpu_seconds() - cpu_started;
  }
  spdlog::debug("housekeeping: {} minute, {} hour, {} day rollups, {} rows past retention, {} ms", rolled.minute_rows,
                rolled.hour_rows, rolled.day_rows, deleted, took.count());
}

int64_t Store::monitor_id(const std::string& name) {
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

bool Store::write(Batch& batch, std::string& error) {
  if (!exec(db_, "BEGIN IMMEDIATE", error)) return false;
  bool ok = true;
  auto fail = [&] {
    error = sqlite3_errmsg(db_);
    ok = false;
  };
  if (!batch.results.empty()) {
    Stmt ins(db_,
             "INSERT INTO results (monitor_id, t_ms, outcome, http_status, total_us, dns_us, connect_us, tls_us, "
             "first_byte_us, kind, cause) VALUES (?,?,?,?,?,?,?,?,?,?,?)");
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
      ins.bind_text_or_null(10, r.kind == ErrorKind::kNone ? std::string() : std::string(to_string(r.kind)));
      ins.bind_text_or_null(11, r.cause);
      if (ins.step() != SQLITE_DONE) {
        fail();
        break;
      }
      ins.reset();
    }
  }
  if (ok && !batch.states.empty()) {
    Stmt up(db_,
            "INSERT INTO monitor_state (monitor_id, state, since_ms, recent, last_check_ms, last_outcome, last_latency_us, "
            "last_cause) VALUES (?,?,?,?,?,?,?,?) ON CONFLICT (monitor_id) DO UPDATE SET state = excluded.state, "
            "since_ms = excluded.since_ms, recent = excluded.recent, last_check_ms = excluded.last_check_ms, "
            "last_outcome = excluded.last_outcome, last_latency_us = excluded.last_latency_us, last_cause = excluded.last_cause");
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
      up.bind(6, s.last_outcome ? std::optional<int64_t>(static_cast<int64_t>(*s.last_outcome)) : std::nullopt);
      up.bind(7, s.last_latency_us);
      up.bind_text_or_null(8, s.last_cause);
      if (up.step() != SQLITE_DONE) {
        fail();
        break;
      }
      up.reset();
    }
  }
  if (ok) {
    // The heartbeat row makes every flush a commit, so /healthz can tell a writable disk from
    // an idle one.
    Stmt beat(db_, "INSERT INTO meta (key, value) VALUES ('heartbeat', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value");
    beat.bind(1, std::to_string(to_unix_ms(clock_.wall())));
    if (beat.step() != SQLITE_DONE) fail();
  }
  if (ok && !exec(db_, "COMMIT", error)) ok = false;
  if (!ok) {
    std::string ignored;
    exec(db_, "ROLLBACK", ignored);
    ids_.clear();  // ids inserted in the rolled back transaction are gone
  }
  return ok;
}

}  // namespace lookout
