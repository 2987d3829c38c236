// The http and latency kinds' keys.
#include "config/kinds/http_spec.h"

#include "config/kinds/registry.h"

namespace lookout::config_detail {
namespace {

const std::set<std::string>& http_monitor_keys() {
  static const std::set<std::string> keys{
      "url",           "method",   "headers", "body", "ca_file",   "insecure", "follow_redirects",
      "max_redirects", "max_body", "expect",  "slo",  "tls_resume"};
  return keys;
}

const std::set<std::string>& latency_monitor_keys() {
  static const std::set<std::string> keys = [] {
    std::set<std::string> k = http_monitor_keys();
    k.insert({"samples", "reuse"});
    return k;
  }();
  return keys;
}

std::shared_ptr<HttpSpec> parse_http(Parser& p, const Layers& layers, const toml::table& where,
                                     MonitorConfig& m) {
  auto spec = std::make_shared<HttpSpec>();
  parse_http_request(p, layers, where, fmt::format("{} monitor \"{}\"", m.type, m.name), m.name,
                     spec->http, m.host);
  check_sub_keys(p, layers.monitor, "expect", http_expect_keys());
  parse_http_expect(p, layers, spec->expect);
  parse_slo(p, layers, m);
  return spec;
}

std::shared_ptr<const KindSpec> parse_latency(Parser& p, const Layers& layers,
                                              const toml::table& where, MonitorConfig& m) {
  auto spec = parse_http(p, layers, where, m);
  if (const auto* n = layers.get("samples")) {
    if (auto v = p.integer(*n, "samples", 1, 100)) spec->samples = static_cast<int>(*v);
  }
  if (const auto* n = layers.get("reuse")) {
    if (auto v = p.boolean(*n, "reuse")) spec->reuse = *v;
  }
  return spec;
}

std::shared_ptr<const KindSpec> parse_http_kind(Parser& p, const Layers& layers,
                                                const toml::table& where, MonitorConfig& m) {
  return parse_http(p, layers, where, m);
}

}  // namespace

extern const KindParser kHttpKind{"http", http_monitor_keys, http_expect_keys, parse_http_kind};
extern const KindParser kLatencyKind{"latency", latency_monitor_keys, http_expect_keys,
                                     parse_latency};

}  // namespace lookout::config_detail
