// The websocket kind's keys.
#include "config/kinds/websocket_spec.h"

#include <strings.h>

#include "config/kinds/registry.h"
#include "config/url_parts.h"
#include "core/text.h"

namespace lookout::config_detail {
namespace {

const std::set<std::string>& websocket_monitor_keys() {
  static const std::set<std::string> keys{"url",    "headers", "send",
                                          "expect", "ca_file", "insecure"};
  return keys;
}

const std::set<std::string>& websocket_expect_keys() {
  static const std::set<std::string> keys{"message_contains", "message_regex"};
  return keys;
}

// "" when `url` is a ws:// or wss:// URL with a host; else why not. Fills the spec's parts.
std::string websocket_url_parts(const std::string& url, WebSocketSpec& s) {
  const auto sep = url.find("://");
  const std::string scheme = ascii_lower(url.substr(0, sep == std::string::npos ? 0 : sep));
  if (scheme != "ws" && scheme != "wss") return "must start with ws:// or wss://";
  s.tls = scheme == "wss";
  const UrlParts u = split_url(url);
  if (!u.ok) return "is not a valid URL";
  if (u.host.empty()) return "has no host";
  if (!u.user.empty()) return "holds a user name; send credentials in headers instead";
  const std::string h = ascii_lower(u.host);
  s.authority = fmt::format("{}:{}", h, !u.port.empty() ? u.port : s.tls ? "443" : "80");
  s.host_header = !u.port.empty() ? fmt::format("{}:{}", h, u.port) : h;
  s.target = !u.path.empty() ? u.path : "/";
  if (!u.query.empty()) s.target += fmt::format("?{}", u.query);
  return "";
}

std::shared_ptr<const KindSpec> parse_websocket(Parser& p, const Layers& layers,
                                                const toml::table& where, MonitorConfig& m) {
  auto spec = std::make_shared<WebSocketSpec>();
  if (const auto* n = layers.get("url")) {
    if (auto v = p.text(*n, "url")) {
      const std::string why = websocket_url_parts(v->reveal(), *spec);
      if (!why.empty()) {
        p.error(n->source(), fmt::format("url {} {}", v->shown(), why));
      } else if (v->is_secret()) {
        p.also_secret(spec->authority);
        p.also_secret(spec->target);
      }
      spec->url = std::move(*v);
    }
  } else {
    p.error(where.source(),
            fmt::format("websocket monitor \"{}\" has no url (ws://... or wss://...)", m.name));
  }
  if (const auto* n = layers.get("headers")) {
    parse_request_headers(p, *n, spec->headers);
    // The handshake's own headers are lookout's to write: another value breaks the upgrade.
    for (const char* own : {"Upgrade", "Connection", "Sec-WebSocket-Key", "Sec-WebSocket-Version",
                            "Sec-WebSocket-Extensions"}) {
      for (const auto& [name, value] : spec->headers) {
        if (strcasecmp(name.c_str(), own) == 0) {
          p.error(n->source(),
                  fmt::format("headers.{} is written by the WebSocket handshake itself", name));
        }
      }
    }
  }
  if (const auto* n = layers.get("send")) {
    if (auto v = p.text(*n, "send")) spec->send = std::move(*v);
  }
  check_sub_keys(p, layers.monitor, "expect", websocket_expect_keys());
  const toml::node* contains = layers.get("expect.message_contains");
  const toml::node* regex = layers.get("expect.message_regex");
  if (contains != nullptr) {
    if (auto v = p.text(*contains, "expect.message_contains"))
      spec->expect_contains = std::move(*v);
  }
  if (regex != nullptr) {
    if (auto v = p.text(*regex, "expect.message_regex")) {
      std::string why;
      auto re = compile_pattern(v->reveal(), why);
      if (!re) {
        p.error(regex->source(),
                fmt::format("expect.message_regex is not a valid RE2 pattern: {}",
                            v->is_secret() ? "(the secret does not compile)" : why));
      } else {
        spec->expect_regex.re = std::move(re);
        spec->expect_regex_secret = v->is_secret();
      }
    }
  }
  if (contains != nullptr && regex != nullptr) {
    p.error(regex->source(),
            "expect.message_contains and expect.message_regex judge the same message: keep one");
  }
  parse_tls_trust(p, layers, m.name, spec->ca_file, spec->insecure_tls);
  m.host = spec->authority;  // the per-host concurrency cap
  return spec;
}

}  // namespace

extern const KindParser kWebSocketKind{"websocket", websocket_monitor_keys, websocket_expect_keys,
                                       parse_websocket};

}  // namespace lookout::config_detail
