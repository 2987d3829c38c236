// The journey kind's keys: the options its steps share, and each [[monitor.step]].
#include "config/kinds/journey_spec.h"

#include <re2/re2.h>

#include <algorithm>
#include <map>

#include "config/kinds/registry.h"
#include "core/units.h"

namespace lookout::config_detail {
namespace {

const std::set<std::string>& journey_monitor_keys() {
  static const std::set<std::string> keys{"step",     "ca_file",       "insecure",
                                          "max_body", "max_redirects", "follow_redirects",
                                          "slo",      "tls_resume"};
  return keys;
}

const std::set<std::string>& step_keys() {
  static const std::set<std::string> keys{"name",   "url",     "method",        "headers",
                                          "body",   "form",    "json",          "timeout",
                                          "expect", "extract", "max_redirects", "follow_redirects"};
  return keys;
}

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
      e.regex.re = std::move(re);
    }
    known.insert(e.name);
    s.extracts.push_back(std::move(e));
  }
}

void parse_step(Parser& p, const toml::table& t, const MonitorConfig& m, const HttpRequest& shared,
                int number, std::set<std::string>& known, JourneyStep& s, std::string& host) {
  p.check_keys(t, fmt::format("step {}", number), step_keys());
  if (const auto* n = t.get("name")) {
    if (auto v = p.text(*n, "step name")) s.name = v->reveal();
  }
  const Layers layers{&t, nullptr};
  s.request = shared;  // ca_file, insecure, max_body and redirects come from the monitor
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

std::shared_ptr<const KindSpec> parse_journey(Parser& p, const Layers& layers,
                                              const toml::table& where, MonitorConfig& m) {
  auto spec = std::make_shared<JourneySpec>();
  // The options every step shares.
  parse_http_request_options(p, layers, m.name, spec->http);
  parse_slo(p, layers, m);
  const auto* n = where.get("step");
  const auto* arr = n != nullptr ? n->as_array() : nullptr;
  if (arr == nullptr || !arr->is_array_of_tables() || arr->empty()) {
    p.error((n != nullptr ? n : &static_cast<const toml::node&>(where))->source(),
            fmt::format("journey \"{}\" needs [[monitor.step]] tables, one per request", m.name));
    return spec;
  }
  std::set<std::string> known;
  int number = 0;
  for (const auto& item : *arr) {
    JourneyStep s;
    std::string host;
    parse_step(p, *item.as_table(), m, spec->http, ++number, known, s, host);
    if (m.host.empty()) m.host = host;
    spec->steps.push_back(std::move(s));
  }
  return spec;
}

}  // namespace

extern const KindParser kJourneyKind{"journey", journey_monitor_keys, http_expect_keys,
                                     parse_journey};

}  // namespace lookout::config_detail
