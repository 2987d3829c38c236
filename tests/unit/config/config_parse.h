// What the config tests share: a parse with a made-up environment, and the errors as the CLI
// prints them.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "config/config.h"
#include "config/kinds/cert_spec.h"
#include "config/kinds/dns_spec.h"
#include "config/kinds/http_spec.h"
#include "config/kinds/journey_spec.h"

namespace lookout::test {

inline EnvLookup fake_env(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

inline std::vector<std::string> messages(const LoadResult& r) {
  std::vector<std::string> out;
  for (const auto& e : r.errors) out.push_back(e.str());
  return out;
}

}  // namespace lookout::test
