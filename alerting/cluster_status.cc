#include "alerting/cluster_status.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <numeric>

#include "alerting/quorum_reader.h"
#include "store/lease_plan.h"

namespace lookout {
namespace {

// Every report a probing node wrote, stale ones too: a location that went silent shows as
// unknown rather than vanishing. The columns of PgDecisions::location_reports.
constexpr const char* kAllReports = R"sql(SELECT monitor, location, state,
  floor(extract(epoch FROM since) * 1000)::bigint,
  floor(extract(epoch FROM last_check) * 1000)::bigint, latency_us, cause, recent,
  floor(extract(epoch FROM clock_timestamp() - reported_at) * 1000)::bigint
FROM location_states WHERE reported_at > '-infinity' ORDER BY monitor, location)sql";

// The columns of LeaseRegistry::list(), of the eval leases only.
constexpr const char* kEvalLeases = R"sql(SELECT name, holder, epoch,
  floor(extract(epoch FROM expires_at - clock_timestamp()) * 1000)::bigint
FROM leases WHERE name LIKE 'eval/%' AND holder IS NOT NULL AND expires_at > clock_timestamp())sql";

enum ReadPart : size_t { kStateRows, kReportRows, kIncidentRows, kLeaseRows, kReadParts };

std::vector<int> all_shards() {
  std::vector<int> out(kLeaseShards);
  std::iota(out.begin(), out.end(), 0);
  return out;
}

bool reported_from(const MonitorConfig& m, const std::string& location) {
  return !m.locations ||
         std::find(m.locations->begin(), m.locations->end(), location) != m.locations->end();
}

// The parts of a read, or why one does not parse.
std::optional<ClusterRead> read_of(const std::vector<PgResult>& answers, std::string& error) {
  for (const PgResult& a : answers) {
    if (!a.ok()) {
      error = a.error;
      return std::nullopt;
    }
  }
  auto states = PgDecisions::state_rows(answers[kStateRows]);
  auto reports = PgDecisions::report_rows(answers[kReportRows]);
  auto incidents = PgDecisions::incidents(answers[kIncidentRows]);
  auto leases = LeaseRegistry::rows(answers[kLeaseRows]);
  if (!states || !reports || !incidents || !leases) {
    error = "an answer in a shape this lookout does not know";
    return std::nullopt;
  }
  return ClusterRead{std::move(*states), std::move(*reports), std::move(*incidents),
                     std::move(*leases)};
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
    quorums[r.state.monitor].set_location(r.state.location, report_of(r), now - Duration{r.age_ms});
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
      self_(std::make_shared<ClusterStatusReader*>(this)) {}

ClusterStatusReader::~ClusterStatusReader() { *self_ = nullptr; }

void ClusterStatusReader::start() {
  tick();
  timer_.start_repeating(every_, [this] { tick(); });
}

std::vector<PgStatement> ClusterStatusReader::statements() {
  const std::vector<int> shards = all_shards();
  std::vector<PgStatement> out(kReadParts);
  out[kStateRows] = PgDecisions::states(shards);
  out[kReportRows] = {kAllReports, {}};
  out[kIncidentRows] = PgDecisions::open_incidents(shards);
  out[kLeaseRows] = {kEvalLeases, {}};
  return out;
}

void ClusterStatusReader::tick() {
  if (waiting_ > 0) return;
  const std::vector<PgStatement> parts = statements();
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

void ClusterStatusReader::on_answer(size_t part, const PgResult& answer) {
  answers_.at(part) = answer;
  if (--waiting_ > 0) return;
  std::string error;
  const auto read = read_of(answers_, error);
  answers_.clear();
  if (!read) {
    if (error != status_.error) {
      spdlog::warn(
          "cannot read the cluster's status from PostgreSQL: {}; the page shows the last one "
          "read (tried again every {}ms)",
          error, every_.count());
    }
    status_.ok = false;
    status_.error = std::move(error);
  } else {
    if (!status_.ok && !status_.error.empty()) {
      spdlog::info("the cluster's status is read again");
    }
    status_ = cluster_status_of(*read, config_.monitors, config_.cluster->lease, clock_.wall());
  }
  on_read_(status_);
}

}  // namespace lookout
