// The results table of cluster mode as statements: its day partitions made ahead of time and
// dropped past the raw-results retention, and the script and COPY rows of one batch of results
// from one node. Pure: PgResultWriter runs the batches on the loop's connection, the housekeeping
// that runs the partitions' statements comes with `lookout run` in cluster mode.
//
// Every decision about days is taken by the server's clock (clock_timestamp(), in UTC), never a
// node's: a node whose clock is days ahead must not drop the partitions holding today's rows.
// The partition statements take an advisory lock of their own, so that nodes running them at
// the same moment take turns, and each makes only what is still missing.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "store/pg_connection.h"
#include "store/storage.h"

namespace lookout {

// The advisory lock the partition statements take: "lookout" in ASCII plus one, beside the
// migrations' kPgMigrationLock.
inline constexpr int64_t kPgResultPartitionsLock = 30521821819270517;

// Partitions are made for today and this many days after it: writes go on through that many
// days of failed housekeeping.
inline constexpr int kResultDaysAhead = 3;

// Where a node's results come from, written with each of its rows.
struct ResultOrigin {
  std::string node, location;
};

// Makes the partitions results_YYYYMMDD of today and the `days_ahead` days after it (UTC, by the
// server's clock) that do not exist yet.
PgStatement make_result_partitions(int days_ahead = kResultDaysAhead);

// Makes the partitions of the days holding these times (Unix ms) that do not exist yet: for rows
// outside the days made ahead, from a node whose clock is off or kept through an outage.
PgStatement make_result_partitions_for(const std::vector<int64_t>& t_ms);

// Drops the partitions whose whole day is older than `keep` by the server's clock, so raw results
// stay between `keep` and `keep` plus a day; and the writers' batch marks older than `keep`. A
// day is kept past that until every shard's minute rollups have passed its end
// (docs/cluster.md#rollups): its runs would be lost to history otherwise.
PgStatement drop_old_result_partitions(Duration keep);

// Days past `keep` still kept because not every shard has folded them, for the log: how many,
// the lowest minute mark (nullopt when none), and how many shards have one (of 256).
PgStatement held_back_result_partitions(Duration keep);
struct HeldBackDays {
  int64_t days = 0;
  std::optional<int64_t> folded_ms;
  int64_t shards = 0;
};
std::optional<HeldBackDays> held_back_days(const PgResult& answer);

// The script of one batch from `writer` (32 hex digits): it records the batch in result_batches
// and copies the rows (append_result_row) into results, in one transaction. A batch the database
// has already taken fails with SQLSTATE 23505 before its COPY starts, so a batch sent again after
// a lost answer is never written twice. `before_copy` (statements, each ending with ";\n") runs
// in the same transaction just before the COPY: the rollup marks moved back for the batch's
// runs (rollup_marks_back in store/pg_rollup.h).
std::string result_batch_script(const std::string& writer, uint64_t batch,
                                const std::string& before_copy = "");

// One row of that COPY in its text format, ending with a newline. Text that is not UTF-8 has its
// bad bytes replaced by U+FFFD and a NUL byte is replaced the same way (PostgreSQL's text takes
// neither), so no row from a probe can make a batch fail.
void append_result_row(std::string& out, const ResultOrigin& origin, const ResultRow& row);

// "YYYY-MM-DD", the UTC day holding `t_ms`.
std::string utc_day(int64_t t_ms);

// `s` as COPY's text format writes a value: backslash, newline, carriage return and tab
// escaped, text that is not UTF-8 or holds a NUL mended as pg_text does.
void append_copy_text(std::string& out, std::string_view s);

}  // namespace lookout
