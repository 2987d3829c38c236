#include "web/metrics.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

namespace lookout {

std::string escape_label(const std::string& v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

namespace {

void header(std::string& out, const char* name, const char* type, const char* help) {
  out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

}  // namespace

std::string cluster_metrics_text(const std::vector<ClusterNodeView>& nodes, size_t spool_rows) {
  std::string out;
  std::map<std::pair<std::string, bool>, int> by_location;
  for (const auto& n : nodes) {
    // Both series of a location are kept, so that a node going dead moves one count to the other.
    by_location[{n.row.location, true}] += n.row.alive ? 1 : 0;
    by_location[{n.row.location, false}] += n.row.alive ? 0 : 1;
  }
  header(out, "lookout_cluster_nodes", "gauge", "Nodes in the nodes table, by location and alive.");
  for (const auto& [key, count] : by_location) {
    out += fmt::format("lookout_cluster_nodes{{location=\"{}\",alive=\"{}\"}} {}\n",
                       escape_label(key.first), key.second ? "true" : "false", count);
  }
  header(out, "lookout_cluster_monitors", "gauge",
         "Monitors each node probes and decides now, by the leases it holds.");
  for (const auto& n : nodes) {
    const std::string node = escape_label(n.row.node);
    out +=
        fmt::format("lookout_cluster_monitors{{node=\"{}\",role=\"probe\"}} {}\n", node, n.probing);
    out += fmt::format("lookout_cluster_monitors{{node=\"{}\",role=\"decide\"}} {}\n", node,
                       n.deciding);
  }
  header(out, "lookout_spool_rows", "gauge",
         "Result rows waiting in this node's local spool for PostgreSQL.");
  out += fmt::format("lookout_spool_rows {}\n", spool_rows);
  return out;
}

std::string gate_metrics_text(const GateCounts& g) {
  std::string out;
  header(out, "lookout_http_connections_open", "gauge",
         "HTTP connections held now, waiting for a request or being answered.");
  out += fmt::format("lookout_http_connections_open {}\n", g.open);
  header(out, "lookout_http_connections_refused_total", "counter",
         "HTTP connections closed at once: their client address held "
         "server.max_connections_per_client already.");
  out += fmt::format("lookout_http_connections_refused_total {}\n", g.refused);
  header(out, "lookout_http_connections_shed_total", "counter",
         "HTTP connections closed to stay within server.max_connections: the oldest idle ones, "
         "or new ones when none was idle.");
  out += fmt::format("lookout_http_connections_shed_total {}\n", g.shed);
  header(out, "lookout_http_head_timeouts_total", "counter",
         "HTTP connections closed because a request head took longer than "
         "server.header_timeout.");
  out += fmt::format("lookout_http_head_timeouts_total {}\n", g.head_timeouts);
  header(out, "lookout_http_body_timeouts_total", "counter",
         "HTTP connections closed because a request body took longer than server.body_timeout.");
  out += fmt::format("lookout_http_body_timeouts_total {}\n", g.body_timeouts);
  header(out, "lookout_http_requests_refused_total", "counter",
         "Requests refused from their head alone: 411 (a chunked body), 413 (Content-Length over "
         "server.max_request), 431 (a head over 16 KiB).");
  out += fmt::format("lookout_http_requests_refused_total{{status=\"411\"}} {}\n", g.refused_411);
  out += fmt::format("lookout_http_requests_refused_total{{status=\"413\"}} {}\n", g.refused_413);
  out += fmt::format("lookout_http_requests_refused_total{{status=\"431\"}} {}\n", g.refused_431);
  header(out, "lookout_http_tls_handshake_failures_total", "counter",
         "HTTPS connections closed in their TLS handshake: plain HTTP to the HTTPS port, no TLS "
         "version or cipher in common, or the client left; its handshake's time counts against "
         "server.header_timeout.");
  out += fmt::format("lookout_http_tls_handshake_failures_total {}\n", g.tls_handshake_failures);
  return out;
}

std::string metrics_text(const Snapshot& s, const StoreHealth& store, bool include_private) {
  // One allocation of about the final size: at 10,000 monitors the text is several MB, and
  // growing it by doubling would hold the old and the new buffer at once.
  size_t estimate = 8192;
  for (const auto& m : s.monitors) {
    estimate += 900 + 12 * m->name.size();
    for (const auto& p : m->perfdata) estimate += 60 + m->name.size() + p.label.size();
  }
  std::string out;
  out.reserve(estimate);
  auto visible = [&](const MonitorView& m) { return m.is_public || include_private; };
  auto visible_name = [&](const std::string& name) {
    return include_private || s.find(name, false) != nullptr;
  };

  header(out, "lookout_probe_success", "gauge",
         "Whether the last run of the monitor was up (1) or not (0).");
  for (const auto& m : s.monitors) {
    if (!visible(*m) || !m->last_outcome) continue;
    out += fmt::format("lookout_probe_success{{monitor=\"{}\"}} {}\n", escape_label(m->name),
                       *m->last_outcome == Outcome::kUp ? 1 : 0);
  }
  header(out, "lookout_probe_duration_seconds", "gauge", "Phase durations of the last run.");
  for (const auto& m : s.monitors) {
    if (!visible(*m) || !m->last_outcome) continue;
    const std::pair<const char*, const std::optional<int64_t>*> phases[] = {
        {"dns", &m->timings.dns_us},
        {"connect", &m->timings.connect_us},
        {"tls", &m->timings.tls_us},
        {"first_byte", &m->timings.first_byte_us},
        {"total", &m->timings.total_us}};
    for (const auto& [phase, v] : phases) {
      if (!*v) continue;
      out += fmt::format("lookout_probe_duration_seconds{{monitor=\"{}\",phase=\"{}\"}} {:.6f}\n",
                         escape_label(m->name), phase, static_cast<double>(**v) / 1e6);
    }
  }
  header(out, "lookout_cert_expiry_timestamp_seconds", "gauge",
         "When the earliest certificate of the verified chain expires (Unix seconds).");
  for (const auto& m : s.monitors) {
    if (!visible(*m) || !m->cert_not_after) continue;
    out += fmt::format("lookout_cert_expiry_timestamp_seconds{{monitor=\"{}\"}} {}\n",
                       escape_label(m->name), to_unix_ms(*m->cert_not_after) / 1000);
  }
  header(out, "lookout_exec_perfdata", "gauge",
         "A value of the performance data of an exec monitor's last run, in base units "
         "(seconds, bytes).");
  for (const auto& m : s.monitors) {
    if (!visible(*m)) continue;
    for (const auto& p : m->perfdata) {
      out += fmt::format("lookout_exec_perfdata{{monitor=\"{}\",label=\"{}\"}} {}\n",
                         escape_label(m->name), escape_label(p.label), p.value);
    }
  }
  header(out, "lookout_slo_p95_seconds", "gauge", "The p95 latency over the monitor's slo.window.");
  for (const auto& m : s.monitors) {
    if (!visible(*m) || !m->slo) continue;
    out += fmt::format("lookout_slo_p95_seconds{{monitor=\"{}\"}} {:.6f}\n", escape_label(m->name),
                       m->slo->p95_ms / 1000.0);
  }
  header(out, "lookout_monitor_state", "gauge", "The monitor's state: 1 for the current one.");
  for (const auto& m : s.monitors) {
    if (!visible(*m)) continue;
    for (State st :
         {State::kUnknown, State::kUp, State::kDegraded, State::kDown, State::kMaintenance}) {
      out += fmt::format("lookout_monitor_state{{monitor=\"{}\",state=\"{}\"}} {}\n",
                         escape_label(m->name), to_string(st), m->state == st ? 1 : 0);
    }
  }
  header(out, "lookout_probe_runs_total", "counter", "Runs finished since the daemon started.");
  for (const auto& m : s.monitors) {
    if (!visible(*m)) continue;
    out += fmt::format("lookout_probe_runs_total{{monitor=\"{}\"}} {}\n", escape_label(m->name),
                       m->runs);
  }
  header(out, "lookout_probe_failures_total", "counter",
         "Runs that were not up since the daemon started.");
  for (const auto& m : s.monitors) {
    if (!visible(*m)) continue;
    out += fmt::format("lookout_probe_failures_total{{monitor=\"{}\"}} {}\n", escape_label(m->name),
                       m->failures);
  }

  const auto& lag = s.scheduler.lag;
  header(out, "lookout_scheduler_lag_seconds", "histogram",
         "Time from a run's due time to its start.");
  uint64_t cumulative = 0;
  for (size_t i = 0; i < LagHistogram::kBounds.size(); ++i) {
    cumulative += lag.counts[i];
    out += fmt::format("lookout_scheduler_lag_seconds_bucket{{le=\"{}\"}} {}\n",
                       LagHistogram::kBounds[i], cumulative);
  }
  out += fmt::format("lookout_scheduler_lag_seconds_bucket{{le=\"+Inf\"}} {}\n", lag.total);
  out += fmt::format("lookout_scheduler_lag_seconds_sum {:.6f}\n", lag.sum_seconds);
  out += fmt::format("lookout_scheduler_lag_seconds_count {}\n", lag.total);

  header(out, "lookout_scheduler_runs_started_total", "counter", "Runs started.");
  out += fmt::format("lookout_scheduler_runs_started_total {}\n", s.scheduler.started);
  header(out, "lookout_scheduler_skipped_total", "counter",
         "Runs skipped because the previous run of the monitor was still going.");
  out += fmt::format("lookout_scheduler_skipped_total {}\n", s.scheduler.skipped_busy);
  header(
      out, "lookout_scheduler_deferred_total", "counter",
      "Runs put back to start again because lookout was out of file descriptors (never judged).");
  out += fmt::format("lookout_scheduler_deferred_total {}\n", s.scheduler.deferred);
  header(out, "lookout_scheduler_missed_slots_total", "counter",
         "Schedule slots passed over because the loop fell behind.");
  out += fmt::format("lookout_scheduler_missed_slots_total {}\n", s.scheduler.missed_slots);
  header(out, "lookout_scheduler_in_flight", "gauge", "Runs in flight.");
  out += fmt::format("lookout_scheduler_in_flight {}\n", s.scheduler.in_flight);
  header(out, "lookout_scheduler_waiting", "gauge",
         "Due runs waiting for max_in_flight or max_per_host.");
  out += fmt::format("lookout_scheduler_waiting {}\n", s.scheduler.waiting);
  header(out, "lookout_monitors", "gauge", "Monitors configured.");
  out += fmt::format("lookout_monitors {}\n", s.monitors_total);

  header(out, "lookout_notifications_total", "counter",
         "Notification attempts by channel and outcome.");
  for (const auto& [key, n] : s.notifications.outcomes) {
    out += fmt::format("lookout_notifications_total{{channel=\"{}\",outcome=\"{}\"}} {}\n",
                       escape_label(key.first), key.second, n);
  }
  header(out, "lookout_outbox_pending", "gauge",
         "On-call notifications not yet delivered, failed or given up.");
  out += fmt::format("lookout_outbox_pending {}\n", s.notifications.pending);
  header(out, "lookout_outbox_subscriber_mail_pending", "gauge",
         "Mails to status-page subscribers not yet delivered, failed or given up.");
  out += fmt::format("lookout_outbox_subscriber_mail_pending {}\n",
                     s.notifications.subscriber_mail_pending);
  if (s.subscriptions) {
    header(out, "lookout_subscribers", "gauge",
           "Status-page subscribers: confirmed, and pending (waiting for confirmation).");
    out +=
        fmt::format("lookout_subscribers{{state=\"confirmed\"}} {}\n", s.subscriptions->confirmed);
    out += fmt::format("lookout_subscribers{{state=\"pending\"}} {}\n", s.subscriptions->pending);
  }
  header(out, "lookout_outbox_oldest_pending_seconds", "gauge",
         "Age of the oldest pending notification.");
  out += fmt::format(
      "lookout_outbox_oldest_pending_seconds {:.3f}\n",
      s.notifications.oldest_pending
          ? std::max(
                0.0,
                std::chrono::duration<double>(s.built_at - *s.notifications.oldest_pending).count())
          : 0.0);
  header(out, "lookout_incidents_open", "gauge", "Open incidents.");
  size_t open = 0;
  for (const auto& i : s.open_incidents) open += (visible_name(i.monitor) ? 1 : 0);
  out += fmt::format("lookout_incidents_open {}\n", open);

  header(out, "lookout_storage_ok", "gauge", "Whether the last storage commit succeeded.");
  out += fmt::format("lookout_storage_ok {}\n", store.ok ? 1 : 0);
  header(out, "lookout_storage_rows_written_total", "counter", "Result rows committed to storage.");
  out += fmt::format("lookout_storage_rows_written_total {}\n", store.rows_written);
  header(out, "lookout_storage_rows_dropped_total", "counter",
         "Result rows dropped because storage stayed unwritable.");
  out += fmt::format("lookout_storage_rows_dropped_total {}\n", store.rows_dropped);
  header(out, "lookout_storage_backlog", "gauge", "Result rows waiting to be written.");
  out += fmt::format("lookout_storage_backlog {}\n", store.backlog);
  header(out, "lookout_storage_housekeeping_seconds", "gauge",
         "Wall time of the last rollup, retention and summary pass.");
  out += fmt::format("lookout_storage_housekeeping_seconds {:.6f}\n", store.housekeeping_seconds);
  header(out, "lookout_storage_housekeeping_cpu_seconds", "gauge",
         "CPU time of the last rollup, retention and summary pass.");
  out += fmt::format("lookout_storage_housekeeping_cpu_seconds {:.6f}\n",
                     store.housekeeping_cpu_seconds);
  if (s.dead_mans_switch) {
    header(out, "lookout_heartbeat_last_success_timestamp_seconds", "gauge",
           "When [heartbeat]'s outside check last answered with a 2xx (0: not yet).");
    out += fmt::format("lookout_heartbeat_last_success_timestamp_seconds {:.3f}\n",
                       s.dead_mans_switch_last_success
                           ? to_unix_ms(*s.dead_mans_switch_last_success) / 1000.0
                           : 0.0);
  }
  return out;
}

}  // namespace lookout
