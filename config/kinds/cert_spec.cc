// The cert kind's keys.
#include "config/kinds/cert_spec.h"

#include <algorithm>
#include <filesystem>

#include "config/kinds/registry.h"
#include "core/units.h"

namespace lookout::config_detail {
namespace {

const std::set<std::string>& cert_monitor_keys() {
  static const std::set<std::string> keys{"host",        "port",        "ca_file",
                                          "warn_within", "fail_within", "starttls"};
  return keys;
}

std::shared_ptr<const KindSpec> parse_cert(Parser& p, const Layers& layers,
                                           const toml::table& where, MonitorConfig& m) {
  auto spec = std::make_shared<CertSpec>();
  auto& c = spec->cert;
  if (const auto* n = layers.get("host")) {
    if (auto v = p.text(*n, "host")) {
      c.host = v->reveal();
      std::transform(c.host.begin(), c.host.end(), c.host.begin(),
                     [](unsigned char ch) { return std::tolower(ch); });
      if (v->is_secret()) p.also_secret(c.host);
      if (c.host.empty() || c.host.find_first_of("/: @") != std::string::npos) {
        p.error(n->source(),
                fmt::format(
                    "host \"{}\" must be a host name or an IPv4 address, without scheme or port",
                    v->shown()));
      }
    }
  } else {
    p.error(where.source(), fmt::format("cert monitor \"{}\" has no host", m.name));
  }
  if (const auto* n = layers.get("starttls")) {
    if (auto v = p.plain_text(*n, "starttls")) {
      if (*v == "smtp") {
        c.starttls_smtp = true;
        c.port = 25;
      } else if (*v != "off") {
        p.error(n->source(), fmt::format("starttls \"{}\" is not \"smtp\" or \"off\"", *v));
      }
    }
  }
  if (const auto* n = layers.get("port")) {
    if (auto v = p.integer(*n, "port", 1, 65535)) c.port = static_cast<uint16_t>(*v);
  }
  m.host = fmt::format("{}:{}", c.host, c.port);
  if (const auto* n = layers.get("ca_file")) {
    if (auto v = p.text(*n, "ca_file")) {
      std::error_code ec;
      if (!std::filesystem::is_regular_file(v->reveal(), ec)) {
        p.error(n->source(), fmt::format("ca_file {} is not a readable file", v->shown()));
      }
      spec->ca_file = v->reveal();
    }
  }
  const toml::node* warn = layers.get("warn_within");
  if (warn != nullptr) {
    if (auto v = p.duration(*warn, "warn_within")) c.warn_within = *v;
  }
  const toml::node* fail = layers.get("fail_within");
  if (fail != nullptr) {
    if (auto v = p.duration(*fail, "fail_within")) c.fail_within = *v;
  }
  if (c.fail_within > c.warn_within) {
    p.error((fail != nullptr   ? fail
             : warn != nullptr ? warn
                               : &static_cast<const toml::node&>(where))
                ->source(),
            fmt::format(
                "fail_within {} is longer than warn_within {}; the warning would never come first",
                format_duration(c.fail_within), format_duration(c.warn_within)));
  }
  return spec;
}

const std::set<std::string>& cert_no_expect_keys() {
  static const std::set<std::string> keys;
  return keys;
}

}  // namespace

extern const KindParser kCertKind{"cert", cert_monitor_keys, cert_no_expect_keys, parse_cert};

}  // namespace lookout::config_detail
