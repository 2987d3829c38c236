#include "alerting/cluster_status.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>

#include "alerting/quorum_reader.h"
#include "store/lease_plan.h"

namespace lookout {
namespace {

// Each incremental part leads with the xmin of its statement's snapshot: every transaction with
// a smaller id had ended when the rows were read, so the next read need not look below it. The
// LEFT JOIN gives one row also when no row matched (its own columns NULL), so the xmin moves on
// while nothing is written. `$1` is the xmin of the read before, 0 for a whole read. The
// columns of PgDecisions::state_rows.
constexpr const char* kStatesSince = R"sql(WITH s AS (
  SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS xmin
)
SELECT s.xmin, m.monitor, m.state, floor(extract(epoch FROM m.since) * 1000)::bigint, m.recent,
  floor(extract(epoch FROM m.last_check) * 1000)::bigint, m.last_outcome, m.last_latency_us,
  m.last_cause
FROM s LEFT JOIN monitor_states m ON m.xact >= $1::xid8)sql";

// Every report a probing node wrote, stale ones too: a location that went silent shows as
// unknown rather than vanishing. The columns of PgDecisions::location_reports.
constexpr const char* kReportsSince = R"sql(WITH s AS (
  SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS xmin
)
SELECT s.xmin, r.monitor, r.location, r.state, floor(extract(epoch FROM r.since) * 1000)::bigint,
  floor(extract(epoch FROM r.last_check) * 1000)::bigint, r.latency_us, r.cause, r.recent,
  floor(extract(epoch FROM clock_timestamp() - r.reported_at) * 1000)::bigint
FROM s LEFT JOIN location_states r ON r.xact >= $1::xid8 AND r.reported_at > '-infinity')sql";

// After the xmin, whether the incident is open, then the columns of PgDecisions::incidents. A
// whole read takes the open ones; a later one every incident written since, so that one closed
// meanwhile leaves the picture.
constexpr const char* kOpenIncidents = R"sql(WITH s AS (
  SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS xmin
)
SELECT s.xmin, i.resolved_at IS NULL, i.id, i.monitor, i.grp, i.type, i.state, i.cause,
  floor(extract(epoch FROM i.started_at) * 1000)::bigint,
  floor(extract(epoch FROM i.acknowledged_at) * 1000)::bigint, i.acknowledged_by, i.flapping,
  i.flap_notified, to_json(i.fired)::text, floor(extract(epoch FROM i.next_reminder) * 1000)::bigint
FROM s LEFT JOIN incidents i ON i.resolved_at IS NULL AND i.xact >= $1::xid8)sql";
constexpr const char* kIncidentsSince = R"sql(WITH s AS (
  SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS xmin
)
SELECT s.xmin, i.resolved_at IS NULL, i.id, i.monitor, i.grp, i.type, i.state, i.cause,
  floor(extract(epoch FROM i.started_at) * 1000)::bigint,
  floor(extract(epoch FROM i.acknowledged_at) * 1000)::bigint, i.acknowledged_by, i.flapping,
  i.flap_notified, to_json(i.fired)::text, floor(extract(epoch FROM i.next_reminder) * 1000)::bigint
FROM s LEFT JOIN incidents i ON i.xact >= $1::xid8)sql";

// The columns of LeaseRegistry::list(), of the eval leases only.
constexpr const char* kEvalLeases = R"sql(SELECT name, holder, epoch,
  floor(extract(epoch FROM expires_at - clock_timestamp()) * 1000)::bigint
FROM leases WHERE name LIKE 'eval/%' AND holder IS NOT NULL AND expires_at > clock_timestamp())sql";

enum ReadPart : size_t { kStateRows, kReportRows, kIncidentRows, kLeaseRows, kReadParts };

// An incremental part's answer: its rows without the leading columns, the xmin, and for the
// incidents whether each is open.
struct Part {
  PgResult rows;
  std::string xmin;
  std::vector<bool> open;
};

std::optional<Part> part_of(const PgResult& answer, size_t lead) {
  if (answer.rows.empty() || answer.rows.front().empty() || !answer.rows.front().front()) {
    return std::nullopt;
  }
  Part out;
  out.xmin = *answer.rows.front().front();
  for (const auto& row : answer.rows) {
    if (row.size() <= lead) return std::nullopt;
    if (!row[lead]) continue;  // the row of the LEFT JOIN when nothing matched
    if (lead > 1) out.open.push_back(row[1] == "t");
    out.rows.rows.emplace_back(row.begin() + static_cast<std::ptrdiff_t>(lead), row.end());
  }
  return out;
}

