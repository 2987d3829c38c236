#include "store/pg_roller.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "store/lease_plan.h"

namespace lookout {

PgRoller::PgRoller(EventLoop& loop, PgConnection& pg, std::vector<std::string> monitors,
                   std::function<std::map<int, int64_t>()> deciding,
                   std::function<std::optional<LeaseFence>(int shard)> fence,
                   PgRollerOptions options)
    : pg_(pg),
      deciding_(std::move(deciding)),
      fence_(std::move(fence)),
      options_(options),
      timer_(loop),
      self_(std::make_shared<PgRoller*>(this)) {
  for (auto& m : monitors) {
    const int shard = shard_of(m);
    by_shard_[shard].push_back(std::move(m));
  }
}

PgRoller::~PgRoller() { *self_ = nullptr; }

void PgRoller::start() {
  running_ = true;
  timer_.start(Duration{0}, [this] { pass(); });
}

void PgRoller::stop() {
  running_ = false;
  timer_.stop();
  // A pass in flight ends here: its answers, when they come, belong to no pass, and a start
  // right after begins a pass of its own with the marks as they are then.
  ++generation_;
  in_pass_ = false;
}

void PgRoller::pass() {
  if (!running_ || in_pass_) return;
  const std::map<int, int64_t> held = deciding_();
  if (held.empty() || !pg_.connected()) {
    // At start, and after a lost connection, nothing is held or connected yet: look again
    // soon rather than a whole `every` later, so a shard gets its marks (which the page's
    // summaries read by) within seconds of the node joining.
    more_ = true;
    finish();
    return;
  }
  in_pass_ = true;
  more_ = false;
  deletes_ = held.count(0) > 0;
  pass_epochs_ = held;
  // Every shard held, with its monitors or none: a shard without monitors has marks too, so
  // that retention knows every shard folded its days.
  std::map<int, std::vector<std::string>> asked;
  for (const auto& shard_epoch : held) {
    const auto m = by_shard_.find(shard_epoch.first);
    asked[shard_epoch.first] = m == by_shard_.end() ? std::vector<std::string>{} : m->second;
  }
  pg_.script(read_rollup_marks(asked), [self = self_, gen = generation_](const PgResult& answer) {
    if (PgRoller* r = *self; r != nullptr && r->generation_ == gen) r->on_marks(answer);
  });
}

void PgRoller::on_marks(const PgResult& answer) {
  auto marks = rollup_marks_of(answer);
  if (!marks) {
    tell("cannot read the rollup marks",
         answer.ok() ? "an answer in a shape this lookout does not know" : answer.error);
    in_pass_ = false;
    finish();
    return;
  }
  marks_ = std::move(*marks);
  shards_.clear();
  for (const auto& shard_marks : marks_.shards) shards_.push_back(shard_marks.first);
  at_ = 0;
  steps_ = 0;
  next();
}

void PgRoller::next() {
  while (running_ && at_ < shards_.size()) {
    const int shard = shards_[at_];
    const auto step = next_roll_step(marks_.shards[shard], marks_.now_ms - options_.grace_ms);
    if (step && steps_ < kStepsPerShard && fence_(shard)) {
      const auto m = by_shard_.find(shard);
      const PgStatement s =
          read_roll_source(*step, m == by_shard_.end() ? std::vector<std::string>{} : m->second);
      pg_.query(s.sql, s.params,
                [self = self_, gen = generation_, shard, step = *step](const PgResult& answer) {
                  if (PgRoller* r = *self; r != nullptr && r->generation_ == gen)
                    r->on_source(shard, step, answer);
                });
      return;
    }
    if (step && steps_ >= kStepsPerShard) more_ = true;
    ++at_;
    steps_ = 0;
  }
  if (running_ && deletes_) {
    retention();
    return;
  }
  in_pass_ = false;
  finish();
}

void PgRoller::on_source(int shard, const RollStep& step, const PgResult& answer) {
  uint64_t rows = 0;
  const auto buckets = fold_roll_source(step, answer, rows);
  if (!buckets) {
    tell(fmt::format("cannot read the {} rollups' source of shard {}", level_name(step.level),
                     shard),
         answer.ok() ? "an answer in a shape this lookout does not know" : answer.error);
    ++at_;
    steps_ = 0;
    more_ = true;
    next();
    return;
  }
  if (rows == 0 && step.to < step.limit) {
    // Nothing in the chunk: it stretches to the next row, with the same checks.
    const auto m = by_shard_.find(shard);
    const PgStatement s =
        read_next_source(step, m == by_shard_.end() ? std::vector<std::string>{} : m->second);
    pg_.query(s.sql, s.params,
              [self = self_, gen = generation_, shard, step](const PgResult& answer) {
                PgRoller* r = *self;
                if (r == nullptr || r->generation_ != gen) return;
                const auto stretched = stretch_empty_step(step, answer);
                r->write(shard, stretched.value_or(step), 0, {});
              });
    return;
  }
  write(shard, step, rows, *buckets);
}

void PgRoller::write(int shard, const RollStep& step, uint64_t rows, const RollBuckets& buckets) {
  const auto fence = fence_(shard);
  const auto epoch = pass_epochs_.find(shard);
  if (!fence || !running_ || epoch == pass_epochs_.end() || epoch->second != fence->epoch) {
    ++at_;
    steps_ = 0;
    more_ = true;
    next();
    return;
  }
  const auto m = by_shard_.find(shard);
  const std::string script =
      write_roll_step(*fence, shard, step,
                      m == by_shard_.end() ? std::vector<std::string>{} : m->second, rows, buckets);
  pg_.script(script, [self = self_, gen = generation_, shard, step, rows,
                      n = static_cast<uint64_t>(buckets.size())](const PgResult& answer) {
    if (PgRoller* r = *self; r != nullptr && r->generation_ == gen)
      r->on_written(shard, step, rows, n, answer);
  });
}

void PgRoller::on_written(int shard, const RollStep& step, uint64_t rows, uint64_t buckets,
                          const PgResult& answer) {
  const auto written = roll_step_written(answer);
  if (written && *written) {
    told_.clear();
    ++stats_.steps;
    stats_.source_rows += rows;
    stats_.buckets += buckets;
    Watermarks& w = marks_.shards[shard];
    (step.level == RollLevel::kMinute ? w.minute
     : step.level == RollLevel::kHour ? w.hour
                                      : w.day) = step.to;
    ++steps_;
    next();
    return;
  }
  if (!written) {
    tell(fmt::format("cannot write the {} rollups of shard {}", level_name(step.level), shard),
         answer.ok() ? "an answer in a shape this lookout does not know" : answer.error);
  } else {
    // The lease went, or late results or another roller moved the mark: the next pass reads
    // the marks again and folds from where they are.
    ++stats_.refused;
  }
  more_ = true;
  ++at_;
  steps_ = 0;
  next();
}

void PgRoller::retention() {
  const PgStatement s = delete_old_rollups(options_.keep_minutes_ms, options_.keep_hours_ms,
                                           options_.keep_days_ms, kRollupDeletes);
  pg_.query(s.sql, s.params, [self = self_, gen = generation_](const PgResult& answer) {
    PgRoller* r = *self;
    if (r == nullptr || r->generation_ != gen) return;
    if (const auto deleted = rollups_deleted(answer)) {
      r->stats_.deleted += static_cast<uint64_t>(*deleted);
      if (*deleted >= kRollupDeletes) r->more_ = true;
    } else {
      r->tell("cannot delete rollups past their retention",
              answer.ok() ? "an answer in a shape this lookout does not know" : answer.error);
    }
    r->in_pass_ = false;
    r->finish();
  });
}

void PgRoller::finish() {
  ++stats_.passes;
  if (on_pass_) on_pass_();
  if (!running_) return;
  timer_.start(more_ ? options_.soon : options_.every, [this] { pass(); });
}

void PgRoller::tell(const std::string& what, const std::string& error) {
  const std::string text = fmt::format("{}: {}", what, error);
  if (text == told_) return;
  told_ = text;
  spdlog::warn(
      "cluster: {} in PostgreSQL (tried again at the next pass; history older than [storage] "
      "keep_raw shows only what is rolled up, and raw days wait for their rollups before they "
      "are dropped)",
      text);
}

}  // namespace lookout
