// The domain kind's keys.
#include "config/kinds/domain_spec.h"

#include <arpa/inet.h>

#include <algorithm>

#include "config/kinds/registry.h"
#include "core/units.h"

namespace lookout {

bool parse_whois_server(const std::string& text, std::string& host, uint16_t& port) {
  std::string h = text;
  std::string p = "43";
  unsigned char buf[16];
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string::npos) return false;
    h = text.substr(1, close - 1);
    if (close + 1 < text.size()) {
      if (text[close + 1] != ':') return false;
      p = text.substr(close + 2);
    }
    if (inet_pton(AF_INET6, h.c_str(), buf) != 1) return false;
  } else if (std::count(text.begin(), text.end(), ':') == 1) {
    h = text.substr(0, text.find(':'));
    p = text.substr(text.find(':') + 1);
  } else if (std::count(text.begin(), text.end(), ':') > 1) {
    if (inet_pton(AF_INET6, h.c_str(), buf) != 1) return false;
  }
  if (h.empty() || h.find_first_of("/@ \t[]") != std::string::npos) return false;
  if (p.empty() || p.size() > 5 || !std::all_of(p.begin(), p.end(), ::isdigit)) return false;
  const int n = std::stoi(p);
  if (n < 1 || n > 65535) return false;
  host = h;
  port = static_cast<uint16_t>(n);
  return true;
}

namespace config_detail {
namespace {

const std::set<std::string>& domain_monitor_keys() {
  static const std::set<std::string> keys{"domain", "warn_within", "fail_within", "rdap_url",
                                          "whois"};
  return keys;
}

const std::set<std::string>& domain_expect_keys() {
  static const std::set<std::string> keys;
  return keys;
}

// A registrable name as registries know it: ASCII labels (an internationalised name in its
// xn-- form), at least two of them.
bool domain_name_ok(const std::string& d) {
  if (d.empty() || d.size() > 253 || d.find('.') == std::string::npos) return false;
  size_t label = 0;
  for (size_t i = 0; i <= d.size(); ++i) {
    if (i == d.size() || d[i] == '.') {
      if (label == 0 || label > 63) return false;
      label = 0;
      continue;
    }
    const char c = d[i];
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
    ++label;
  }
  return true;
}

std::shared_ptr<const KindSpec> parse_domain(Parser& p, const Layers& layers,
                                             const toml::table& where, MonitorConfig& m) {
  auto spec = std::make_shared<DomainSpec>();
  if (const auto* n = layers.get("domain")) {
    if (auto v = p.plain_text(*n, "domain")) {
      std::string d = *v;
      std::transform(d.begin(), d.end(), d.begin(),
                     [](unsigned char ch) { return std::tolower(ch); });
      if (!d.empty() && d.back() == '.') d.pop_back();
      if (!domain_name_ok(d)) {
        p.error(n->source(),
                fmt::format("domain \"{}\" is not a registered domain name like \"acme.example\" "
                            "(no scheme, port or path; an internationalised name in its xn-- "
                            "form)",
                            *v));
      }
      spec->domain = std::move(d);
    }
  } else {
    p.error(where.source(), fmt::format("domain monitor \"{}\" has no domain", m.name));
  }

  // Only the monitor's own interval counts: a [defaults] interval is meant for the other kinds,
  // and registries answer a domain asked every minute with a rate limit.
  if (const auto* n = layers.monitor->get("interval")) {
    // The common keys' parser has read it, and named a value that is no duration.
    const auto* text = n->as_string();
    const DurationParse d = text != nullptr ? parse_duration(text->get()) : DurationParse{};
    if (d.value && *d.value < kDomainMinInterval) {
      p.error(n->source(),
              fmt::format("interval {} of domain monitor \"{}\" is below the minimum 1h: "
                          "registries rate-limit RDAP and WHOIS",
                          format_duration(*d.value), m.name));
    }
  } else {
    m.interval = kDomainDefaultInterval;
  }

  const toml::node* warn = layers.get("warn_within");
  if (warn != nullptr) {
    if (auto v = p.duration(*warn, "warn_within")) spec->warn_within = *v;
  }
  const toml::node* fail = layers.get("fail_within");
  if (fail != nullptr) {
    if (auto v = p.duration(*fail, "fail_within")) spec->fail_within = *v;
  }
  if (spec->fail_within > spec->warn_within) {
    p.error((fail != nullptr   ? fail
             : warn != nullptr ? warn
                               : &static_cast<const toml::node&>(where))
                ->source(),
            fmt::format(
                "fail_within {} is longer than warn_within {}; the warning would never come first",
                format_duration(spec->fail_within), format_duration(spec->warn_within)));
  }

  std::string registry;  // for the per-host cap: the RDAP server, or the TLD's registry
  if (const auto* n = layers.get("rdap_url")) {
    if (auto v = p.text(*n, "rdap_url")) {
      p.check_url(*n, "rdap_url", *v, {"https://", "http://"});
      const std::string& url = v->reveal();
      const auto start = url.find("://");
      if (v->is_secret()) {
        registry = "rdap_url of " + m.name;
      } else if (start != std::string::npos) {
        registry = url.substr(start + 3, url.find('/', start + 3) - (start + 3));
      }
      spec->rdap_url = std::move(*v);
    }
  }
  if (const auto* n = layers.get("whois")) {
    if (auto v = p.plain_text(*n, "whois")) {
      if (!parse_whois_server(*v, spec->whois_host, spec->whois_port)) {
        p.error(n->source(), fmt::format("whois \"{}\" is not host, host:port or [IPv6]:port", *v));
      }
    }
  }
  if (registry.empty() && !spec->domain.empty()) {
    registry = "registry of ." + spec->domain.substr(spec->domain.rfind('.') + 1);
  }
  m.host = registry;
  return spec;
}

}  // namespace

extern const KindParser kDomainKind{"domain", domain_monitor_keys, domain_expect_keys,
                                    parse_domain};

}  // namespace config_detail
}  // namespace lookout
