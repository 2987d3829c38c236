// `lookout check`, and the config errors every command that loads a config prints.
#include <fmt/format.h>

#include <iostream>

#include "config/config.h"
#include "daemon/cli.h"

namespace lookout {

void print_config_errors(const LoadResult& r) {
  for (const auto& e : r.errors) std::cerr << e.str() << "\n";
}

int cmd_check(const std::string& config_path) {
  const LoadResult r = load_config(config_path);
  print_config_errors(r);
  if (!r.ok()) return 2;
  std::cout << fmt::format("{}: ok, {} monitors\n", config_path, r.config->monitors.size());
  return 0;
}

}  // namespace lookout
