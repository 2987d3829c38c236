// The keys every monitor kind shares (slo.*), the checks of sub-tables, and the key sets of
// each kind through the registry.
#include <fmt/format.h>

#include "config/config_parser.h"
#include "config/kinds/registry.h"

namespace lookout::config_detail {

const std::set<std::string>& slo_keys() {
  static const std::set<std::string> keys{"p95", "window", "min_samples"};
  return keys;
}

void check_sub_keys(Parser& p, const toml::table* t, const std::string& prefix,
                    const std::set<std::string>& keys) {
  if (t == nullptr) return;
  if (const auto* e = t->get(prefix)) {
    if (const auto* et = e->as_table()) {
      p.check_keys(*et, prefix, keys);
    } else {
      p.error(e->source(),
              fmt::format("{} must be a table, as in {}.{} = ...", prefix, prefix, *keys.begin()));
    }
  }
}

namespace {

std::set<std::string> all_expect_keys() {
  std::set<std::string> keys;
  for (const KindParser* k : kinds()) keys.insert(k->expect_keys().begin(), k->expect_keys().end());
  return keys;
}

}  // namespace

std::set<std::string> monitor_keys(const KindParser& kind) {
  std::set<std::string> keys = common_monitor_keys();
  keys.insert(alerting_monitor_keys().begin(), alerting_monitor_keys().end());
  keys.insert(kind.keys().begin(), kind.keys().end());
  return keys;
}

std::set<std::string> any_monitor_keys() {
  std::set<std::string> keys;
  for (const KindParser* k : kinds()) {
    const auto kk = monitor_keys(*k);
    keys.insert(kk.begin(), kk.end());
  }
  return keys;
}

void check_defaults_sub_keys(Parser& p, const toml::table& defaults) {
  check_sub_keys(p, &defaults, "expect", all_expect_keys());
  check_sub_keys(p, &defaults, "slo", slo_keys());
}

void parse_slo(Parser& p, const Layers& layers, MonitorConfig& m) {
  check_sub_keys(p, layers.monitor, "slo", slo_keys());
  if (const auto* n = layers.get("slo.p95")) {
    if (auto v = p.duration(*n, "slo.p95")) {
      if (v->count() <= 0) {
        p.error(n->source(), "slo.p95 must be more than 0ms");
      } else {
        m.slo.p95 = *v;
      }
    }
  }
  if (const auto* n = layers.get("slo.window")) {
    if (auto v = p.duration(*n, "slo.window")) {
      if (*v < Duration{10'000} || *v > Duration{30LL * 86'400'000}) {
        p.error(n->source(), "slo.window must be between 10s and 30d");
      } else {
        m.slo.window = *v;
      }
    }
  }
  if (const auto* n = layers.get("slo.min_samples")) {
    if (auto v = p.integer(*n, "slo.min_samples", 1, 1'000'000))
      m.slo.min_samples = static_cast<int>(*v);
  }
}

}  // namespace lookout::config_detail
