#include "store/schema.h"

#include <fmt/format.h>

#include <array>
#include <filesystem>

namespace lookout {
namespace {

// Each entry moves the schema from version i to i + 1. Never edit a shipped entry: add one.
constexpr std::array<const char*, 9> kMigrations{
    R"sql(
CREATE TABLE monitors (
  id   INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE
);
-- One row per probe run. Times are Unix milliseconds (wall clock); phases in microseconds.
CREATE TABLE results (
  monitor_id    INTEGER NOT NULL,
  t_ms          INTEGER NOT NULL,
  outcome       INTEGER NOT NULL,        -- 0 up, 1 degraded, 2 down
  http_status   INTEGER,
  total_us      INTEGER,                 -- NULL without a response
  dns_us        INTEGER,
  connect_us    INTEGER,
  tls_us        INTEGER,
  first_byte_us INTEGER,
  kind          TEXT,
  cause         TEXT,
  maintenance   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX results_by_monitor ON results (monitor_id, t_ms);
CREATE INDEX results_by_time ON results (t_ms);
-- The evaluated state of each monitor, so a restart continues where it stopped.
CREATE TABLE monitor_state (
  monitor_id      INTEGER PRIMARY KEY,
  state           TEXT NOT NULL,
  since_ms        INTEGER NOT NULL,
  recent          TEXT NOT NULL,         -- the latest runs, u/g/d, oldest first
  last_check_ms   INTEGER,
  last_outcome    INTEGER,
  last_latency_us INTEGER,
  last_cause      TEXT
);
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
)sql",
    R"sql(
-- Per-monitor rollups: minute rows from raw results, hour rows from minutes, day rows from
-- hours. t_ms is the bucket's start (UTC). `sketch` is a LatencySketch in its binary form.
CREATE TABLE rollup_minute (
  monitor_id  INTEGER NOT NULL,
  t_ms        INTEGER NOT NULL,
  count       INTEGER NOT NULL,
  failures    INTEGER NOT NULL,
  degraded    INTEGER NOT NULL,
  maintenance INTEGER NOT NULL,
  min_us      INTEGER,
  max_us      INTEGER,
  sum_us      INTEGER NOT NULL,
  sketch      BLOB NOT NULL,
  PRIMARY KEY (monitor_id, t_ms)
) WITHOUT ROWID;
CREATE INDEX rollup_minute_by_time ON rollup_minute (t_ms);
CREATE TABLE rollup_hour (
  monitor_id  INTEGER NOT NULL,
  t_ms        INTEGER NOT NULL,
  count       INTEGER NOT NULL,
  failures    INTEGER NOT NULL,
  degraded    INTEGER NOT NULL,
  maintenance INTEGER NOT NULL,
  min_us      INTEGER,
  max_us      INTEGER,
  sum_us      INTEGER NOT NULL,
  sketch      BLOB NOT NULL,
  PRIMARY KEY (monitor_id, t_ms)
) WITHOUT ROWID;
CREATE INDEX rollup_hour_by_time ON rollup_hour (t_ms);
CREATE TABLE rollup_day (
  monitor_id  INTEGER NOT NULL,
  t_ms        INTEGER NOT NULL,
  count       INTEGER NOT NULL,
  failures    INTEGER NOT NULL,
  degraded    INTEGER NOT NULL,
  maintenance INTEGER NOT NULL,
  min_us      INTEGER,
  max_us      INTEGER,
  sum_us      INTEGER NOT NULL,
  sketch      BLOB NOT NULL,
  PRIMARY KEY (monitor_id, t_ms)
) WITHOUT ROWID;
CREATE INDEX rollup_day_by_time ON rollup_day (t_ms);
)sql",
    R"sql(
-- Incidents: one open (resolved_ms NULL) per monitor at most.
CREATE TABLE incidents (
  id               INTEGER PRIMARY KEY,
  monitor          TEXT NOT NULL,
  grp              TEXT NOT NULL,
  type             TEXT NOT NULL,
  state            TEXT NOT NULL,
  cause            TEXT NOT NULL,
  started_ms       INTEGER NOT NULL,
  resolved_ms      INTEGER,
  acknowledged_ms  INTEGER,
  acknowledged_by  TEXT,
  flapping         INTEGER NOT NULL DEFAULT 0,
  flap_notified    INTEGER NOT NULL DEFAULT 0,
  fired            TEXT NOT NULL DEFAULT '',   -- escalation tiers fired, "route#i" comma-separated
  next_reminder_ms INTEGER
);
CREATE INDEX incidents_by_state ON incidents (resolved_ms, started_ms);
CREATE TABLE incident_events (
  id          INTEGER PRIMARY KEY,
  incident_id INTEGER NOT NULL,
  event       TEXT NOT NULL,
  at_ms       INTEGER NOT NULL
);
CREATE INDEX incident_events_by_incident ON incident_events (incident_id);
-- The outbox: every notification, written with the event that caused it, sent at least once.
CREATE TABLE outbox (
  id          TEXT PRIMARY KEY,            -- evt_..., also the webhook's Idempotency-Key
  event_id    INTEGER,
  incident_id INTEGER NOT NULL,            -- 0 for a test
  event       TEXT NOT NULL,
  channel     TEXT NOT NULL,
  recipient   TEXT NOT NULL,
  payload     TEXT,
  created_ms  INTEGER NOT NULL,
  due_ms      INTEGER NOT NULL,
  attempts    INTEGER NOT NULL DEFAULT 0,
  status      TEXT NOT NULL,               -- pending | sent | failed | gave_up
  last_error  TEXT,
  sent_ms     INTEGER
);
CREATE INDEX outbox_by_status ON outbox (status, due_ms);
CREATE INDEX outbox_by_event ON outbox (event_id);
)sql",
    R"sql(
-- What a run of each kind keeps beside its phases: a journey's steps, a latency run's
-- samples, a dns run's answers, a cert run's chain (JSON, never a secret).
ALTER TABLE results ADD COLUMN detail TEXT;
-- Latency runs with several samples: every sample, little-endian 64-bit microseconds, so the
-- rollups' percentiles count each sample and not only the run's median.
ALTER TABLE results ADD COLUMN samples BLOB;
-- The accepted answer set of each dns monitor with on_change = "alert".
CREATE TABLE dns_baselines (
  monitor_id  INTEGER PRIMARY KEY,
  question    TEXT NOT NULL,               -- "A portal.acme.example": a changed question drops it
  answers     TEXT NOT NULL,               -- JSON array of answers in presentation form
  set_ms      INTEGER NOT NULL
);
)sql",
    R"sql(
