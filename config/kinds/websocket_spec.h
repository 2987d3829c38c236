// The websocket kind: the RFC 6455 opening handshake, an optional message sent, and the first
// text message the server sends judged (probes/websocket_probe).
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "config/config.h"
#include "config/http_request.h"  // Pattern

namespace lookout {

struct WebSocketSpec : SpecOf<WebSocketSpec> {
  Secret url;               // as written: ws://... or wss://...
  bool tls = false;         // wss://
  std::string authority;    // "host:port" (IPv6 in brackets), where to connect
  std::string host_header;  // Host: host, and the port when it is not the scheme's
  std::string target;       // path and query of the request line, "/" at least
  std::vector<std::pair<std::string, Secret>> headers;
  std::optional<Secret> send;  // a text message after the handshake
  std::optional<Secret> expect_contains;
  Pattern expect_regex;
  bool expect_regex_secret = false;
  std::string ca_file;  // empty: the system store
  bool insecure_tls = false;
  bool expects_message() const { return expect_contains.has_value() || expect_regex; }
  bool insecure() const override { return insecure_tls; }
  bool operator==(const WebSocketSpec&) const = default;
};

}  // namespace lookout
