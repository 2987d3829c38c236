// Rollups of cluster mode as statements and folds: what the roller (store/pg_roller.h) reads and
// writes on PostgreSQL's rollup_minute, rollup_hour, rollup_day and rollup_marks, the statements
// by which the results writer moves marks back for results that come late, and how rows of
// results and rollups read back into the Aggregate that SQLite's rollups fold with
// (store/aggregate.h), so both engines make the same rows from the same runs. Pure: no I/O, no
// clock; times are Unix milliseconds.
//
// A mark (shard, level, until) says that everything of the shard's monitors before `until` is in
// the level's table. A step folds one chunk [from, to) of one level of one shard, read in one
// statement and written in one transaction that holds the shard's rollup lock, in which it
// checks that the eval lease is still the roller's, that the mark is still `from`, and (minutes)
// that the raw rows of the chunk are still those it read, or (hours, days) that the level below
// still covers the chunk; only then it upserts the chunk's buckets whole and moves the mark to
// `to`. A results batch takes the same lock, shared, for each shard it has rows of, and moves
// the marks of every level back to its oldest bucket of that shard where they are past it.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "store/aggregate.h"
#include "store/lease_registry.h"
#include "store/pg_connection.h"
#include "store/range_cut.h"

namespace lookout {

// The class of the two-key advisory locks a shard's rollups take (the second key is the shard):
// a step exclusive, a results batch shared.
inline constexpr int32_t kPgRollupLock = 0x6c6b7231;

// The levels a roller folds, finest first.
enum class RollLevel { kMinute = 0, kHour = 1, kDay = 2 };
const char* level_name(RollLevel level);  // as rollup_marks.level writes it

// One step of one shard: [from, to) of `level`, folded from the level below (raw for minutes).
// `limit` is how far the level may be folded now: an empty chunk stretches up to the next
// source row (stretch_empty_step), so that days without runs cost one step, not one a chunk.
struct RollStep {
  RollLevel level = RollLevel::kMinute;
  int64_t from = 0, to = 0, limit = 0;
  bool operator==(const RollStep& o) const = default;
};

// Chunks of one step, bounded so that a step after a long stop reads a few thousand rows at
// most for a shard of a few dozen monitors.
inline constexpr int64_t kMinuteChunkMs = 30LL * 60'000;
inline constexpr int64_t kHourChunkMs = 2LL * 3'600'000;
inline constexpr int64_t kDayChunkMs = 86'400'000;

// The next step of a shard whose marks are `marks` (all three set), with every run that started
// before `complete_ms` stored: minutes first (late results fold again quickly), then hours up to
// the minute mark, then days up to the hour mark; nullopt when all is folded.
std::optional<RollStep> next_roll_step(const Watermarks& marks, int64_t complete_ms);

// The marks of `shards`, each shard without any first given marks at the start of the UTC day of
// its monitors' oldest raw run (today when it has none), under its rollup lock; and the
// server's clock. A script (the lock is a statement of its own), answered by its last.
std::string read_rollup_marks(const std::map<int, std::vector<std::string>>& monitors_by_shard);
struct RollupMarks {
  std::map<int, Watermarks> shards;
  int64_t now_ms = 0;
};
std::optional<RollupMarks> rollup_marks_of(const PgResult& answer);

// The rows a step folds: raw results of `monitors` for minutes, the level below's rows else.
PgStatement read_roll_source(const RollStep& step, const std::vector<std::string>& monitors);

// The first source row of `monitors` in [step.to, step.limit), for a step that found none.
PgStatement read_next_source(const RollStep& step, const std::vector<std::string>& monitors);
// The step stretched to the bucket of that row, or to the limit without one; nullopt for an
// answer in a shape this lookout does not know.
std::optional<RollStep> stretch_empty_step(const RollStep& step, const PgResult& answer);

// Buckets of a step: (monitor, bucket start) -> what it holds.
using RollBuckets = std::map<std::pair<std::string, int64_t>, Aggregate>;
// The answer of read_roll_source folded into buckets of the step's level; `rows` is how many
// rows it held. nullopt for an answer in a shape this lookout does not know.
std::optional<RollBuckets> fold_roll_source(const RollStep& step, const PgResult& answer,
                                            uint64_t& rows);

// The script of a step's transaction (see above); `source_rows` is what fold_roll_source
// counted. Its answer, read with roll_step_written(), says whether it wrote.
std::string write_roll_step(const LeaseFence& fence, int shard, const RollStep& step,
                            const std::vector<std::string>& monitors, uint64_t source_rows,
                            const RollBuckets& buckets);
std::optional<bool> roll_step_written(const PgResult& answer);

// What a results batch runs before its COPY: the shared rollup lock of each shard it has rows
// of, in shard order (so batches and steps never wait on each other in a circle), and the marks
// moved back to each shard's oldest run of the batch. `oldest` is that run's start by shard;
// empty gives an empty string.
std::string rollup_marks_back(const std::map<int, int64_t>& oldest);
// The same inside one fenced statement that writes a shard's results (a heartbeat's keep): the
// CTE `rollup_locked` takes the shard's lock shared, and must be read by the fence before it
// locks the lease's row (LeaseRegistry::fence_cte's `first`), the order a roll step takes both
// in; the CTE `rollup_marks_moved` moves the marks back. The shard is the parameter
// $`shard_param`, the oldest run's start (milliseconds; NULL when none) $`oldest_param`.
std::string rollup_lock_cte(int shard_param);
std::string rollup_marks_back_cte(int shard_param, int oldest_param);

// Deletes rollup rows past their retention, at most `limit` of each level: minutes older than
// `keep_minutes_ms` (by the server's clock) and below every shard's hour mark, hours alike below
// every day mark, days older than `keep_days_ms`. Answers how many rows it deleted in all.
PgStatement delete_old_rollups(int64_t keep_minutes_ms, int64_t keep_hours_ms, int64_t keep_days_ms,
                               int limit);
std::optional<int64_t> rollups_deleted(const PgResult& answer);

// The columns outcome, total_us, maintenance, samples of a results row as a run, from `first`.
StoredRun run_of_row(const std::vector<std::optional<std::string>>& row, size_t first);
// The columns count, failures, degraded, maintenance, min_us, max_us, sum_us, sketch of a
// rollup row, from `first`.
Aggregate rollup_of_row(const std::vector<std::optional<std::string>>& row, size_t first);

// A time column as whole milliseconds since the epoch, as the SQLite engine stores times: every
// time is written from milliseconds, so nothing is lost.
std::string pg_ms(std::string_view column);
// Parameter `n`, a time in milliseconds, as a timestamptz.
std::string pg_at_ms(int n);

// The table of a cut's level (not kRaw).
const char* rollup_table(CutLevel level);

}  // namespace lookout