-- The route that caused each notification: its group_wait and group_interval batch a storm.
ALTER TABLE outbox ADD COLUMN route TEXT NOT NULL DEFAULT '';
)sql",
    R"sql(
-- Posts people write on the status page, and each status change with its text.
CREATE TABLE posts (
  id          INTEGER PRIMARY KEY,
  title       TEXT NOT NULL,
  impact      TEXT NOT NULL,               -- none | minor | major | critical
  monitors    TEXT NOT NULL,               -- JSON array of monitor names
  created_ms  INTEGER NOT NULL,
  resolved_ms INTEGER
);
CREATE TABLE post_updates (
  post_id     INTEGER NOT NULL,
  seq         INTEGER NOT NULL,            -- 0 is the post's opening
  status      TEXT NOT NULL,               -- investigating | identified | monitoring | resolved
  body        TEXT NOT NULL,
  at_ms       INTEGER NOT NULL,
  PRIMARY KEY (post_id, seq)
);
)sql",
    R"sql(
-- What each heartbeat monitor knows beyond its runs, so a restart (even a kill -9) carries on:
-- a job that started before it is judged by its max_runtime, the due time counts from the
-- last success, and the last message is still there.
CREATE TABLE heartbeats (
  monitor_id   INTEGER PRIMARY KEY,
  last_ping_ms INTEGER,                    -- the last success or failure
  last_any_ms  INTEGER,                    -- the last ping of any kind (start, log too)
  up           INTEGER NOT NULL DEFAULT 0, -- whether that last one was a success
  starts       TEXT NOT NULL DEFAULT '{}', -- jobs running: JSON {"rid": start ms}
  message_ms   INTEGER,
  message      TEXT                        -- the last ping's body, at most 10 KiB
);
)sql",
    R"sql(
