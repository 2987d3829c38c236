// The monitor kinds the config knows: each kind's file (config/kinds/NAME_spec.cc) defines
// one KindParser, and registry.cc lists them. Internal to config/.
#pragma once

#include <memory>
#include <set>
#include <span>
#include <string>
#include <string_view>

#include "config/config_parser.h"

namespace lookout::config_detail {

struct KindParser {
  std::string_view name;  // type = "NAME"
  // The kind's own keys, beside those every monitor takes, and those of its expect table
  // (empty when it has none).
  const std::set<std::string>& (*keys)();
  const std::set<std::string>& (*expect_keys)();
  // Reads the kind's keys of one monitor (errors go to the parser) and returns its spec. May
  // also set what the kind decides of the common fields: `host`, `slo`.
  std::shared_ptr<const KindSpec> (*parse)(Parser& p, const Layers& layers,
                                           const toml::table& where, MonitorConfig& m);
};

std::span<const KindParser* const> kinds();
const KindParser* find_kind(std::string_view name);
// Every kind's name in the registry's order ("http, ..., exec or dnssec"), for messages.
std::string kind_names();

}  // namespace lookout::config_detail
