// The keys of the cert, dns, latency and journey kinds, and slo.* (http, latency, journey).
#include <arpa/inet.h>
#include <fmt/format.h>
#include <re2/re2.h>

#include <algorithm>
#include <filesystem>
#include <map>

#include "config/config_parser.h"
#include "core/units.h"

namespace lookout::config_detail {

const std::set<std::string>& slo_keys() {
  static const std::set<std::string> keys{"p95", "window", "min_samples"};
  return keys;
}

const std::set<std::string>& cert_monitor_keys() {
  static const std::set<std::string> keys{"host",        "port",        "ca_file",
                                          "warn_within", "fail_within", "starttls"};
  return keys;
}

const std::set<std::string>& dns_monitor_keys() {
  static const std::set<std::string> keys{"query",     "record", "resolver", "expect",
                                          "on_change", "check",  "selector"};
  return keys;
}

const std::set<std::string>& dns_expect_keys() {
  static const std::set<std::string> keys{"answers", "contains"};
  return keys;
}

const std::set<std::string>& journey_monitor_keys() {
  static const std::set<std::string> keys{"step",     "ca_file",       "insecure",
                                          "max_body", "max_redirects", "follow_redirects",
                                          "slo",      "tls_resume"};
  return keys;
}

namespace {

const std::set<std::string>& step_keys() {
  static const std::set<std::string> keys{"name",   "url",     "method",        "headers",
                                          "body",   "form",    "json",          "timeout",
                                          "expect", "extract", "max_redirects", "follow_redirects"};
  return keys;
}

// Checks the keys of a sub-table (expect, slo) of a monitor or of [defaults]. The monitor's
// own are checked against its kind; [defaults] once, against every kind (a default a kind does
// not use is ignored).
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

std::set<std::string> all_expect_keys() {
  std::set<std::string> k = http_expect_keys();
  k.insert(dns_expect_keys().begin(), dns_expect_keys().end());
  return k;
}

// Every {{name}} in `text` must be extracted by an earlier step.
void check_templates(Parser& p, const toml::node& where, std::string_view text,
                     const std::set<std::string>& known, int step) {
  static const RE2 kTemplate(R"(\{\{([A-Za-z0-9_]+)\}\})");
  re2::StringPiece in(text.data(), text.size());
  std::string name;
  while (RE2::FindAndConsume(&in, kTemplate, &name)) {
    if (known.count(name) == 0) {
      p.error(where.source(),
              fmt::format("step {} uses {{{{{}}}}}, which no earlier step extracts", step, name));
    }
  }
}

// A TOML table or array as a JSON body; string values may hold secrets and {{name}}.
nlohmann::json json_body(Parser& p, const toml::node& n, bool& ok, bool& secret,
                         std::vector<const toml::node*>& strings) {
  if (const auto* t = n.as_table()) {
    nlohmann::json j = nlohmann::json::object();
    for (const auto& [k, v] : *t) j[std::string(k.str())] = json_body(p, v, ok, secret, strings);
    return j;
  }
  if (const auto* a = n.as_array()) {
    nlohmann::json j = nlohmann::json::array();
    for (const auto& v : *a) j.push_back(json_body(p, v, ok, secret, strings));
    return j;
  }
  if (n.is_string()) {
    strings.push_back(&n);
    auto v = p.text(n, "json");
    if (!v) {
      ok = false;
      return nullptr;
    }
    secret = secret || v->is_secret();
    return v->reveal();
  }
  return to_json(n);
}

void parse_extracts(Parser& p, const toml::node& n, JourneyStep& s, std::set<std::string>& known) {
  const auto* t = n.as_table();
  if (t == nullptr) {
    p.error(n.source(), "extract must be a table, as in extract.token = { json = \"/token\" }");
    return;
  }
  static const std::map<std::string, Extract::From> kFrom{{"json", Extract::From::kJson},
                                                          {"regex", Extract::From::kRegex},
                                                          {"header", Extract::From::kHeader},
                                                          {"cookie", Extract::From::kCookie}};
  for (const auto& [k, v] : *t) {
    Extract e;
    e.name = std::string(k.str());
    if (e.name.empty() || !std::all_of(e.name.begin(), e.name.end(), [](char c) {
          return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '_';
        })) {
      p.error(k.source(),
              fmt::format("extract name \"{}\" may hold only letters, digits and _", e.name));
      continue;
    }
    const auto* spec = v.as_table();
    if (spec == nullptr || spec->size() != 1) {
      p.error(v.source(),
              fmt::format(
                  "extract.{} must name one source: {{ json = \"/ptr\" }}, {{ regex = \"...\" }}, "
                  "{{ header = \"X-Name\" }} or {{ cookie = \"name\" }}",
                  e.name));
      continue;
    }
    const auto first = spec->begin();
    const toml::key& kind = first->first;
    const toml::node& what = first->second;
    const auto from = kFrom.find(std::string(kind.str()));
    if (from == kFrom.end()) {
      p.error(kind.source(),
              fmt::format("extract.{}: unknown source \"{}\"; use json, regex, header or cookie",
                          e.name, kind.str()));
      continue;
    }
    auto text = p.text(what, fmt::format("extract.{}.{}", e.name, kind.str()));
    if (!text) continue;
    e.from = from->second;
    e.what = text->reveal();
    if (e.from == Extract::From::kJson) {
      try {
        (void)nlohmann::json::json_pointer(e.what);
      } catch (const std::exception&) {
        p.error(what.source(),
                fmt::format("extract.{}: \"{}\" is not a JSON Pointer such as \"/token\"", e.name,
                            text->shown()));
        continue;
      }
    } else if (e.from == Extract::From::kRegex) {
      std::string why;
      auto re = compile_pattern(e.what, why);
      if (!re) {
        // RE2's message quotes the pattern.
        p.error(what.source(),
                fmt::format("extract.{}: not a valid RE2 pattern: {}", e.name,
                            text->is_secret() ? "(the secret does not compile)" : why));
        continue;
      }
      if (re->NumberOfCapturingGroups() < 1) {
        p.error(what.source(),
                fmt::format("extract.{}: the pattern needs a group ( ) around the value to take",
                            e.name));
        continue;
      }
      e.regex = std::move(re);
    }
    known.insert(e.name);
    s.extracts.push_back(std::move(e));
  }
}

void parse_step(Parser& p, const toml::table& t, const MonitorConfig& m, int number,
                std::set<std::string>& known, JourneyStep& s, std::string& host) {
  p.check_keys(t, fmt::format("step {}", number), step_keys());
  if (const auto* n = t.get("name")) {
    if (auto v = p.text(*n, "step name")) s.name = v->reveal();
  }
  const Layers layers{&t, nullptr};
  s.request = m.http;  // ca_file, insecure, max_body and redirects come from the monitor
  s.request.url = Secret();
  s.request.headers.clear();
  s.request.body.reset();
  parse_http_request(p, layers, t, fmt::format("journey \"{}\" step {}", m.name, number), m.name,
                     s.request, host);
  check_sub_keys(p, &t, "expect", http_expect_keys());
  parse_http_expect(p, layers, s.expect);
  if (const auto* n = t.get("timeout")) {
    if (auto v = p.duration(*n, "step timeout")) {
      if (v->count() <= 0 || *v > m.timeout) {
        p.error(
            n->source(),
            fmt::format("step {} timeout must be more than 0s and at most the journey's timeout {}",
                        number, format_duration(m.timeout)));
      } else {
        s.timeout = *v;
      }
    }
  }

  // Templates may use only what earlier steps extract.
  if (const auto* n = t.get("url")) check_templates(p, *n, s.request.url.reveal(), known, number);
  if (const auto* n = t.get("headers"); n != nullptr && n->is_table()) {
    for (const auto& [k, v] : *n->as_table()) {
      if (const auto* str = v.as_string()) check_templates(p, v, str->get(), known, number);
    }
  }
  int bodies = 0;
  if (const auto* n = t.get("body")) {
    ++bodies;
    s.body_kind = JourneyStep::Body::kRaw;
    if (const auto* str = n->as_string()) check_templates(p, *n, str->get(), known, number);
  }
  if (const auto* n = t.get("form")) {
    ++bodies;
    s.body_kind = JourneyStep::Body::kForm;
    if (const auto* ft = n->as_table()) {
      for (const auto& [k, v] : *ft) {
        if (auto value = p.named_value(v, k.str(), fmt::format("form.{}", k.str()))) {
          check_templates(p, v, value->reveal(), known, number);
          s.form.emplace_back(std::string(k.str()), std::move(*value));
        }
      }
    } else {
      p.error(n->source(),
              "form must be a table of field = value, as in form = { email = \"...\" }");
    }
  }
  if (const auto* n = t.get("json")) {
    ++bodies;
    s.body_kind = JourneyStep::Body::kJson;
    if (n->is_table() || n->is_array()) {
      bool ok = true, secret = false;
      std::vector<const toml::node*> strings;
      nlohmann::json j = json_body(p, *n, ok, secret, strings);
      for (const auto* str : strings)
        check_templates(p, *str, str->as_string()->get(), known, number);
      if (ok) s.request.body = Secret(j.dump(), secret);
    } else {
      p.error(n->source(),
              "json must be a table or an array, as in json = { name = \"{{name}}\" }");
    }
  }
  if (bodies > 1)
    p.error(t.source(), fmt::format("step {} has more than one of body, form and json", number));
  if (s.body_kind != JourneyStep::Body::kNone && !t.get("method")) s.request.method = "POST";
  if (const auto* n = t.get("extract")) parse_extracts(p, *n, s, known);
}

}  // namespace

std::set<std::string> monitor_keys(MonitorType type) {
  std::set<std::string> keys = common_monitor_keys();
  keys.insert(alerting_monitor_keys().begin(), alerting_monitor_keys().end());
  switch (type) {
    case MonitorType::kHttp:
      keys.insert(http_monitor_keys().begin(), http_monitor_keys().end());
      break;
    case MonitorType::kLatency:
      keys.insert(latency_monitor_keys().begin(), latency_monitor_keys().end());
      break;
    case MonitorType::kCert:
      keys.insert(cert_monitor_keys().begin(), cert_monitor_keys().end());
      break;
    case MonitorType::kDns:
      keys.insert(dns_monitor_keys().begin(), dns_monitor_keys().end());
      break;
    case MonitorType::kJourney:
      keys.insert(journey_monitor_keys().begin(), journey_monitor_keys().end());
      break;
  }
  return keys;
}

std::set<std::string> any_monitor_keys() {
  std::set<std::string> keys;
  for (auto t : {MonitorType::kHttp, MonitorType::kLatency, MonitorType::kCert, MonitorType::kDns,
                 MonitorType::kJourney}) {
    const auto k = monitor_keys(t);
    keys.insert(k.begin(), k.end());
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

void parse_http_monitor(Parser& p, const Layers& layers, const toml::table& where,
                        MonitorConfig& m) {
  parse_http_request(p, layers, where, fmt::format("{} monitor \"{}\"", to_string(m.type), m.name),
                     m.name, m.http, m.host);
  check_sub_keys(p, layers.monitor, "expect", http_expect_keys());
  parse_http_expect(p, layers, m.expect);
  parse_slo(p, layers, m);
  if (m.type != MonitorType::kLatency) return;
  if (const auto* n = layers.get("samples")) {
    if (auto v = p.integer(*n, "samples", 1, 100)) m.samples = static_cast<int>(*v);
  }
  if (const auto* n = layers.get("reuse")) {
    if (auto v = p.boolean(*n, "reuse")) m.reuse = *v;
  }
}

void parse_cert_monitor(Parser& p, const Layers& layers, const toml::table& where,
                        MonitorConfig& m) {
  auto& c = m.cert;
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
      m.http.ca_file = v->reveal();
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
}

void parse_dns_monitor(Parser& p, const Layers& layers, const toml::table& where,
                       MonitorConfig& m) {
  auto& d = m.dns;
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
}

void parse_journey_monitor(Parser& p, const Layers& layers, const toml::table& where,
                           MonitorConfig& m) {
  // The options every step shares.
  parse_http_request_options(p, layers, m.name, m.http);
  parse_slo(p, layers, m);
  const auto* n = where.get("step");
  const auto* arr = n != nullptr ? n->as_array() : nullptr;
  if (arr == nullptr || !arr->is_array_of_tables() || arr->empty()) {
    p.error((n != nullptr ? n : &static_cast<const toml::node&>(where))->source(),
            fmt::format("journey \"{}\" needs [[monitor.step]] tables, one per request", m.name));
    return;
  }
  std::set<std::string> known;
  int number = 0;
  for (const auto& item : *arr) {
    JourneyStep s;
    std::string host;
    parse_step(p, *item.as_table(), m, ++number, known, s, host);
    if (m.host.empty()) m.host = host;
    m.steps.push_back(std::move(s));
  }
}

}  // namespace lookout::config_detail

namespace lookout {

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

}  // namespace lookout
