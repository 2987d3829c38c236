// The status page's summaries (store/history.h: HistorySummary) of a cluster's monitors, made
// from pieces of history read from PostgreSQL's rollup tables and raw results, shard by shard.
// Pure: no I/O, no clock; store/pg_summaries.h reads what plan() asks for and hands the rows to
// apply().
//
// A shard is read whole ("reset") at first, when the UTC day turns and when one of its rollup
// marks moved back (a late result: the roller folds its buckets again). A reset reads
//   - closed days: day rows of the bars' days before P, as counts and their p95 only;
//   - edge hours: the hour rows (counts) of the UTC days holding the 30 and 90 day windows'
//     starts today, so that those windows start on the hour;
//   - fine pieces from P on: hour rows up to the hour mark, but for the hour holding the start
//     of the 24 hour window (its minute rows, so that window starts on the minute), minute rows
//     up to the minute mark, raw runs after it.
// P is the UTC day of that 24 hour start, or the day mark when it is older: before P every bar
// is a day row, from P on the pieces keep their sketches, to be merged for the 24 hour p95 and
// the bars of the last days. Between resets each read only follows the marks forward: the hour
// and minute rows the roller added, the raw runs that may have come since the last read, and the
// minute rows of the next hour when the 24 hour window's start enters it.
//
// So a window counts what SQLite's HistoryReader counts where its retention left hour rows but
// no minutes or raw runs: the 30 and 90 day windows from the first whole hour in them, the 24
// hour window from the first whole minute, its p95 and the bars from every run.
//
// Between resets the raw runs are read again only from kRawLatenessMs before the last read (or
// from the minute mark, when that is later): the raw runs are most of what a read reads.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "store/history.h"
#include "store/rollup.h"

namespace lookout {

enum class PieceLevel { kDay, kHour, kMinute, kRaw };

// One range to read of a shard's monitors: rows of `level` with from <= t < to.
struct PieceRange {
  enum class Into { kClosed, kEdge, kFine };
  Into into;
  PieceLevel level;
  int64_t from_ms, to_ms;  // to_ms is INT64_MAX for "and later"
  bool sketch;             // whether the rows' sketches are needed
};

struct ShardRead {
  bool reset = false;
  std::vector<PieceRange> ranges;
  // What the shard will stand at once the rows are applied; read_at_ms is the `now` it was
  // planned at.
  int64_t read_at_ms = 0;
  int64_t today_ms = 0, edge_hour_ms = 0, from_ms = 0, hour_mark_ms = 0, minute_mark_ms = 0;
  int64_t day_mark_ms = 0;
  int64_t moved_back = 0;
};

// A row read for one of a ShardRead's ranges, as counts and an encoded sketch (a raw run is
// counted as a one-run rollup).
struct PieceRow {
  size_t range = 0;
  std::string monitor;
  int64_t t_ms = 0;
  uint32_t count = 0, failures = 0, maintenance = 0;
  std::string sketch;  // LatencySketch::encode(); empty without latencies
};

class SummaryPieces {
 public:
  // Raw runs are stored under their start and written once they end (a timeout, 10 s by
  // default, and the writer's batch later): a read takes again the raw runs that started this
  // long before the last read, and keeps the older ones it has. A run written later still is
  // counted once the roller folds its minute.
  static constexpr int64_t kRawLatenessMs = 30'000;
  // How far back a reset reads raw runs at most: the 24 hour window and an hour to spare. Where
  // the minute mark is further back (a shard the roller has not caught up with, or has no marks
  // yet), the runs before this are left out of the figures until the roller folds them, rather
  // than days of raw rows read in one answer on the loop.
  static constexpr int64_t kRawReachMs = 25 * 3'600'000LL;

  // The monitors whose summaries are made, each in its shard (store/lease_plan.h).
  explicit SummaryPieces(const std::vector<std::string>& monitors);
  ~SummaryPieces();
  SummaryPieces(const SummaryPieces&) = delete;
  SummaryPieces& operator=(const SummaryPieces&) = delete;

  const std::vector<std::string>& monitors_of(int shard) const;
  // What to read of `shard` at `now_ms`, its marks being `marks`. Empty ranges and no reset
  // when the shard has no monitors.
  // `moved_back` counts the times late results moved the shard's marks back (rollup_marks):
  // a change resets the shard, also when the marks have moved past where they were since.
  ShardRead plan(int shard, const Watermarks& marks, int64_t now_ms, int64_t moved_back = 0) const;
  // The rows that `read` (planned for `shard`) asked for.
  void apply(int shard, const ShardRead& read, const std::vector<PieceRow>& rows);
  // Whether the shard was read at least once.
  bool ready(int shard) const;

  // The summaries of the shard's monitors at `now_ms` into `out`: a monitor without a run in any
  // window has none, as SummaryBuilder makes them.
  void summarize(int shard, int64_t now_ms, SummaryMap& out);

 private:
  struct Monitor;
  struct Shard;
  std::vector<Shard> shards_;
};

}  // namespace lookout
