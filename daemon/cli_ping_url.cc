// `lookout ping-url NAME`: the URL a heartbeat's job pings, for its crontab or timer. The token
// is the config's, or the one the daemon derives from the key in its storage (made here when
// the daemon has not run yet, and then used by it); in cluster mode from the key the nodes
// share in PostgreSQL.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <iostream>

#include "config/config.h"
#include "config/kinds/heartbeat_spec.h"
#include "daemon/cli.h"
#include "probes/heartbeat.h"
#include "store/storage.h"

namespace lookout {

int cmd_ping_url(const std::string& config_path, const std::string& monitor) {
  const LoadResult loaded = load_config(config_path);
  print_config_errors(loaded);
  if (!loaded.ok()) return 2;
  const Config& config = *loaded.config;
  const MonitorConfig* m = config.find(monitor);
  const auto* spec = m != nullptr ? m->spec_if<HeartbeatSpec>() : nullptr;
  if (spec == nullptr) {
    std::cerr << fmt::format("{}: no heartbeat monitor named \"{}\"\n", config_path, monitor);
    return 1;
  }
  std::string token;
  if (spec->token) {
    token = spec->token->reveal();
  } else if (config.cluster) {
    // Standard output is the URL alone, for a crontab line to take whole: the connection's log
    // stays quiet, and what fails is said on standard error.
    spdlog::set_level(spdlog::level::off);
    std::string key;
    if (const int code = cluster_heartbeat_key(config, config_path, key); code != 0) return code;
    token = derived_ping_token(key, monitor);
  } else {
    SystemClock clock;
    std::string error;
    const auto store = open_storage(config.storage.path, clock, error);
    if (!store) {
      std::cerr << error << "\n";
      return 1;
    }
    token = derived_ping_token(store->kept_secret("heartbeat_key"), monitor);
  }
  if (config.server.public_url.empty()) {
    std::cerr << fmt::format(
        "{}: server.public_url is not set; the path below goes after lookout's address\n",
        config_path);
  }
  std::cout << config.server.public_url << "/ping/" << token << "\n";
  return 0;
}

}  // namespace lookout
