// `lookout check`, and the config errors every command that loads a config prints.
#include <fmt/format.h>

#include <iostream>

#include "config/config.h"
#include "config/kinds/ping_spec.h"
#include "daemon/cli.h"
#include "probes/ping_socket.h"

namespace lookout {

void print_config_errors(const LoadResult& r) {
  for (const auto& e : r.errors) std::cerr << e.str() << "\n";
}

std::vector<ConfigError> start_errors(const Config& config) {
  std::vector<ConfigError> errors;
  for (const auto& m : config.monitors) {
    const auto* ping = m.spec_if<PingSpec>();
    if (ping == nullptr) continue;
    // The same for every ping monitor: one message, at the first.
    const PingPermission& permission = ping_permission();
    if (!permission.ok()) {
      errors.push_back({config.file, ping->type_at.line, ping->type_at.col,
                        fmt::format("ping monitor \"{}\": {}", m.name, permission.problem)});
    }
    break;
  }
  return errors;
}

int cmd_check(const std::string& config_path) {
  const LoadResult r = load_config(config_path);
  print_config_errors(r);
  if (!r.ok()) return 2;
  if (const auto errors = start_errors(*r.config); !errors.empty()) {
    for (const auto& e : errors) std::cerr << e.str() << "\n";
    return 2;
  }
  std::cout << fmt::format("{}: ok, {} monitors\n", config_path, r.config->monitors.size());
  return 0;
}

}  // namespace lookout
