// The dns kind's keys.
#include "config/kinds/dns_spec.h"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "config/kinds/registry.h"

namespace lookout {

const char* to_string(MailCheck c) {
  switch (c) {
    case MailCheck::kNone:
      return "none";
    case MailCheck::kSpf:
      return "spf";
    case MailCheck::kDmarc:
      return "dmarc";
    case MailCheck::kDkim:
      return "dkim";
  }
  return "none";
}

bool parse_resolver(const std::string& text, std::string& out) {
  std::string host = text;
  std::string port = "53";
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string::npos) return false;
    host = text.substr(1, close - 1);
    if (close + 1 < text.size()) {
      if (text[close + 1] != ':') return false;
      port = text.substr(close + 2);
    }
  } else if (std::count(text.begin(), text.end(), ':') == 1) {
    host = text.substr(0, text.find(':'));
    port = text.substr(text.find(':') + 1);
  }
  if (port.empty() || port.size() > 5 || !std::all_of(port.begin(), port.end(), ::isdigit) ||
      std::stoi(port) < 1 || std::stoi(port) > 65535) {
    return false;
  }
  unsigned char buf[16];
  if (inet_pton(AF_INET, host.c_str(), buf) == 1) {
    out = fmt::format("{}:{}", host, port);
    return true;
  }
  if (inet_pton(AF_INET6, host.c_str(), buf) == 1) {
    out = fmt::format("[{}]:{}", host, port);
    return true;
  }
  return false;
}

namespace config_detail {
namespace {

const std::set<std::string>& dns_expect_keys() {
  static const std::set<std::string> keys{"answers", "contains"};
  return keys;
}

const std::set<std::string>& dns_monitor_keys() {
  static const std::set<std::string> keys{"query",     "record", "resolver", "expect",
                                          "on_change", "check",  "selector"};
  return keys;
}

std::shared_ptr<const KindSpec> parse_dns(Parser& p, const Layers& layers, const toml::table& where,
                                          MonitorConfig& m) {
  auto spec = std::make_shared<DnsSpec>();
  auto& d = spec->dns;
  static const std::map<std::string, uint16_t> kTypes{{"A", 1},     {"NS", 2},   {"CNAME", 5},
                                                      {"SOA", 6},   {"MX", 15},  {"TXT", 16},
                                                      {"AAAA", 28}, {"SRV", 33}, {"CAA", 257}};
  std::string domain;
  if (const auto* n = layers.get("query")) {
    if (auto v = p.text(*n, "query")) {
      domain = v->reveal();
      while (!domain.empty() && domain.back() == '.') domain.pop_back();
      std::transform(domain.begin(), domain.end(), domain.begin(),
                     [](unsigned char ch) { return std::tolower(ch); });
      if (v->is_secret()) p.also_secret(domain);
      if (domain.empty() || domain.size() > 253 ||
          domain.find_first_of(" /:@") != std::string::npos) {
        p.error(n->source(), fmt::format("query \"{}\" is not a DNS name", v->shown()));
      }
    }
  } else {
    p.error(where.source(),
            fmt::format("dns monitor \"{}\" has no query (the name to look up)", m.name));
  }
  if (const auto* n = layers.get("check")) {
    if (auto v = p.one_of<MailCheck>(
            *n, "check",
            {{"spf", MailCheck::kSpf}, {"dmarc", MailCheck::kDmarc}, {"dkim", MailCheck::kDkim}})) {
      d.check = *v;
    }
  }
  const toml::node* selector = layers.get("selector");
  std::string sel;
  if (selector != nullptr) {
    if (auto v = p.text(*selector, "selector")) sel = v->reveal();
    if (d.check != MailCheck::kDkim)
      p.error(selector->source(), "selector is used only with check = \"dkim\"");
  }
  d.query = domain;
  if (d.check == MailCheck::kDmarc) d.query = "_dmarc." + domain;
  if (d.check == MailCheck::kDkim) {
    if (sel.empty()) {
      p.error(
          where.source(),
          fmt::format("dns monitor \"{}\" with check = \"dkim\" needs selector = \"...\"", m.name));
    }
    d.query = fmt::format("{}._domainkey.{}", sel, domain);
  }
  if (d.check != MailCheck::kNone) {
    d.record = 16;
    d.record_name = "TXT";
  }
  if (const auto* n = layers.get("record")) {
    if (auto v = p.plain_text(*n, "record")) {
      std::string up = *v;
      std::transform(up.begin(), up.end(), up.begin(),
                     [](unsigned char ch) { return std::toupper(ch); });
      const auto it = kTypes.find(up);
      if (it == kTypes.end()) {
        p.error(n->source(),
                fmt::format(
                    "record \"{}\" is not one of A, AAAA, CNAME, MX, NS, TXT, SOA, CAA, SRV", *v));
      } else if (d.check != MailCheck::kNone && up != "TXT") {
        p.error(n->source(),
                fmt::format("check = \"{}\" reads TXT records; remove record or set it to \"TXT\"",
                            to_string(d.check)));
      } else {
        d.record = it->second;
        d.record_name = up;
      }
    }
  }
  if (const auto* n = layers.get("resolver")) {
    if (auto v = p.text(*n, "resolver")) {
      if (!parse_resolver(v->reveal(), d.resolver)) {
        p.error(n->source(),
                fmt::format("resolver \"{}\" is not IP, IP:port or [IPv6]:port", v->shown()));
      }
    }
  }
  m.host = d.resolver.empty() ? "dns:system" : "dns:" + d.resolver;
  if (const auto* n = layers.get("on_change")) {
    if (auto v = p.one_of<bool>(*n, "on_change", {{"alert", true}, {"ignore", false}}))
      d.alert_on_change = *v;
  }
  check_sub_keys(p, layers.monitor, "expect", dns_expect_keys());
  if (const auto* n = layers.get("expect.answers")) {
    if (auto v = p.string_list(*n, "expect.answers")) d.expect_answers = std::move(*v);
  }
  if (const auto* n = layers.get("expect.contains")) {
    if (auto v = p.text(*n, "expect.contains")) d.expect_contains = std::move(*v);
  }
  return spec;
}

}  // namespace

extern const KindParser kDnsKind{"dns", dns_monitor_keys, dns_expect_keys, parse_dns};

}  // namespace config_detail
std::string dns_question(const DnsSpec& d) {
  return fmt::format("{} {}", d.dns.record_name, d.dns.query);
}

const DnsSpec* baseline_spec(const MonitorConfig& m) {
  const auto* dns = m.spec_if<DnsSpec>();
  return dns != nullptr && dns->dns.alert_on_change ? dns : nullptr;
}

}  // namespace lookout
