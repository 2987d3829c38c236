// `lookout accept NAME`: asks the running daemon (server.listen, with the admin token) to take
// a dns monitor's current answers as its baseline.
#include <fmt/format.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "config/config.h"
#include "config/kinds/dns_spec.h"
#include "daemon/admin_call.h"
#include "daemon/cli.h"

namespace lookout {

int cmd_accept(const std::string& config_path, const std::string& monitor) {
  const LoadResult loaded = load_config(config_path);
  print_config_errors(loaded);
  if (!loaded.ok()) return 2;
  const Config& config = *loaded.config;
  const MonitorConfig* m = config.find(monitor);
  if (m == nullptr || m->spec_if<DnsSpec>() == nullptr) {
    std::cerr << fmt::format("{}: no dns monitor named \"{}\"\n", config_path, monitor);
    return 1;
  }
  const AdminAnswer a =
      call_daemon(config, config_path, "POST", fmt::format("/api/v1/monitors/{}/accept", monitor));
  if (!a.error.empty()) {
    std::cerr << a.error << "\n";
    return 1;
  }
  const nlohmann::json& j = a.json;
  if (a.status != 200) {
    std::cerr << fmt::format("{}: not accepted: {}\n", monitor, a.refusal());
    return 1;
  }
  std::cout << fmt::format("{}: accepted {} answers as the new baseline\n", monitor,
                           j.is_object() && j.contains("answers") ? j["answers"].size() : 0);
  if (j.is_object() && j.contains("answers")) {
    for (const auto& answer : j["answers"]) std::cout << "  " << answer.get<std::string>() << "\n";
  }
  return 0;
}

}  // namespace lookout
