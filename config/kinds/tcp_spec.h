// The tcp kind: a connection to host:port, optionally over TLS, optionally a message sent and
// a pattern expected in what comes back (probes/tcp_probe).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "config/config.h"
#include "config/http_request.h"  // Pattern

namespace lookout {

struct TcpSpec : SpecOf<TcpSpec> {
  std::string host;  // a name or an IP address (IPv6 without brackets), lower case
  uint16_t port = 0;
  bool tls = false;
  std::optional<Secret> send;  // unescaped; a secret stays one
  Pattern expect_regex;        // on the first max_body bytes read
  bool expect_regex_secret = false;
  uint64_t max_body = 64 * 1024;
  // With tls: the CA file (empty: the system store), verification off, and the expiry windows
  // of the cert kind.
  std::string ca_file;
  bool skip_verify = false;
  Duration warn_within{21LL * 86'400'000};
  Duration fail_within{7LL * 86'400'000};
  bool insecure() const override { return tls && skip_verify; }
  bool operator==(const TcpSpec&) const = default;
};

// `send` as written after TOML parsing: \r \n \t \\ and \xHH (two hex digits) stand for their
// bytes; any other backslash is an error. nullopt with `error` saying what and where.
std::optional<std::string> unescape_tcp_send(std::string_view text, std::string& error);

}  // namespace lookout