bool reported_from(const MonitorConfig& m, const std::string& location) {
  return !m.locations ||
         std::find(m.locations->begin(), m.locations->end(), location) != m.locations->end();
}

}  // namespace

ClusterStatus cluster_status_of(const ClusterRead& read, const std::vector<MonitorConfig>& monitors,
                                Duration lease, WallTime now) {
  std::array<std::optional<std::string>, kLeaseShards> deciders;
  const LeaseSpace eval = LeaseSpace::evaluation();
  for (const LeaseRow& l : read.eval_leases) {
    const auto shard = eval.shard(l.name);
    if (shard && !l.holder.empty() && l.remaining_ms > 0) deciders.at(*shard) = l.holder;
  }
  ClusterStatus out;
  out.ok = true;
  std::map<std::string, const MonitorConfig*> configured;
  for (const MonitorConfig& m : monitors) {
    configured.emplace(m.name, &m);
    out.monitors[m.name].decided_by = deciders.at(shard_of(m.name));
  }
  for (const StateRow& s : read.states) {
    const auto it = out.monitors.find(s.monitor);
    if (it == out.monitors.end()) continue;
    ClusterMonitorStatus& c = it->second;
    c.state = state_from_string(s.state).value_or(State::kUnknown);
    if (c.state != State::kUnknown) c.since = from_unix_ms(s.since_ms);
    if (s.last_check_ms) c.last_check = from_unix_ms(*s.last_check_ms);
    c.last_outcome = s.last_outcome;
    c.latency_us = s.last_latency_us;
    c.cause = s.last_cause;
  }
  // MonitorQuorum keeps the rule of freshness the deciding node counts by, so the page shows a
  // location unknown exactly when the decision no longer counts it.
  std::map<std::string, MonitorQuorum> quorums;
  for (const LocationReportRow& r : read.reports) {
    const auto m = configured.find(r.state.monitor);
    if (m == configured.end() || !reported_from(*m->second, r.state.location)) continue;
    const WallTime heard = now - Duration{r.age_ms};
    quorums[r.state.monitor].set_location(r.state.location, report_of(r), heard);
    auto [newest, fresh] = out.heard.try_emplace(r.state.location, heard);
    if (!fresh && heard > newest->second) newest->second = heard;
  }
  for (const auto& [name, quorum] : quorums) {
    out.monitors.at(name).locations =
        quorum.view(now, freshness_bound(*configured.at(name), lease));
  }
  for (const IncidentRecord& i : read.open_incidents) {
    if (configured.count(i.monitor) > 0) out.open_incidents.push_back(i);
  }
  return out;
}

ClusterStatusReader::ClusterStatusReader(EventLoop& loop, PgConnection& pg, const Clock& clock,
                                         const Config& config, OnRead on_read, Duration every)
    : pg_(pg),
      clock_(clock),
      config_(config),
      on_read_(std::move(on_read)),
      every_(every),
      timer_(loop),
      self_(std::make_shared<ClusterStatusReader*>(this)) {
  // A server that came back may not be the one read before (a failover), nor hold what it held.
  pg_.set_on_connect([self = self_] {
    if (ClusterStatusReader* r = *self; r != nullptr) r->whole_next_ = true;
  });
}

ClusterStatusReader::~ClusterStatusReader() { *self_ = nullptr; }

void ClusterStatusReader::start() {
  stopped_ = false;
  tick();
  timer_.start_repeating(every_, [this] { tick(); });
}

void ClusterStatusReader::stop() {
  stopped_ = true;
  timer_.stop();
}

std::vector<PgStatement> ClusterStatusReader::statements(const Since& since) {
  auto from = [&](size_t part) { return PgParams{since.at(part).value_or("0")}; };
  std::vector<PgStatement> out(kReadParts);
  out[kStateRows] = {kStatesSince, from(kStateRows)};
  out[kReportRows] = {kReportsSince, from(kReportRows)};
  out[kIncidentRows] = {since.at(kIncidentRows) ? kIncidentsSince : kOpenIncidents,
                        from(kIncidentRows)};
  out[kLeaseRows] = {kEvalLeases, {}};
  return out;
}

