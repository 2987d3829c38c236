#include "store/pg_result_writer.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>

#include "core/random.h"
#include "core/units.h"
#include "store/lease_plan.h"
#include "store/pg_rollup.h"

namespace lookout {
namespace {

// What the database answers a batch with: its mark is there already (the database took the
// batch before its answer was lost), or a row's day has no partition.
constexpr const char* kPgBatchTaken = "23505";
constexpr const char* kPgNoPartition = "23514";

}  // namespace

PgResultWriter::PgResultWriter(EventLoop& loop, PgConnection& pg, ResultOrigin origin,
                               PgResultWriterOptions options, ResultBacklog backlog)
    : pg_(pg),
      origin_(std::move(origin)),
      options_(options),
      // The old id only for the batch in doubt, which its mark must tell apart; later batches go
      // under a new one, so that none of them can meet a mark the old writer left.
      id_(backlog.batch == 0 || backlog.writer.empty() ? random_hex(16)
                                                       : std::move(backlog.writer)),
      timer_(loop),
      rows_(std::make_move_iterator(backlog.rows.begin()),
            std::make_move_iterator(backlog.rows.end())),
      next_number_(
          std::max<uint64_t>(backlog.next_number, rows_.empty() ? 1 : rows_.back().number + 1)),
      // The batch in doubt is in the spool already: it goes without waiting for on_batch.
      batch_(backlog.batch),
      batch_rows_(std::min(backlog.batch_rows, rows_.size())),
      self_(std::make_shared<PgResultWriter*>(this)) {
  resumed_ = backlog.batch > 0 && batch_rows_ > 0;
}

PgResultWriter::~PgResultWriter() { *self_ = nullptr; }

void PgResultWriter::start() {
  timer_.start_repeating(options_.flush_every, [this] {
    if (!in_flight_ && !held_ && !rows_.empty()) send();
  });
}

uint64_t PgResultWriter::add(ResultRow row) {
  if (rows_.size() >= options_.max_rows) drop_oldest();
  const uint64_t number = next_number_++;
  if (on_added_) on_added_(number, row);
  rows_.push_back(Waiting{number, std::move(row)});
  return number;
}

uint64_t PgResultWriter::committed() const {
  return rows_.empty() ? next_number_ - 1 : rows_.front().number - 1;
}

// A tenth of max_rows at once, so that the bound holds without moving the rows for each new one.
// A batch in flight stays whole; one waiting to go again loses its oldest rows and keeps its
// number, since the database has all of it or none.
void PgResultWriter::drop_oldest() {
  const size_t from = in_flight_ ? batch_rows_ : 0;
  const size_t n = std::min(std::max<size_t>(1, options_.max_rows / 10), rows_.size() - from);
  if (n == 0) return;
  rows_.erase(rows_.begin() + static_cast<long>(from), rows_.begin() + static_cast<long>(from + n));
  if (!in_flight_) batch_rows_ -= std::min(batch_rows_, n);
  // A batch that lost every row is never sent: the next one is formed anew.
  if (batch_rows_ == 0) held_ = false;
  dropped_ += n;
  // Rows dropped from the front count as done: a spool lets them go.
  if (from == 0 && on_committed_) on_committed_(committed());
  spdlog::warn(
      "{} results wait for PostgreSQL, the most this node keeps: dropped the oldest {} ({} since "
      "start); the last error: {}",
      options_.max_rows, n, dropped_, last_error_.empty() ? pg_.last_error() : last_error_);
}

void PgResultWriter::send() {
  if (batch_rows_ == 0) {
    batch_rows_ = std::min(rows_.size(), options_.max_batch_rows);
    ++batch_;
    if (on_batch_) {
      held_ = true;
      on_batch_(FormedBatch{id_, batch_, rows_.front().number, rows_[batch_rows_ - 1].number},
                [self = self_, batch = batch_] {
                  if (PgResultWriter* w = *self; w != nullptr) w->release(batch);
                });
      // A go given at once has sent the batch already.
      if (held_ || in_flight_) return;
    }
  }
  std::string data;
  data.reserve(batch_rows_ * 160);
  // Each shard's oldest run of the batch: where its rollups are past it, they fold again.
  std::map<int, int64_t> oldest;
  for (size_t i = 0; i < batch_rows_; ++i) {
    const ResultRow& row = rows_[i].row;
    append_result_row(data, origin_, row);
    const auto [at, added] = oldest.emplace(shard_of(row.monitor), row.t_ms);
    if (!added) at->second = std::min(at->second, row.t_ms);
  }
  in_flight_ = true;
  pg_.copy(result_batch_script(id_, batch_, rollup_marks_back(oldest)), std::move(data),
           [self = self_](PgResult r) {
             if (PgResultWriter* w = *self; w != nullptr) w->on_answer(std::move(r));
           });
}

void PgResultWriter::release(uint64_t batch) {
  if (!held_ || batch != batch_) return;
  held_ = false;
  if (!in_flight_ && batch_rows_ > 0) send();
}

void PgResultWriter::on_answer(PgResult answer) {
  in_flight_ = false;
  if (answer.ok() || answer.sqlstate == kPgBatchTaken) {
    rows_.erase(rows_.begin(), rows_.begin() + static_cast<long>(batch_rows_));
    written_ += batch_rows_;
    batch_rows_ = 0;
    if (!last_error_.empty()) {
      spdlog::info("results are written to PostgreSQL again ({} wait)", rows_.size());
      last_error_.clear();
    }
    if (resumed_) {
      resumed_ = false;
      id_ = random_hex(16);
      batch_ = 0;
    }
    if (on_committed_) on_committed_(committed());
    // A backlog goes batch after batch, without waiting for the flushes.
    if (rows_.size() >= options_.max_batch_rows) send();
    return;
  }
  if (answer.sqlstate == kPgNoPartition) {
    make_partitions(answer.error != last_error_);
    last_error_ = std::move(answer.error);
    return;
  }
  // The connection logs its own failures; a failure of the batch itself is logged here.
  if (!answer.sqlstate.empty() && answer.error != last_error_) {
    spdlog::error(
        "cannot write {} results to PostgreSQL: {}; they are kept (up to {} results) and sent "
        "again every {}",
        batch_rows_, answer.error, options_.max_rows, format_duration(options_.flush_every));
  }
  last_error_ = std::move(answer.error);
}

// The batch goes again at the next flush, once the days of its rows have partitions.
void PgResultWriter::make_partitions(bool tell) {
  std::vector<int64_t> times;
  times.reserve(batch_rows_);
  for (size_t i = 0; i < batch_rows_; ++i) times.push_back(rows_[i].row.t_ms);
  const auto [first, last] = std::minmax_element(times.begin(), times.end());
  const std::string days = utc_day(*first) == utc_day(*last)
                               ? utc_day(*first)
                               : fmt::format("{} to {}", utc_day(*first), utc_day(*last));
  if (tell) {
    spdlog::warn(
        "results of {} have no partition in PostgreSQL: making them (rows of days not made ahead "
        "come from a node whose clock is off, or were kept through an outage)",
        days);
  }
  const PgStatement s = make_result_partitions_for(times);
  in_flight_ = true;
  pg_.query(s.sql, s.params, [self = self_, days](PgResult r) {
    PgResultWriter* w = *self;
    if (w == nullptr) return;
    w->in_flight_ = false;
    if (!r.sqlstate.empty() && r.error != w->partitions_error_) {
      spdlog::error(
          "cannot make the partitions of results for {} in PostgreSQL: {}; those results are kept "
          "and it is tried again every {}",
          days, r.error, format_duration(w->options_.flush_every));
    }
    w->partitions_error_ = std::move(r.error);
  });
}

}  // namespace lookout
