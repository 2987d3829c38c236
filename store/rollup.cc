#include "store/rollup.h"

#include <fmt/format.h>

#include <map>
#include <string_view>
#include <utility>

#include "store/aggregate.h"
#include "store/schema.h"
#include "store/statement.h"

namespace lookout {
namespace {

// Buckets folded per transaction, so one tick after a long stop never holds the lock long.
constexpr int64_t kChunkMs = 6LL * 3'600'000;
constexpr int64_t kDeleteChunk = 20'000;

// Sets `error` from the connection's last failure; false, for the caller to return.
bool failed(sqlite3* db, std::string& error) {
  error = sqlite3_errmsg(db);
  return false;
}

std::optional<int64_t> meta_int(sqlite3* db, const char* key) {
  Stmt st(db, "SELECT value FROM meta WHERE key = ?");
  if (!st.ok()) return std::nullopt;
  st.bind_static(1, key);
  if (st.step() != SQLITE_ROW) return std::nullopt;
  return sqlite3_column_int64(st.get(), 0);
}

bool set_meta_int(sqlite3* db, const char* key, int64_t v, std::string& error) {
  Stmt st(db,
          "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET "
          "value = excluded.value");
  st.bind_static(1, key);
  st.bind(2, std::to_string(v));
  return st.step() == SQLITE_DONE || failed(db, error);
}

std::optional<int64_t> min_time(sqlite3* db, const std::string& table) {
  Stmt st(db, fmt::format("SELECT min(t_ms) FROM {}", table));
  if (!st.ok() || st.step() != SQLITE_ROW) return std::nullopt;
  return column_opt(st.get(), 0);
}

using Buckets = std::map<std::pair<int64_t, int64_t>, Aggregate>;  // (monitor, bucket start)

// Hands each row of `sql`, a query of [from, to), to `fold`.
template <typename Fold>
bool fold_rows(sqlite3* db, const std::string& sql, int64_t from, int64_t to, std::string& error,
               Fold fold) {
  Stmt st(db, sql);
  if (!st.ok()) return failed(db, error);
  st.bind(1, from);
  st.bind(2, to);
  int rc;
  while ((rc = st.step()) == SQLITE_ROW) fold(st.get());
  return rc == SQLITE_DONE || failed(db, error);
}

bool fold_raw(sqlite3* db, int64_t from, int64_t to, Buckets& out, std::string& error) {
  const char* sql =
      "SELECT monitor_id, t_ms, outcome, total_us, maintenance, samples FROM results "
      "WHERE t_ms >= ? AND t_ms < ?";
  return fold_rows(db, sql, from, to, error, [&](sqlite3_stmt* st) {
    const int64_t bucket = align_down(sqlite3_column_int64(st, 1), kMinuteLevel.size_ms);
    out[{sqlite3_column_int64(st, 0), bucket}].add(read_run_columns(st, 2));
  });
}

bool fold_level(sqlite3* db, const RollupLevel& source, int64_t size, int64_t from, int64_t to,
                Buckets& out, std::string& error) {
  const std::string sql = fmt::format(
      "SELECT monitor_id, t_ms, count, failures, degraded, maintenance, min_us, max_us, sum_us, "
      "sketch FROM {} "
      "WHERE t_ms >= ? AND t_ms < ?",
      source.table);
  return fold_rows(db, sql, from, to, error, [&](sqlite3_stmt* st) {
    const Aggregate a = read_rollup_columns(st, 2, true);
    out[{sqlite3_column_int64(st, 0), align_down(sqlite3_column_int64(st, 1), size)}].merge(a);
  });
}

bool write_buckets(sqlite3* db, const RollupLevel& level, const Buckets& buckets,
                   std::string& error) {
  const std::string sql = fmt::format(
      "INSERT OR REPLACE INTO {} (monitor_id, t_ms, count, failures, degraded, maintenance, "
      "min_us, max_us, sum_us, "
      "sketch) VALUES (?,?,?,?,?,?,?,?,?,?)",
      level.table);
  Stmt st(db, sql);
  if (!st.ok()) return failed(db, error);
  for (const auto& [key, a] : buckets) {
    st.bind(1, key.first);
    st.bind(2, key.second);
    bind_rollup_columns(st.get(), 3, a);
    if (st.step() != SQLITE_DONE) return failed(db, error);
    st.reset();
  }
  return true;
}

// Folds [watermark, limit) of one level, chunk by chunk, each chunk with its watermark in one
// transaction. `first` is where to start when the level has no watermark yet.
bool roll_level(sqlite3* db, const RollupLevel& level, const RollupLevel* source,
                std::optional<int64_t> first, int64_t limit, uint64_t& rows, std::string& error) {
  std::optional<int64_t> from = meta_int(db, level.watermark_key);
  if (!from) {
    if (!first) return true;  // nothing to roll yet
    from = align_down(*first, level.size_ms);
  }
  limit = align_down(limit, level.size_ms);
  while (*from < limit) {
    const int64_t to = std::min(limit, *from + std::max(kChunkMs, level.size_ms));
    Buckets buckets;
    if (!exec_sql(db, "BEGIN IMMEDIATE", error)) return false;
    const bool ok =
        (source == nullptr ? fold_raw(db, *from, to, buckets, error)
                           : fold_level(db, *source, level.size_ms, *from, to, buckets, error)) &&
        write_buckets(db, level, buckets, error) &&
        set_meta_int(db, level.watermark_key, to, error);
    if (!ok || !exec_sql(db, "COMMIT", error)) {
      std::string ignored;
      exec_sql(db, "ROLLBACK", ignored);
      return false;
    }
    rows += buckets.size();
    from = to;
  }
  return true;
}

bool delete_before(sqlite3* db, const char* table, int64_t before, uint64_t& deleted,
                   std::string& error) {
  const std::string sql =
      fmt::format("DELETE FROM {0} WHERE rowid IN (SELECT rowid FROM {0} WHERE t_ms < ? LIMIT {1})",
                  table, kDeleteChunk);
  const std::string sql_norowid = fmt::format(
      "DELETE FROM {0} WHERE (monitor_id, t_ms) IN (SELECT monitor_id, t_ms FROM {0} WHERE t_ms < "
      "? LIMIT {1})",
      table, kDeleteChunk);
  const bool has_rowid = std::string_view(table) == "results";
  Stmt st(db, has_rowid ? sql : sql_norowid);
  if (!st.ok()) return failed(db, error);
  st.bind(1, before);
  const bool ok = st.step() == SQLITE_DONE || failed(db, error);
  deleted += static_cast<uint64_t>(sqlite3_changes(db));
  return ok;
}

}  // namespace

std::optional<int64_t> column_opt(sqlite3_stmt* st, int i) {
  if (sqlite3_column_type(st, i) == SQLITE_NULL) return std::nullopt;
  return sqlite3_column_int64(st, i);
}

StoredRun read_run_columns(sqlite3_stmt* st, int first) {
  StoredRun run;
  const int outcome = sqlite3_column_int(st, first);
  run.outcome = static_cast<Outcome>(outcome < 0 || outcome > 2 ? 2 : outcome);
  run.total_us = column_opt(st, first + 1);
  run.maintenance = sqlite3_column_int(st, first + 2) != 0;
  if (sqlite3_column_type(st, first + 3) == SQLITE_BLOB) {
    run.samples.emplace(static_cast<const char*>(sqlite3_column_blob(st, first + 3)),
                        static_cast<size_t>(sqlite3_column_bytes(st, first + 3)));
  }
  return run;
}

Aggregate read_rollup_columns(sqlite3_stmt* st, int first, bool with_sketch) {
  Aggregate a;
  a.count = static_cast<uint64_t>(sqlite3_column_int64(st, first));
  a.failures = static_cast<uint64_t>(sqlite3_column_int64(st, first + 1));
  a.degraded = static_cast<uint64_t>(sqlite3_column_int64(st, first + 2));
  a.maintenance = static_cast<uint64_t>(sqlite3_column_int64(st, first + 3));
  a.min_us = column_opt(st, first + 4);
  a.max_us = column_opt(st, first + 5);
  a.sum_us = sqlite3_column_int64(st, first + 6);
  if (with_sketch) {
    const auto* blob = static_cast<const char*>(sqlite3_column_blob(st, first + 7));
    if (auto s = LatencySketch::decode(
            std::string_view(blob, static_cast<size_t>(sqlite3_column_bytes(st, first + 7))))) {
      a.sketch = std::move(*s);
    }
  }
  return a;
}

void bind_rollup_columns(sqlite3_stmt* st, int first, const Aggregate& a) {
  sqlite3_bind_int64(st, first, static_cast<int64_t>(a.count));
  sqlite3_bind_int64(st, first + 1, static_cast<int64_t>(a.failures));
  sqlite3_bind_int64(st, first + 2, static_cast<int64_t>(a.degraded));
  sqlite3_bind_int64(st, first + 3, static_cast<int64_t>(a.maintenance));
  a.min_us ? sqlite3_bind_int64(st, first + 4, *a.min_us) : sqlite3_bind_null(st, first + 4);
  a.max_us ? sqlite3_bind_int64(st, first + 5, *a.max_us) : sqlite3_bind_null(st, first + 5);
  sqlite3_bind_int64(st, first + 6, a.sum_us);
  const std::string blob = a.sketch.encode();
  sqlite3_bind_blob(st, first + 7, blob.data(), static_cast<int>(blob.size()), SQLITE_TRANSIENT);
}

int64_t align_down(int64_t t, int64_t size) {
  const int64_t r = t % size;
  return r < 0 ? t - r - size : t - r;
}

Watermarks read_watermarks(sqlite3* db) {
  return {meta_int(db, kMinuteLevel.watermark_key), meta_int(db, kHourLevel.watermark_key),
          meta_int(db, kDayLevel.watermark_key)};
}

bool roll_up(sqlite3* db, int64_t now_ms, int64_t grace_ms, RollupStats& stats,
             std::string& error) {
  if (!roll_level(db, kMinuteLevel, nullptr, min_time(db, "results"), now_ms - grace_ms,
                  stats.minute_rows, error)) {
    return false;
  }
  const auto minute_wm = meta_int(db, kMinuteLevel.watermark_key);
  if (!minute_wm) return true;
  if (!roll_level(db, kHourLevel, &kMinuteLevel, min_time(db, kMinuteLevel.table), *minute_wm,
                  stats.hour_rows, error)) {
    return false;
  }
  const auto hour_wm = meta_int(db, kHourLevel.watermark_key);
  if (!hour_wm) return true;
  return roll_level(db, kDayLevel, &kHourLevel, min_time(db, kHourLevel.table), *hour_wm,
                    stats.day_rows, error);
}

bool apply_retention(sqlite3* db, int64_t now_ms, const RetentionPolicy& p, uint64_t& deleted,
                     std::string& error) {
  const Watermarks w = read_watermarks(db);
  // A row goes only when its retention passed and the next level has folded it.
  auto bound = [](int64_t by_age, std::optional<int64_t> folded) {
    return folded ? std::min(by_age, *folded) : std::numeric_limits<int64_t>::min();
  };
  if (!exec_sql(db, "BEGIN IMMEDIATE", error)) return false;
  const bool ok =
      delete_before(db, "results", bound(now_ms - p.raw_ms, w.minute), deleted, error) &&
      delete_before(db, kMinuteLevel.table, bound(now_ms - p.minutes_ms, w.hour), deleted, error) &&
      delete_before(db, kHourLevel.table, bound(now_ms - p.hours_ms, w.day), deleted, error) &&
      delete_before(db, kDayLevel.table, now_ms - p.days_ms, deleted, error);
  if (!ok || !exec_sql(db, "COMMIT", error)) {
    std::string ignored;
    exec_sql(db, "ROLLBACK", ignored);
    return false;
  }
  return true;
}

}  // namespace lookout