void ClusterStatusReader::tick() {
  if (stopped_ || waiting_ > 0) return;
  const MonoTime mono = clock_.mono();
  reading_whole_ = whole_next_ || mono - last_whole_ >= kWholeEvery;
  whole_next_ = false;
  if (reading_whole_) last_whole_ = mono;
  const std::vector<PgStatement> parts = statements(reading_whole_ ? Since{} : since_);
  answers_.assign(parts.size(), PgResult{});
  waiting_ = parts.size();
  // Queued at once rather than each from the answer before: a read waits behind the other
  // users of the connection once, not four times.
  for (size_t part = 0; part < parts.size(); ++part) {
    pg_.query(parts[part].sql, parts[part].params, [self = self_, part](const PgResult& answer) {
      if (ClusterStatusReader* r = *self; r != nullptr) r->on_answer(part, answer);
    });
  }
}

bool ClusterStatusReader::take(const std::vector<PgResult>& answers, bool whole, WallTime now,
                               std::string& error) {
  for (const PgResult& a : answers) {
    if (!a.ok()) {
      error = a.error;
      return false;
    }
  }
  const auto states_part = part_of(answers[kStateRows], 1);
  const auto reports_part = part_of(answers[kReportRows], 1);
  const auto incidents_part = part_of(answers[kIncidentRows], 2);
  auto states = states_part ? PgDecisions::state_rows(states_part->rows) : std::nullopt;
  auto reports = reports_part ? PgDecisions::report_rows(reports_part->rows) : std::nullopt;
  auto incidents = incidents_part ? PgDecisions::incidents(incidents_part->rows) : std::nullopt;
  auto leases = LeaseRegistry::rows(answers[kLeaseRows]);
  if (!states || !reports || !incidents || !leases ||
      incidents->size() != incidents_part->open.size()) {
    error = "an answer in a shape this lookout does not know";
    return false;
  }
  if (whole) {
    states_.clear();
    reports_.clear();
    incidents_.clear();
  }
  for (StateRow& s : *states) {
    std::string monitor = s.monitor;
    states_.insert_or_assign(std::move(monitor), std::move(s));
  }
  for (LocationReportRow& r : *reports) {
    const WallTime heard = now - Duration{r.age_ms};
    auto key = std::make_pair(r.state.monitor, r.state.location);
    reports_.insert_or_assign(std::move(key), HeardReport{std::move(r), heard});
  }
  for (size_t i = 0; i < incidents->size(); ++i) {
    IncidentRecord& incident = (*incidents)[i];
    if (incidents_part->open[i]) {
      const int64_t id = incident.id;
      incidents_.insert_or_assign(id, std::move(incident));
    } else {
      incidents_.erase(incident.id);
    }
  }
  leases_ = std::move(*leases);
  since_ = {states_part->xmin, reports_part->xmin, incidents_part->xmin};
  rows_read_ += states->size() + reports->size() + incidents->size() + leases_.size();
  return true;
}

ClusterRead ClusterStatusReader::kept(WallTime now) const {
  ClusterRead out;
  out.states.reserve(states_.size());
  for (const auto& entry : states_) out.states.push_back(entry.second);
  out.reports.reserve(reports_.size());
  for (const auto& entry : reports_) {
    LocationReportRow r = entry.second.row;
    r.age_ms = std::chrono::duration_cast<Duration>(now - entry.second.heard).count();
    out.reports.push_back(std::move(r));
  }
  out.open_incidents.reserve(incidents_.size());
  for (const auto& entry : incidents_) out.open_incidents.push_back(entry.second);
  out.eval_leases = leases_;
  return out;
}

void ClusterStatusReader::on_answer(size_t part, const PgResult& answer) {
  answers_.at(part) = answer;
  if (--waiting_ > 0) return;
  if (stopped_) {
    answers_.clear();
    return;
  }
  const WallTime now = clock_.wall();
  std::string error;
  const bool taken = take(answers_, reading_whole_, now, error);
  answers_.clear();
  if (!taken) {
    whole_next_ = true;
    if (error != status_.error) {
      spdlog::warn(
          "cannot read the cluster's status from PostgreSQL: {}; the page shows the last one "
          "read (tried again every {}ms)",
          error, every_.count());
    }
    status_.ok = false;
    status_.error = std::move(error);
  } else {
    if (reading_whole_) ++whole_reads_;
    if (!status_.ok && !status_.error.empty()) {
      spdlog::info("the cluster's status is read again");
    }
    status_ = cluster_status_of(kept(now), config_.monitors, config_.cluster->lease, now);
  }
  on_read_(status_);
}

}  // namespace lookout
