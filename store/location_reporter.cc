#include "store/location_reporter.h"

#include <spdlog/spdlog.h>

#include <vector>

#include "store/lease_plan.h"

namespace lookout {

LocationReporter::LocationReporter(EventLoop& loop, PgConnection& pg, std::string node,
                                   std::string location, EpochOf epoch_of, Duration flush_every)
    : pg_(pg),
      node_(std::move(node)),
      location_(std::move(location)),
      epoch_of_(std::move(epoch_of)),
      flush_every_(flush_every),
      timer_(loop),
      finish_(loop),
      self_(std::make_shared<LocationReporter*>(this)) {}

LocationReporter::~LocationReporter() { *self_ = nullptr; }

void LocationReporter::start() {
  timer_.start_repeating(flush_every_, [this] { flush(); });
}

void LocationReporter::stop(std::function<void()> done) {
  timer_.stop();
  stopped_ = std::move(done);
  flush();
  if (!in_flight_) {
    // Not from inside the caller's stop().
    finish_.start(Duration{0}, [this] {
      if (auto d = std::move(stopped_)) d();
    });
  }
}

void LocationReporter::report(LocationReportRow row) {
  const std::string monitor = row.state.monitor;
  waiting_.insert_or_assign(monitor, std::move(row));
}

void LocationReporter::flush() {
  if (in_flight_ || waiting_.empty()) return;
  std::map<std::string, LocationReportRow> sent;
  std::vector<LocationReportRow> rows;
  for (auto& [monitor, row] : waiting_) {
    const auto epoch = epoch_of_(shard_of(monitor));
    if (!epoch) {
      ++not_written_;
      continue;
    }
    row.epoch = *epoch;
    rows.push_back(row);
    sent.emplace(monitor, std::move(row));
  }
  waiting_.clear();
  if (rows.empty()) return;
  in_flight_ = true;
  const PgStatement s = PgDecisions::report_locations(node_, location_, rows);
  pg_.query(s.sql, s.params, [self = self_, sent = std::move(sent)](const PgResult& answer) {
    if (LocationReporter* r = *self; r != nullptr) r->on_answer(sent, answer);
  });
}

void LocationReporter::on_answer(const std::map<std::string, LocationReportRow>& sent,
                                 const PgResult& answer) {
  in_flight_ = false;
  take_answer(sent, answer);
  if (stopped_) {
    auto done = std::move(stopped_);
    stopped_ = nullptr;
    done();
  }
}

void LocationReporter::take_answer(const std::map<std::string, LocationReportRow>& sent,
                                   const PgResult& answer) {
  const auto written = PgDecisions::reported_monitors(answer);
  if (!written) {
    const std::string error =
        answer.ok() ? "an answer in a shape this lookout does not know" : answer.error;
    if (error != last_error_) {
      spdlog::warn("cannot write {} location reports of {} to PostgreSQL: {}; they are sent again",
                   sent.size(), location_, error);
      last_error_ = error;
    }
    // A newer report that came meanwhile replaces the one that failed.
    for (const auto& [monitor, row] : sent) waiting_.try_emplace(monitor, row);
    return;
  }
  if (!last_error_.empty()) spdlog::info("location reports are written to PostgreSQL again");
  last_error_.clear();
  written_ += written->size();
  // Not written: the lease went to another node before the statement ran, or the report was
  // about a run older than the one the database has. Either way, nothing to send again.
  not_written_ += sent.size() - written->size();
}

}  // namespace lookout
