// `lookout probe`: runs monitors once, now, through the same probes as the daemon, and prints
// what a person reads at a glance. It judges each run alone and writes nothing.
#include <fmt/format.h>

#include <deque>
#include <iostream>
#include <nlohmann/json.hpp>
#include <set>

#include "config/config.h"
#include "core/curl_bridge.h"
#include "core/event_loop.h"
#include "daemon/cli.h"
#include "probes/probe.h"

namespace lookout {
namespace {

std::string ms(const std::optional<int64_t>& us) {
  if (!us) return "-";
  return fmt::format("{:.1f}", static_cast<double>(*us) / 1000.0);
}

void print_table(const std::vector<const MonitorConfig*>& monitors,
                 const std::vector<ProbeResult>& results) {
  size_t name_w = 7;
  for (const auto* m : monitors) name_w = std::max(name_w, m->name.size());
  std::cout << fmt::format("{:<{}}  {:<8}  {:>4}  {:>9}  {:>8}  {:>8}  {:>8}  {:>10}  {}\n",
                           "MONITOR", name_w, "RESULT", "HTTP", "TOTAL ms", "DNS", "CONNECT", "TLS",
                           "FIRST BYTE", "CAUSE");
  for (size_t i = 0; i < monitors.size(); ++i) {
    const auto& r = results[i];
    std::cout << fmt::format(
        "{:<{}}  {:<8}  {:>4}  {:>9}  {:>8}  {:>8}  {:>8}  {:>10}  {}\n", monitors[i]->name, name_w,
        to_string(r.outcome), r.http_status > 0 ? std::to_string(r.http_status) : "-",
        ms(r.timings.total_us), ms(r.timings.dns_us), ms(r.timings.connect_us),
        ms(r.timings.tls_us), ms(r.timings.first_byte_us), r.cause.empty() ? "" : r.cause);
  }
}

void print_json(const std::vector<const MonitorConfig*>& monitors,
                const std::vector<ProbeResult>& results) {
  for (size_t i = 0; i < monitors.size(); ++i) {
    const auto& r = results[i];
    nlohmann::json j{{"monitor", monitors[i]->name},
                     {"type", monitors[i]->type},
                     {"outcome", to_string(r.outcome)},
                     {"http_status",
                      r.http_status > 0 ? nlohmann::json(r.http_status) : nlohmann::json(nullptr)},
                     {"kind", r.kind == ErrorKind::kNone ? nlohmann::json(nullptr)
                                                         : nlohmann::json(to_string(r.kind))},
                     {"cause", r.cause.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.cause)},
                     {"timings_ms",
                      {{"dns", ms_json(r.timings.dns_us)},
                       {"connect", ms_json(r.timings.connect_us)},
                       {"tls", ms_json(r.timings.tls_us)},
                       {"first_byte", ms_json(r.timings.first_byte_us)},
                       {"total", ms_json(r.timings.total_us)}}}};
    // What the kind saw: a journey's steps, a latency run's samples, dns answers, a cert chain.
    if (!r.detail.empty()) j["detail"] = nlohmann::json::parse(r.detail, nullptr, false);
    if (r.cert_not_after) j["cert_not_after"] = rfc3339(*r.cert_not_after);
    std::cout << j.dump() << "\n";
  }
}

}  // namespace

int cmd_probe(const std::string& config_path, const std::vector<std::string>& names, bool json) {
  const LoadResult loaded = load_config(config_path);
  print_config_errors(loaded);
  if (!loaded.ok()) return 2;
  const Config& config = *loaded.config;

  std::vector<const MonitorConfig*> selected;
  if (names.empty()) {
    for (const auto& m : config.monitors) selected.push_back(&m);
  } else {
    std::set<std::string> seen;
    for (const auto& n : names) {
      const MonitorConfig* m = config.find(n);
      if (m == nullptr) {
        std::cerr << fmt::format("{}: no monitor named \"{}\"\n", config_path, n);
        return 2;
      }
      if (seen.insert(n).second) selected.push_back(m);
    }
  }

  SystemClock clock;
  std::vector<ProbeResult> results(selected.size());
  {
    EventLoop loop;
    CurlBridge curl(loop, clock);
    // As the node would probe: from its [cluster] source_address.
    ProbeContext ctx{loop, curl, clock,
                     config.cluster ? config.cluster->source_address : SourceAddress{}};
    std::vector<std::unique_ptr<Probe>> probes;
    probes.reserve(selected.size());
    for (const auto* m : selected) probes.push_back(make_probe(*m, ctx, config.redactor));

    // Same cap as the daemon, so a large config does not open thousands of sockets at once.
    std::deque<size_t> queue;
    for (size_t i = 0; i < selected.size(); ++i) queue.push_back(i);
    size_t running = 0;
    std::function<void()> pump = [&] {
      while (!queue.empty() && running < config.scheduler.max_in_flight) {
        const size_t i = queue.front();
        queue.pop_front();
        ++running;
        const bool started = probes[i]->start([&, i](ProbeResult r) {
          results[i] = std::move(r);
          --running;
          pump();
        });
        if (!started) {
          --running;
          results[i].cause = "the probe could not be started";
        }
      }
    };
    pump();
    loop.run();
  }

  if (json) {
    print_json(selected, results);
  } else {
    print_table(selected, results);
  }
  const bool all_up = std::all_of(results.begin(), results.end(),
                                  [](const ProbeResult& r) { return r.outcome == Outcome::kUp; });
  return all_up ? 0 : 1;
}

}  // namespace lookout
