// `lookout alert-test`: a clearly marked test notification through every channel of a route
// (all routes when none), sent by the same channel code the daemon uses, with a report per
// delivery. Nothing is stored: it proves the path, it is not an incident.
#include <fmt/format.h>

#include <iostream>
#include <set>

#include "alerting/channels/registry.h"
#include "config/config.h"
#include "core/curl_bridge.h"
#include "core/event_loop.h"
#include "core/random.h"
#include "daemon/cli.h"

namespace lookout {

int cmd_alert_test(const std::string& config_path, const std::string& route) {
  const LoadResult loaded = load_config(config_path);
  print_config_errors(loaded);
  if (!loaded.ok()) return 2;
  const Config& config = *loaded.config;
  std::vector<std::string> names;
  bool found = route.empty();
  for (const auto& r : config.routes) {
    if (!route.empty() && r.name != route) continue;
    found = true;
    auto add = [&names](const std::vector<std::string>& list) {
      for (const auto& n : list) {
        if (std::find(names.begin(), names.end(), n) == names.end()) names.push_back(n);
      }
    };
    add(r.notify);
    for (const auto& e : r.escalate) add(e.notify);
  }
  if (!found) {
    std::cerr << fmt::format("{}: no route named \"{}\"\n", config_path, route);
    return 2;
  }
  if (names.empty()) {
    std::cerr << fmt::format("{}: no route has a channel to test\n", config_path);
    return 1;
  }

  SystemClock clock;
  struct Line {
    std::string channel, recipient;
    DeliveryOutcome outcome;
  };
  std::vector<Line> lines;
  {
    EventLoop loop;
    CurlBridge curl(loop, clock);
    std::vector<std::unique_ptr<Channel>> channels;
    for (const auto& name : names) {
      const ChannelConfig* c = config.channel(name);
      channels.push_back(make_channel(*c, curl, clock, config.server.public_url, config.redactor));
      for (const auto& to : row_recipients(*c)) {
        const size_t i = lines.size();
        lines.push_back({name, to, {DeliveryOutcome::Kind::kRetry, "no answer"}});
        OutboxRow row{"evt_" + random_hex(16), 0, "test", name, "", to, clock.wall(), ""};
        channels.back()->send({row},
                              [&lines, i](DeliveryOutcome o) { lines[i].outcome = std::move(o); });
      }
    }
    loop.run();
  }
  bool all = true;
  for (const auto& l : lines) {
    const bool ok = l.outcome.kind == DeliveryOutcome::Kind::kDelivered;
    all = all && ok;
    std::cout << fmt::format("{:<20} {:<16} {:<10} {}\n", l.channel,
                             l.recipient.empty() ? "-" : l.recipient, ok ? "delivered" : "FAILED",
                             l.outcome.detail);
  }
  return all ? 0 : 1;
}

}  // namespace lookout
