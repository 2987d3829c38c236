// One HTTP request and its expect.* table, as the http, latency and journey kinds write them.
#include "config/http_request.h"

#include <curl/curl.h>
#include <fmt/format.h>
#include <re2/re2.h>

#include <algorithm>
#include <filesystem>

#include "config/config_parser.h"

namespace lookout::config_detail {

const std::set<std::string>& http_expect_keys() {
  static const std::set<std::string> keys{"status", "body_contains", "body_regex",
                                          "json",   "headers",       "max_latency"};
  return keys;
}

namespace {

// "host:port" of an http(s) URL (the scheme's port when it names none), lower case: the key
// of scheduler.max_per_host, so services on other ports of one address do not share a cap.
// "" with `why` set when the URL is unusable.
std::string url_endpoint(const std::string& url, std::string& why) {
  CURLU* u = curl_url();
  std::string host;
  if (curl_url_set(u, CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) {
    why = "is not a valid URL";
  } else {
    char* scheme = nullptr;
    char* h = nullptr;
    char* port = nullptr;
    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
    curl_url_get(u, CURLUPART_HOST, &h, 0);
    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT);
    const std::string s = scheme != nullptr ? scheme : "";
    if (s != "http" && s != "https") {
      why = "must use http:// or https://";
    } else if (h == nullptr || *h == '\0') {
      why = "has no host";
    } else {
      host = fmt::format("{}:{}", h, port != nullptr ? port : "");
      std::transform(host.begin(), host.end(), host.begin(),
                     [](unsigned char c) { return std::tolower(c); });
    }
    curl_free(scheme);
    curl_free(h);
    curl_free(port);
  }
  curl_url_cleanup(u);
  return host;
}

bool has_scheme(const std::string& url) {
  const auto pos = url.find("://");
  return pos != std::string::npos && pos > 0;
}

void parse_status(Parser& p, const toml::node& n, HttpExpect& e) {
  const auto* arr = n.as_array();
  if (arr != nullptr && arr->empty()) {
    p.error(n.source(),
            "expect.status must be a code, a class or a non-empty array of them, as in 200, "
            "\"2xx\" or [200, 301]");
    return;
  }
  std::vector<StatusRule> rules;
  for (const toml::node* node : list_items(n)) {
    const toml::node& item = *node;
    if (const auto* i = item.as_integer()) {
      if (i->get() < 100 || i->get() > 599) {
        p.error(item.source(), fmt::format("expect.status code {} is outside 100-599", i->get()));
        continue;
      }
      rules.push_back({static_cast<int>(i->get()), static_cast<int>(i->get())});
    } else if (const auto* s = item.as_string()) {
      const std::string& v = s->get();
      if (v.size() == 3 && v[0] >= '1' && v[0] <= '5' && (v[1] == 'x' || v[1] == 'X') &&
          (v[2] == 'x' || v[2] == 'X')) {
        const int klass = v[0] - '0';
        rules.push_back({klass * 100, klass * 100 + 99});
      } else {
        p.error(
            item.source(),
            fmt::format("expect.status \"{}\" is neither a code nor a class such as \"2xx\"", v));
      }
    } else {
      p.error(item.source(), "expect.status entries are integers (200) or classes (\"2xx\")");
    }
  }
  e.status = std::move(rules);
}

}  // namespace

void parse_request_headers(Parser& p, const toml::node& n,
                           std::vector<std::pair<std::string, Secret>>& headers) {
  if (const auto* t = n.as_table()) {
    for (const auto& [k, v] : *t) {
      const std::string name(k.str());
      if (name.empty() || name.find_first_of(" :\r\n") != std::string::npos) {
        p.error(k.source(), fmt::format("header name \"{}\" is not valid", name));
        continue;
      }
      if (auto value = p.named_value(v, name, fmt::format("headers.{}", name))) {
        if (value->reveal().find_first_of("\r\n") != std::string::npos) {
          p.error(v.source(), fmt::format("header {} holds a line break", name));
          continue;
        }
        headers.emplace_back(name, std::move(*value));
      }
    }
  } else {
    p.error(n.source(), "headers must be a table, as in headers = { Accept = \"text/html\" }");
  }
}

void parse_http_request(Parser& p, const Layers& layers, const toml::table& where,
                        std::string_view what, const std::string& monitor, HttpRequest& h,
                        std::string& host) {
  if (const auto* n = layers.get("url")) {
    if (auto v = p.text(*n, "url")) {
      std::string why;
      // A {{name}} template stands for a value found later; validate the URL around it.
      static const RE2 kTemplate(R"(\{\{[A-Za-z0-9_]+\}\})");
      std::string shape = v->reveal();
      RE2::GlobalReplace(&shape, kTemplate, "x");
      if (!has_scheme(shape)) {
        p.error(n->source(),
                fmt::format("url {} has no scheme; write it as https://host/path", v->shown()));
      } else {
        host = url_endpoint(shape, why);
        if (host.empty()) p.error(n->source(), fmt::format("url {} {}", v->shown(), why));
      }
      h.url = std::move(*v);
    }
  } else {
    p.error(where.source(), fmt::format("{} has no url", what));
  }
  if (const auto* n = layers.get("method")) {
    if (auto v = p.plain_text(*n, "method")) {
      std::string up = *v;
      std::transform(up.begin(), up.end(), up.begin(),
                     [](unsigned char c) { return std::toupper(c); });
      static const std::set<std::string> kMethods{"GET",   "HEAD",   "POST",   "PUT",
                                                  "PATCH", "DELETE", "OPTIONS"};
      if (kMethods.count(up) == 0) {
        p.error(
            n->source(),
            fmt::format("method \"{}\" is not one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS",
                        *v));
      }
      h.method = up;
    }
  }
  if (const auto* n = layers.get("headers")) parse_request_headers(p, *n, h.headers);
  if (const auto* n = layers.get("body")) {
    if (auto v = p.text(*n, "body")) h.body = std::move(*v);
  }
  parse_http_request_options(p, layers, monitor, h);
}

void parse_tls_trust(Parser& p, const Layers& layers, const std::string& monitor,
                     std::string& ca_file, bool& insecure) {
  if (const auto* n = layers.get("ca_file")) {
    if (auto v = p.text(*n, "ca_file")) {
      std::error_code ec;
      if (!std::filesystem::is_regular_file(v->reveal(), ec)) {
        p.error(n->source(), fmt::format("ca_file {} is not a readable file", v->shown()));
      }
      ca_file = v->reveal();
    }
  }
  if (const auto* n = layers.get("insecure")) {
    if (auto v = p.boolean(*n, "insecure")) {
      insecure = *v;
      if (*v)
        p.warning(
            n->source(),
            fmt::format("monitor \"{}\" has insecure = true: its TLS certificates are not verified",
                        monitor));
    }
  }
}

void parse_http_request_options(Parser& p, const Layers& layers, const std::string& monitor,
                                HttpRequest& h) {
  parse_tls_trust(p, layers, monitor, h.ca_file, h.insecure);
  if (const auto* n = layers.get("tls_resume")) {
    if (auto v = p.duration(*n, "tls_resume")) {
      if (*v > Duration{86'400'000}) {
        p.error(n->source(),
                "tls_resume must be at most 24h: a session that old would hide a changed "
                "certificate for too long");
      } else {
        h.tls_resume = *v;
      }
    }
  }
  if (const auto* n = layers.get("follow_redirects")) {
    if (auto v = p.boolean(*n, "follow_redirects")) h.follow_redirects = *v;
  }
  if (const auto* n = layers.get("max_redirects")) {
    if (auto v = p.integer(*n, "max_redirects", 0, 50)) h.max_redirects = static_cast<int>(*v);
  }
  if (const auto* n = layers.get("max_body")) {
    if (auto v = p.size(*n, "max_body")) {
      if (*v == 0 || *v > 1024ull * 1024 * 1024) {
        p.error(n->source(), "max_body must be between 1B and 1GiB");
      } else {
        h.max_body = *v;
      }
    }
  }
}

void parse_http_expect(Parser& p, const Layers& layers, HttpExpect& e) {
  if (const auto* n = layers.get("expect.status")) parse_status(p, *n, e);
  if (const auto* n = layers.get("expect.body_contains")) {
    if (auto v = p.text(*n, "expect.body_contains")) e.body_contains = std::move(*v);
  }
  if (const auto* n = layers.get("expect.body_regex")) {
    if (auto v = p.text(*n, "expect.body_regex")) {
      std::string why;
      auto re = compile_pattern(v->reveal(), why);
      if (!re) {
        // RE2's message quotes the pattern.
        p.error(n->source(), fmt::format("expect.body_regex is not a valid RE2 pattern: {}",
                                         v->is_secret() ? "(the secret does not compile)" : why));
      } else {
        e.body_regex.re = std::move(re);
        e.body_regex_secret = v->is_secret();
      }
    }
  }
  if (const auto* n = layers.get("expect.json")) {
    if (const auto* t = n->as_table()) {
      for (const auto& [k, v] : *t) {
        const std::string ptr(k.str());
        try {
          (void)nlohmann::json::json_pointer(ptr);
          if (ptr.empty()) throw std::invalid_argument("empty");
        } catch (const std::exception&) {
          p.error(
              k.source(),
              fmt::format("expect.json key \"{}\" is not a JSON Pointer such as \"/status\"", ptr));
          continue;
        }
        e.json.emplace_back(ptr, to_json(v));
      }
    } else {
      p.error(
          n->source(),
          "expect.json must be a table of JSON Pointer = value, as in { \"/status\" = \"ok\" }");
    }
  }
  if (const auto* n = layers.get("expect.headers")) {
    if (const auto* t = n->as_table()) {
      for (const auto& [k, v] : *t) {
        if (auto value = p.text(v, fmt::format("expect.headers.{}", k.str()))) {
          e.headers.emplace_back(std::string(k.str()), std::move(*value));
        }
      }
    } else {
      p.error(n->source(), "expect.headers must be a table of header = text it contains");
    }
  }
  if (const auto* n = layers.get("expect.max_latency")) {
    if (auto v = p.duration(*n, "expect.max_latency")) e.max_latency = *v;
  }
}

std::shared_ptr<const RE2> compile_pattern(const std::string& pattern, std::string& error) {
  RE2::Options opts;
  opts.set_log_errors(false);
  auto re = std::make_shared<const RE2>(pattern, opts);
  if (!re->ok()) {
    error = re->error();
    return nullptr;
  }
  return re;
}

}  // namespace lookout::config_detail

namespace lookout {

bool Pattern::operator==(const Pattern& other) const {
  if (re == nullptr || other.re == nullptr) return re == other.re;
  return re->pattern() == other.re->pattern();
}

}  // namespace lookout
