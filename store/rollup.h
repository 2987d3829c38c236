// Rollups and retention on the write connection. Minute rows are folded from raw results,
// hour rows from minutes, day rows from hours, each only for buckets that are complete
// (older than now - grace), in chunks of one transaction each. Each level's progress is a
// watermark in `meta`: everything before it is rolled up. A crash mid-way and a rerun give the
// same rows (INSERT OR REPLACE of whole buckets from unchanged sources). No clock reads: the
// caller passes "now", so tests drive it with a fake clock.
#pragma once

#include <sqlite3.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>

namespace lookout {

struct RollupLevel {
  const char* table;
  int64_t size_ms;
  const char* watermark_key;
};
inline constexpr RollupLevel kMinuteLevel{"rollup_minute", 60'000, "rollup_minute_until"};
inline constexpr RollupLevel kHourLevel{"rollup_hour", 3'600'000, "rollup_hour_until"};
inline constexpr RollupLevel kDayLevel{"rollup_day", 86'400'000, "rollup_day_until"};

struct Watermarks {
  std::optional<int64_t> minute, hour, day;  // exclusive ends of what is rolled up
};
Watermarks read_watermarks(sqlite3* db);

struct RetentionPolicy {
  int64_t raw_ms;
  int64_t minutes_ms;
  int64_t hours_ms;
  int64_t days_ms;
};

struct RollupStats {
  uint64_t minute_rows = 0, hour_rows = 0, day_rows = 0;
};

// Rolls everything that is complete. `grace_ms` covers runs still in flight: a run is stored
// with its start time, up to a timeout later.
bool roll_up(sqlite3* db, int64_t now_ms, int64_t grace_ms, RollupStats& stats, std::string& error);

// Deletes rows past their retention, never raw rows or rollups the next level has not folded
// yet. Bounded work per call; returns the rows deleted.
bool apply_retention(sqlite3* db, int64_t now_ms, const RetentionPolicy& policy, uint64_t& deleted,
                     std::string& error);

int64_t align_down(int64_t t, int64_t size);

// The columns count, failures, degraded, maintenance, min_us, max_us, sum_us, sketch of a
// rollup row, starting at column (or bind index) `first`: read and written in one place.
struct Aggregate;
Aggregate read_rollup_columns(sqlite3_stmt* st, int first, bool with_sketch);
// The columns outcome, total_us, maintenance, samples of a `results` row, starting at column
// `first`: every reader of raw runs counts them alike.
struct StoredRun;
StoredRun read_run_columns(sqlite3_stmt* st, int first);
// An integer column that may be NULL.
std::optional<int64_t> column_opt(sqlite3_stmt* st, int i);
void bind_rollup_columns(sqlite3_stmt* st, int first, const Aggregate& a);

}  // namespace lookout