-- Maintenance windows made through the API (the config's [[maintenance]] blocks are not stored).
CREATE TABLE maintenance (
  id          INTEGER PRIMARY KEY,
  title       TEXT NOT NULL,
  body        TEXT NOT NULL,
  monitors    TEXT NOT NULL,               -- JSON array of names or globs
  start_ms    INTEGER NOT NULL,
  duration_ms INTEGER NOT NULL
);
)sql",
    R"sql(
-- Stakeholders subscribed to the status page by email. An erased address (unsubscribed, or
-- never confirmed) leaves its row with email NULL, so that its id, which links carry, is never
-- given again.
CREATE TABLE subscribers (
  id           INTEGER PRIMARY KEY,
  email        TEXT,
  created_ms   INTEGER NOT NULL,
  confirmed_ms INTEGER,
  mailed_ms    INTEGER                     -- the last confirmation mail
);
-- Who a notification is for: oncall, or subscriber (one address in recipient). Subscriber mail
-- of an erased address is cancelled (status 'cancelled', recipient emptied).
ALTER TABLE outbox ADD COLUMN audience TEXT NOT NULL DEFAULT 'oncall';
CREATE INDEX outbox_by_recipient ON outbox (recipient) WHERE audience = 'subscriber';
)sql"};

int user_version(sqlite3* db) {
  sqlite3_stmt* st = nullptr;
  int v = -1;
  if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, nullptr) == SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW) {
    v = sqlite3_column_int(st, 0);
  }
  sqlite3_finalize(st);
  return v;
}

}  // namespace

sqlite3* open_sqlite_file(const std::string& path, const char* what, int busy_ms,
                          std::string& error) {
  std::error_code ec;
  const auto dir = std::filesystem::path(path).parent_path();
  if (!dir.empty()) std::filesystem::create_directories(dir, ec);
  if (ec) {
    error = fmt::format("cannot create the folder of {} {}: {}", what, dir.string(), ec.message());
    return nullptr;
  }
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                      nullptr) != SQLITE_OK) {
    error = fmt::format("cannot open {} {}: {}", what, path,
                        db != nullptr ? sqlite3_errmsg(db) : "out of memory");
    sqlite3_close(db);
    return nullptr;
  }
  sqlite3_busy_timeout(db, busy_ms);
  return db;
}

bool exec_sql(sqlite3* db, const char* sql, std::string& error) {
  char* msg = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &msg) != SQLITE_OK) {
    error = msg != nullptr ? msg : sqlite3_errmsg(db);
    sqlite3_free(msg);
    return false;
  }
  return true;
}

int schema_version() { return static_cast<int>(kMigrations.size()); }

bool migrate(sqlite3* db, std::string& error) {
  const int have = user_version(db);
  if (have < 0) {
    error = sqlite3_errmsg(db);
    return false;
  }
  if (have > schema_version()) {
    error = fmt::format(
        "the database has schema version {}, newer than this lookout knows ({}); use a newer "
        "lookout",
        have, schema_version());
    return false;
  }
  for (int v = have; v < schema_version(); ++v) {
    const std::string sql = fmt::format("BEGIN IMMEDIATE;\n{}\nPRAGMA user_version = {};\nCOMMIT;",
                                        kMigrations[static_cast<size_t>(v)], v + 1);
    char* msg = nullptr;
    if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &msg) != SQLITE_OK) {
      error = fmt::format("migration to schema version {} failed: {}", v + 1,
                          msg != nullptr ? msg : "unknown error");
      sqlite3_free(msg);
      sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
      return false;
    }
  }
  return true;
}

}  // namespace lookout
