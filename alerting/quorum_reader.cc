#include "alerting/quorum_reader.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <vector>

#include "store/lease_plan.h"

namespace lookout {

LocationReport report_of(const LocationReportRow& row) {
  const LocationStateRow& s = row.state;
  LocationReport report;
  report.state = state_from_string(s.state).value_or(State::kUnknown);
  report.since = from_unix_ms(s.since_ms);
  report.recent = row.recent;
  if (s.last_check_ms) report.last_check = from_unix_ms(*s.last_check_ms);
  report.latency_us = s.latency_us;
  report.cause = s.cause;
  return report;
}

LocationReportRow report_row(const std::string& monitor, const std::string& location,
                             const LocationReport& report) {
  LocationReportRow row;
  row.state = LocationStateRow{monitor,
                               location,
                               to_string(report.state),
                               to_unix_ms(report.since),
                               to_unix_ms(report.last_check),
                               report.latency_us,
                               report.cause};
  row.recent = report.recent;
  return row;
}

QuorumReader::QuorumReader(EventLoop& loop, PgConnection& pg, const Clock& clock,
                           const Config& config, Held held, OnChange on_change, Duration every)
    : pg_(pg),
      clock_(clock),
      config_(config),
      held_(std::move(held)),
      on_change_(std::move(on_change)),
      every_(every),
      whole_(0),
      timer_(loop),
      self_(std::make_shared<QuorumReader*>(this)) {
  for (const MonitorConfig& m : config_.monitors) {
    monitors_.emplace(m.name, &m);
    whole_ = std::max(whole_, freshness_bound(m, config_.cluster->lease));
  }
}

QuorumReader::~QuorumReader() { *self_ = nullptr; }

void QuorumReader::start() {
  timer_.start_repeating(every_, [this] { tick(); });
}

const MonitorQuorum* QuorumReader::quorum(const std::string& monitor) const {
  const auto it = quorums_.find(monitor);
  return it == quorums_.end() ? nullptr : &it->second;
}

std::optional<QuorumDecision> QuorumReader::judge_alone(const std::string& monitor, State state,
                                                        WallTime at, std::string cause) {
  const int shard = shard_of(monitor);
  const auto held = shards_.find(shard);
  if (held == shards_.end() || !restored(shard, held->second)) return std::nullopt;
  return quorums_[monitor].set(state, at, std::move(cause));
}

void QuorumReader::tick() {
  if (in_flight_ > 0) return;
  const std::map<int, int64_t> now = held_();
  // A shard held again under a new epoch was someone else's meanwhile: read anew, like a gain.
  std::erase_if(quorums_, [&](const auto& q) {
    const int s = shard_of(q.first);
    const auto held = now.find(s);
    const auto had = shards_.find(s);
    return held == now.end() || had == shards_.end() || had->second != held->second;
  });
  std::vector<int> gained, kept;
  for (const auto& [s, epoch] : now) {
    const auto had = shards_.find(s);
    (had != shards_.end() && had->second == epoch ? kept : gained).push_back(s);
  }
  shards_ = now;
  std::erase_if(restored_, [&](const auto& r) {
    return std::find(kept.begin(), kept.end(), r.first) == kept.end();
  });
  tick_xmin_.reset();
  tick_failed_ = false;
  if (!gained.empty()) {
    // The connection answers in order: the states are restored before any report counts.
    read_states(gained);
    read(gained, "0");
  }
  // Transaction ids are one server's: after a reconnect (perhaps to a promoted standby) start
  // over from every fresh report.
  if (pg_.connects() != since_connects_) since_.reset();
  if (!kept.empty()) read(kept, since_.value_or("0"));
  if (in_flight_ == 0) decide();
}

void QuorumReader::reread(int shard) {
  shards_.erase(shard);
  restored_.erase(shard);
  std::erase_if(quorums_, [&](const auto& q) { return shard_of(q.first) == shard; });
}

void QuorumReader::read_states(const std::vector<int>& shards) {
  ++in_flight_;
  const PgStatement s = PgDecisions::states(shards);
  pg_.query(s.sql, s.params, [self = self_, shards](const PgResult& answer) {
    if (QuorumReader* r = *self; r != nullptr) r->on_states(answer, shards);
  });
}

void QuorumReader::on_states(const PgResult& answer, const std::vector<int>& shards) {
  --in_flight_;
  const auto rows = PgDecisions::state_rows(answer);
  if (!rows) {
    // Deciding without them would take every monitor for new: these shards count as not
    // gained yet, and are read again at the next tick.
    failed(answer, "the monitors' states");
    for (const int s : shards) reread(s);
    return;
  }
  for (const StateRow& row : *rows) {
    if (shards_.count(shard_of(row.monitor)) == 0 || monitors_.count(row.monitor) == 0) continue;
    quorums_[row.monitor].restore(state_from_string(row.state).value_or(State::kUnknown),
                                  from_unix_ms(row.since_ms), row.last_cause);
  }
  for (const int s : shards) {
    if (const auto held = shards_.find(s); held != shards_.end()) restored_[s] = held->second;
  }
}

void QuorumReader::read(const std::vector<int>& shards, const std::string& since) {
  ++in_flight_;
  const PgStatement s = PgDecisions::location_reports_since(shards, since, whole_);
  pg_.query(s.sql, s.params, [self = self_](const PgResult& answer) {
    if (QuorumReader* r = *self; r != nullptr) r->on_reports(answer);
  });
}

void QuorumReader::failed(const PgResult& answer, const char* what) {
  const std::string error =
      answer.ok() ? "an answer in a shape this lookout does not know" : answer.error;
  if (error != last_error_) {
    spdlog::warn(
        "cannot read {} from PostgreSQL: {}; decisions wait for them (tried again "
        "every {}ms)",
        what, error, every_.count());
    last_error_ = error;
  }
}

void QuorumReader::on_reports(const PgResult& answer) {
  --in_flight_;
  const auto read = PgDecisions::reports_since(answer);
  const auto xmin = read ? pg_int(read->xmin) : std::nullopt;
  if (!read || !xmin) {
    failed(answer, "the locations' reports");
    tick_failed_ = true;
    since_.reset();
    return;
  }
  const uint64_t x = static_cast<uint64_t>(*xmin);
  tick_xmin_ = tick_xmin_ ? std::min(*tick_xmin_, x) : x;
  // The reads of a tick answer in order; the next starts below the smallest of their xmins.
  if (in_flight_ == 0 && !tick_failed_) {
    since_ = std::to_string(*tick_xmin_);
    since_connects_ = pg_.connects();
  }
  if (!last_error_.empty()) spdlog::info("the locations' reports are read again");
  last_error_.clear();
  const WallTime now = clock_.wall();
  for (const LocationReportRow& r : read->rows) {
    const LocationStateRow& s = r.state;
    // A shard lost while the read was out, or a monitor no longer configured.
    if (shards_.count(shard_of(s.monitor)) == 0 || monitors_.count(s.monitor) == 0) continue;
    quorums_[s.monitor].set_location(s.location, report_of(r), now - Duration{r.age_ms});
  }
  if (in_flight_ == 0) decide();
}

void QuorumReader::decide() {
  const WallTime now = clock_.wall();
  for (const auto& [name, m] : monitors_) {
    if (shards_.count(shard_of(name)) == 0) continue;
    const QuorumDecision d = quorums_[name].decide(now, quorum_rules(*m, *config_.cluster));
    if (d.changed) on_change_(*m, d);
  }
}

}  // namespace lookout
