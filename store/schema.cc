#include "store/schema.h"

#include <fmt/format.h>

#include <array>

namespace lookout {
namespace {

// Each entry moves the schema from version i to i + 1. Never edit a shipped entry: add one.
constexpr std::array<const char*, 2> kMigrations{
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
)sql"};

int user_version(sqlite3* db) {
  sqlite3_stmt* st = nullptr;
  int v = -1;
  if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
    v = sqlite3_column_int(st, 0);
  }
  sqlite3_finalize(st);
  return v;
}

}  // namespace

int schema_version() { return static_cast<int>(kMigrations.size()); }

bool migrate(sqlite3* db, std::string& error) {
  const int have = user_version(db);
  if (have < 0) {
    error = sqlite3_errmsg(db);
    return false;
  }
  if (have > schema_version()) {
    error = fmt::format("the database has schema version {}, newer than this lookout knows ({}); use a newer lookout", have,
                        schema_version());
    return false;
  }
  for (int v = have; v < schema_version(); ++v) {
    const std::string sql = fmt::format("BEGIN IMMEDIATE;\n{}\nPRAGMA user_version = {};\nCOMMIT;", kMigrations[static_cast<size_t>(v)], v + 1);
    char* msg = nullptr;
    if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &msg) != SQLITE_OK) {
      error = fmt::format("migration to schema version {} failed: {}", v + 1, msg != nullptr ? msg : "unknown error");
      sqlite3_free(msg);
      sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
      return false;
    }
  }
  return true;
}

}  // namespace lookout
