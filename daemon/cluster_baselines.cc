#include "daemon/cluster_baselines.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "daemon/cluster_changes.h"

namespace lookout {

ClusterBaselines::ClusterBaselines(EventLoop& loop, PgConnection& pg, const ClusterNode& node)
    : pg_(pg), node_(node), timer_(loop), self_(std::make_shared<ClusterBaselines*>(this)) {}

ClusterBaselines::~ClusterBaselines() { *self_ = nullptr; }

void ClusterBaselines::start(
    std::function<void(const std::map<std::string, LocationBaseline>&)> baselines) {
  on_baselines_ = std::move(baselines);
  started_ = true;
  read();
  timer_.start_repeating(kReadEvery, [this] { read(); });
}

void ClusterBaselines::stop() {
  timer_.stop();
  started_ = false;
}

uint64_t ClusterBaselines::ask_fresh() {
  ++asked_;
  read();
  return asked_;
}

void ClusterBaselines::read() {
  // One at a time: a read asked for while one is out goes at the next turn of the timer.
  if (!started_ || in_flight_) return;
  in_flight_ = true;
  const int64_t known = version_;
  const uint64_t number = asked_;
  const PgStatement s = PgBaselines::list(node_.location(), known);
  pg_.query(s.sql, s.params, [self = self_, known, number](const PgResult& answer) {
    ClusterBaselines* b = *self;
    if (b == nullptr) return;
    b->in_flight_ = false;
    auto read = PgBaselines::read(answer, known);
    if (!read) {
      // The probes keep the baselines they hold; /healthz says when the database is away.
      const std::string error = answer_failure(answer);
      if (error != b->read_error_) {
        b->read_error_ = error;
        spdlog::warn(
            "cluster: cannot read location {}'s dns baselines from PostgreSQL ({}); the probes "
            "keep those they hold, read again every {} s",
            b->node_.location(), error, kReadEvery.count() / 1000);
      }
      return;
    }
    b->read_error_.clear();
    b->answered_ = std::max(b->answered_, number);
    if (!read->rows) return;
    b->version_ = read->version;
    b->rows_ = std::move(*read->rows);
    if (b->on_baselines_) b->on_baselines_(b->rows_);
  });
}

void ClusterBaselines::ran(const std::string& monitor, const std::string& question,
                           const std::vector<std::string>& answers, bool first) {
  if (reporting_.count(monitor) > 0) return;
  Baseline baseline{question, answers};
  if (!first) {
    const auto unwritten = unwritten_.find(monitor);
    const auto row = rows_.find(monitor);
    if (unwritten != unwritten_.end() && unwritten->second.question == question) {
      baseline = unwritten->second;
    } else if (row != rows_.end() && row->second.baseline.question == question) {
      if (row->second.seen == answers) return;
      baseline = row->second.baseline;
    } else {
      // The probe holds no baseline the location has: nothing to keep beside.
      return;
    }
  }
  report(monitor, baseline, answers);
}

void ClusterBaselines::report(const std::string& monitor, const Baseline& baseline,
                              const std::vector<std::string>& seen) {
  if (!node_.joined() || !pg_.connected()) {
    unwritten_[monitor] = baseline;
    return;
  }
  reporting_.insert(monitor);
  const PgStatement s = PgBaselines::report(monitor, node_.location(), baseline, seen);
  pg_.query(s.sql, s.params, [self = self_, monitor, baseline, seen](const PgResult& answer) {
    ClusterBaselines* b = *self;
    if (b == nullptr) return;
    b->reporting_.erase(monitor);
    if (!PgBaselines::reported(answer)) {
      b->unwritten_[monitor] = baseline;
      const std::string error = answer_failure(answer);
      if (error != b->report_error_) {
        b->report_error_ = error;
        spdlog::warn(
            "cluster: cannot write monitor {}'s dns answers at location {} to "
            "PostgreSQL ({}); its next run writes them",
            monitor, b->node_.location(), error);
      }
      return;
    }
    b->report_error_.clear();
    b->unwritten_.erase(monitor);
    // Until the next read: a baseline kept for the question stays, the answers seen
    // are these.
    auto& row = b->rows_[monitor];
    if (row.baseline.question != baseline.question) row.baseline = baseline;
    row.seen = seen;
  });
}

void ClusterBaselines::accept(const std::string& monitor, const std::string& question,
                              std::function<void(AcceptResult)> done) {
  AcceptResult result;
  if (auto why = change_unsendable(node_, pg_, "the accept", "made")) {
    result.code = AcceptResult::Code::kUnavailable;
    result.error = std::move(*why);
    done(std::move(result));
    return;
  }
  const PgStatement s = PgBaselines::accept(monitor, question);
  pg_.query(s.sql, s.params,
            [self = self_, monitor, question, done = std::move(done)](const PgResult& answer) {
              ClusterBaselines* b = *self;
              if (b != nullptr) b->accepted(monitor, question, answer, done);
            });
}

void ClusterBaselines::accepted(const std::string& monitor, const std::string& question,
                                const PgResult& answer,
                                const std::function<void(AcceptResult)>& done) {
  AcceptResult result;
  auto accepted = PgBaselines::accepted(answer);
  if (!accepted) {
    result.code = AcceptResult::Code::kUnavailable;
    result.error = change_failed(answer, pg_, "the accept", "made", "accepting again does no harm");
    done(std::move(result));
    return;
  }
  if (accepted->empty()) {
    result.code = AcceptResult::Code::kNoAnswers;
    done(std::move(result));
    return;
  }
  // This node's probes hold the monitor to its location's new baseline before the answer; the
  // other nodes' read it within kReadEvery.
  if (const auto here = accepted->find(node_.location()); here != accepted->end()) {
    rows_[monitor] = LocationBaseline{Baseline{question, here->second}, here->second};
    if (on_baselines_) on_baselines_(rows_);
  }
  result.code = AcceptResult::Code::kDone;
  for (auto& [location, answers] : *accepted) {
    result.answers.insert(result.answers.end(), answers.begin(), answers.end());
    spdlog::info("monitor {}: {} answers at location {} accepted as its new baseline", monitor,
                 answers.size(), location);
  }
  std::sort(result.answers.begin(), result.answers.end());
  result.answers.erase(std::unique(result.answers.begin(), result.answers.end()),
                       result.answers.end());
  result.locations = std::move(*accepted);
  done(std::move(result));
}

}  // namespace lookout
