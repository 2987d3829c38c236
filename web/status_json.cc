#include "web/status_json.h"

#include <fmt/format.h>

#include "core/units.h"

namespace lookout {

namespace {

nlohmann::json opt(const std::optional<double>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

nlohmann::json latency_ms(const std::optional<int64_t>& us) {
  return us ? nlohmann::json(static_cast<double>(*us) / 1000.0) : nlohmann::json(nullptr);
}

nlohmann::json cause_or_null(const std::string& cause) {
  return cause.empty() ? nlohmann::json(nullptr) : nlohmann::json(cause);
}

// A monitor's "locations": each location's entry by its name.
nlohmann::json locations_json(const std::vector<LocationView>& locations) {
  nlohmann::json out = nlohmann::json::object();
  for (const LocationView& l : locations) {
    out[l.location] = {
        {"state", to_string(l.state)},
        {"last_check", l.last_check == WallTime{} ? nlohmann::json(nullptr)
                                                  : nlohmann::json(rfc3339(l.last_check))},
        {"latency_ms", latency_ms(l.latency_us)},
        {"cause", cause_or_null(l.cause)}};
  }
  return out;
}

}  // namespace

nlohmann::json monitor_status_json(const MonitorView& m, const SummaryMap& history, bool admin) {
  nlohmann::json j;
  j["name"] = m.name;
  j["group"] = m.group;
  j["type"] = m.type;
  j["state"] = to_string(m.state);
  j["since"] = m.since ? nlohmann::json(rfc3339(*m.since)) : nlohmann::json(nullptr);
  j["last_check"] = m.last_check ? nlohmann::json(rfc3339(*m.last_check)) : nlohmann::json(nullptr);
  j["latency_ms"] = latency_ms(m.latency_us);
  j["cause"] = cause_or_null(m.cause);
  const auto h = history.find(m.name);
  const HistorySummary summary = h == history.end() ? HistorySummary{} : h->second;
  j["p95_ms_24h"] = opt(summary.p95_ms_24h);
  j["uptime_24h"] = opt(summary.uptime_24h);
  j["uptime_30d"] = opt(summary.uptime_30d);
  j["uptime_90d"] = opt(summary.uptime_90d);
  if (m.cert_not_after) j["cert_not_after"] = rfc3339(*m.cert_not_after);
  if (m.type == "heartbeat") {
    j["last_ping"] = m.last_ping ? nlohmann::json(rfc3339(*m.last_ping)) : nlohmann::json(nullptr);
    j["next_due"] = m.next_due ? nlohmann::json(rfc3339(*m.next_due)) : nlohmann::json(nullptr);
  }
  if (m.slo_budget) {
    // The rolling window behind slo.p95: null percentiles until it has samples.
    j["slo"] = {{"p95_budget_ms", m.slo_budget->count()},
                {"window", format_duration(*m.slo_window)},
                {"samples", m.slo ? m.slo->samples : 0},
                {"p50_ms", m.slo ? nlohmann::json(m.slo->p50_ms) : nlohmann::json(nullptr)},
                {"p95_ms", m.slo ? nlohmann::json(m.slo->p95_ms) : nlohmann::json(nullptr)},
                {"p99_ms", m.slo ? nlohmann::json(m.slo->p99_ms) : nlohmann::json(nullptr)},
                {"breached", m.slo && m.slo->breached}};
  }
  if (m.cluster) {
    j["locations"] = locations_json(m.cluster->locations);
    if (admin) {
      j["decided_by"] =
          m.cluster->decided_by ? nlohmann::json(*m.cluster->decided_by) : nlohmann::json(nullptr);
    }
  }
  return j;
}

nlohmann::json status_json(const Snapshot& s, const SummaryMap& history, bool admin) {
  auto monitors = nlohmann::json::array();
  for (const auto& view : s.monitors) {
    const MonitorView& m = *view;
    if (!m.is_public && !admin) continue;
    monitors.push_back(monitor_status_json(m, history, admin));
  }
  return {{"title", s.title}, {"monitors", std::move(monitors)}};
}

}  // namespace lookout

namespace lookout {

nlohmann::json history_json(const std::string& monitor, int64_t window_ms, int64_t step_ms,
                            const std::vector<SeriesPoint>& points) {
  auto out = nlohmann::json::array();
  for (const auto& p : points) {
    out.push_back({{"t", rfc3339(from_unix_ms(p.t_ms))},
                   {"count", p.agg.count},
                   {"failures", p.agg.failures},
                   {"p50_ms", opt(p.agg.quantile_ms(0.50))},
                   {"p95_ms", opt(p.agg.quantile_ms(0.95))},
                   {"p99_ms", opt(p.agg.quantile_ms(0.99))}});
  }
  return {{"monitor", monitor},
          {"window", format_duration(Duration{window_ms})},
          {"step", format_duration(Duration{step_ms})},
          {"points", std::move(out)}};
}

nlohmann::json cluster_json(bool storage_ok, const std::vector<ClusterNodeView>& nodes,
                            WallTime now) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& n : nodes) {
    list.push_back({{"node", n.row.node},
                    {"location", n.row.location},
                    {"version", n.row.version},
                    {"alive", n.row.alive},
                    {"last_seen", rfc3339(now - Duration{n.row.last_seen_ago_ms})},
                    {"probing", n.probing},
                    {"deciding", n.deciding}});
  }
  return {{"storage", {{"engine", "postgresql"}, {"ok", storage_ok}}}, {"nodes", std::move(list)}};
}

}  // namespace lookout
