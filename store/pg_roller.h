// The roller of cluster mode (docs/cluster.md#rollups): the node holding a shard's eval lease
// folds the shard's monitors' runs into rollup_minute, rollup_hour and rollup_day on PostgreSQL,
// step by step on the loop's connection (store/pg_rollup.h says what a step reads and writes).
//
// A pass reads the marks of the shards held, then takes each shard in turn, up to
// kStepsPerShard steps of it, one step at a time: read the chunk's rows, fold them on the loop,
// write the buckets and move the mark in one transaction. A pass starts every `every`, or soon
// after the last when a shard had more to fold than its steps. A step that finds the lease lost,
// the mark moved (late results, another roller) or the chunk's rows changed writes nothing; the
// next pass reads the marks again. The node holding shard 0 also deletes rollup rows past their
// retention at the end of each pass, a bounded number at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/event_loop.h"
#include "store/lease_registry.h"
#include "store/pg_connection.h"
#include "store/pg_rollup.h"

namespace lookout {

struct PgRollerOptions {
  // Between passes when all was folded: a minute's bucket is complete a grace after it ends, so
  // a pass a minute keeps the minute rows a minute behind that at most.
  Duration every{60'000};
  // Between passes while a shard has more to fold (after a stop, or late results).
  Duration soon{1000};
  // Runs are stored under their start and written up to this much later: the longest timeout
  // and the writer's batching. Buckets are folded once they ended that long ago.
  int64_t grace_ms = 0;
  // [storage] keep_minutes, keep_hours, keep_days.
  int64_t keep_minutes_ms = 3LL * 86'400'000;
  int64_t keep_hours_ms = 90LL * 86'400'000;
  int64_t keep_days_ms = 1825LL * 86'400'000;
};

// What the roller did so far, for tests, the benchmark and the log.
struct RollerStats {
  uint64_t passes = 0;
  uint64_t steps = 0;        // written
  uint64_t refused = 0;      // steps whose transaction found a check failed and wrote nothing
  uint64_t source_rows = 0;  // rows read and folded by written steps
  uint64_t buckets = 0;      // rows upserted
  uint64_t deleted = 0;      // rollup rows past their retention
};

class PgRoller {
 public:
  // `deciding`: the eval shards held now with their epochs (LeaseKeeper::deciding());
  // `fence`: the eval lease of a shard held now (LeaseKeeper::decision_fence()); `monitors`:
  // every monitor's name (a shard's are those whose shard_of is it).
  PgRoller(EventLoop& loop, PgConnection& pg, std::vector<std::string> monitors,
           std::function<std::map<int, int64_t>()> deciding,
           std::function<std::optional<LeaseFence>(int shard)> fence, PgRollerOptions options);
  ~PgRoller();
  PgRoller(const PgRoller&) = delete;
  PgRoller& operator=(const PgRoller&) = delete;

  void start();
  // No pass starts after this; a step in flight finishes on the database or not at all.
  void stop();

  const RollerStats& stats() const { return stats_; }
  // Runs on the loop at the end of every pass: tests wait on it.
  void set_on_pass(std::function<void()> f) { on_pass_ = std::move(f); }

 private:
  void pass();
  void on_marks(const PgResult& answer);
  void next();
  void on_source(int shard, const RollStep& step, const PgResult& answer);
  void write(int shard, const RollStep& step, uint64_t rows, const RollBuckets& buckets);
  void on_written(int shard, const RollStep& step, uint64_t rows, uint64_t buckets,
                  const PgResult& answer);
  void retention();
  void finish();
  void tell(const std::string& what, const std::string& error);

  PgConnection& pg_;
  std::map<int, std::vector<std::string>> by_shard_;
  std::function<std::map<int, int64_t>()> deciding_;
  std::function<std::optional<LeaseFence>(int)> fence_;
  PgRollerOptions options_;
  Timer timer_;
  bool running_ = false;
  bool in_pass_ = false;
  uint64_t generation_ = 0;  // of the pass's answers: stop() ends the pass in flight
  bool more_ = false;        // a shard of this pass had more to fold
  // The pass under way: the marks read, the shards left (in order) and the current one's steps.
  RollupMarks marks_;
  std::vector<int> shards_;
  size_t at_ = 0;
  int steps_ = 0;
  bool deletes_ = false;  // this pass deletes past retention
  // The epochs of the shards held when this pass read their marks: a step writes only under
  // the same, since a lease lost and taken again meanwhile may have let another node fold the
  // level below anew after this pass read it.
  std::map<int, int64_t> pass_epochs_;
  RollerStats stats_;
  std::string told_;  // the last failure logged
  std::function<void()> on_pass_;
  std::shared_ptr<PgRoller*> self_;
};

// Steps of one shard in one pass: catching up after a stop goes a few chunks a shard at a time,
// so that every shard moves on.
inline constexpr int kStepsPerShard = 4;
// Rollup rows deleted per level and pass.
inline constexpr int kRollupDeletes = 10'000;

}  // namespace lookout
