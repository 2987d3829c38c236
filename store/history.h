// Reads of stored history: any range [from, to) of one monitor, or of all monitors at once,
// as one merged Aggregate. A range is cut into whole days, hours and minutes that are rolled
// up (below each level's watermark), and raw rows for the rest, so a 90-day answer reads about
// 90 day rows, not 130,000 raw ones, and percentiles always come from merged sketches.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/published.h"
#include "store/aggregate.h"
#include "store/rollup.h"

namespace lookout {

class HistoryReader {
 public:
  // Works on a connection it does not own (the writer's, or one from a ReadPool).
  explicit HistoryReader(sqlite3* db);
  ~HistoryReader();
  HistoryReader(const HistoryReader&) = delete;
  HistoryReader& operator=(const HistoryReader&) = delete;

  std::optional<int64_t> monitor_id(const std::string& name);
  std::unordered_map<int64_t, std::string> monitor_names();
  // Reads the watermarks once; call before a series of range() calls that should agree.
  void refresh();
  const Watermarks& watermarks() const { return wm_; }
  Aggregate range(int64_t monitor_id, int64_t from_ms, int64_t to_ms, bool with_sketch = true);
  // Every monitor, by id. Sketches only when asked: counts alone are much cheaper.
  std::unordered_map<int64_t, Aggregate> range_all(int64_t from_ms, int64_t to_ms,
                                                   bool with_sketch);
  // The raw runs of every monitor in [from, to), in time order, whether or not rolled up.
  void runs(int64_t from_ms, int64_t to_ms,
            const std::function<void(int64_t monitor_id, int64_t t_ms, StoredRun run)>& f);

  // Buckets of `step_ms` aligned in UTC, from the one holding `from_ms` to the one holding `to_ms`.
  std::vector<SeriesPoint> series(int64_t monitor_id, int64_t from_ms, int64_t to_ms,
                                  int64_t step_ms);

 private:
  struct Statements;
  using Sink = std::unordered_map<int64_t, Aggregate>;
  void collect(int level, std::optional<int64_t> monitor, int64_t from, int64_t to,
               bool with_sketch, Sink& out);
  void read_rows(int level, std::optional<int64_t> monitor, int64_t from, int64_t to,
                 bool with_sketch, Sink& out);

  sqlite3* db_;
  std::unique_ptr<Statements> st_;
  Watermarks wm_;
};

// Read-only connections for the web threads, opened on demand and reused.
class ReadPool {
 public:
  explicit ReadPool(std::string path) : path_(std::move(path)) {}
  ~ReadPool();
  class Lease {
   public:
    Lease(ReadPool& pool, sqlite3* db) : pool_(pool), db_(db) {}
    ~Lease() { pool_.give_back(db_); }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    sqlite3* get() const { return db_; }

   private:
    ReadPool& pool_;
    sqlite3* db_;
  };
  // nullptr lease when the database cannot be opened.
  std::unique_ptr<Lease> take();

 private:
  void give_back(sqlite3* db);
  std::string path_;
  std::mutex mu_;
  std::vector<sqlite3*> idle_;
};

// One UTC day of one monitor for the status page's bars. Kept to 12 bytes: the summaries hold
// 90 of them for every monitor (and two sets while a new one replaces the old).
struct DaySummary {
  uint32_t count = 0;  // runs
  float uptime = 0;    // percent; meaningful when count > 0
  float p95_ms = -1;   // negative without latencies
};
// A day's bar as the runs of `a` make it; every engine's summaries make their bars with it.
DaySummary day_summary(const Aggregate& a);
// What /api/v1/status and the status page show of history, per monitor.
struct HistorySummary {
  std::optional<double> uptime_24h, uptime_30d, uptime_90d;
  std::optional<double> p95_ms_24h;
  int64_t first_day_ms = 0;      // the UTC start of days[0]
  std::vector<DaySummary> days;  // the last 90 UTC days, oldest first, today last
};
using SummaryMap = std::unordered_map<std::string, HistorySummary>;

// Keeps every monitor's summary equal to what HistoryReader reads over the same windows
// ending "now" (the last 24 h, 30 d, 90 d, and the 90 UTC days), while a status request reads
// no rows and an update after each commit reads none either. All on the store thread.
//
// A housekeeping tick (rebuild) reads what lies before a cut: the minute watermark, or
// now - grace when that is later, since no run that old is still on its way. A reader cuts a
// range at the minute watermark alike (rolled-up minutes before, raw rows after), so the runs
// committed at or after the cut, added as they come, complete every window exactly. The
// start of a window moves too, and a reader reads it at run granularity where raw rows are
// kept and by whole hours or days where only those are: so the tick also reads each window as
// it stands for each of the next kEdgeMinutes minutes, and keeps the raw runs in between.
// Past that (a tick late by minutes) the windows' starts wait for the next tick.
class SummaryBuilder {
 public:
  static constexpr int kEdgeMinutes = 3;

  SummaryBuilder();
  ~SummaryBuilder();
  SummaryBuilder(const SummaryBuilder&) = delete;
  SummaryBuilder& operator=(const SummaryBuilder&) = delete;

  // On the writer connection, after rollups and retention. Runs are stored under their start
  // and committed up to `grace_ms` later.
  void rebuild(sqlite3* db, int64_t now_ms, int64_t grace_ms);
  bool built() const { return built_; }
  // A run just committed, after the last rebuild.
  void add(const std::string& monitor, int64_t t_ms, const StoredRun& run);
  // The summaries at `now_ms`: the same map as the last call when nothing in it changed.
  // Runs are committed after they start, so none lies after `now_ms`.
  std::shared_ptr<const SummaryMap> summarize(int64_t now_ms);

 private:
  struct Monitor;
  std::unordered_map<std::string, std::unique_ptr<Monitor>> monitors_;
  bool built_ = false;
  int64_t tick_ms_ = 0;
  int64_t cut_ms_ = 0;
  // The last summaries made. Right after a rebuild, only the days before the cut's, which
  // no longer change and so are handed on from each summary to the next.
  std::shared_ptr<const SummaryMap> last_;
};

// The summaries, published by the store thread after each commit and read by the web threads.
using SummaryCache = Published<SummaryMap>;

}  // namespace lookout
