// The tcp kind's keys.
#include "config/kinds/tcp_spec.h"

#include <arpa/inet.h>

#include <filesystem>

#include "config/kinds/registry.h"
#include "core/text.h"
#include "core/units.h"

namespace lookout {

std::optional<std::string> unescape_tcp_send(std::string_view text, std::string& error) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\') {
      out += text[i];
      continue;
    }
    if (i + 1 >= text.size()) {
      error = fmt::format("ends in a lone backslash (at byte {}); write \\\\ for one", i + 1);
      return std::nullopt;
    }
    const char e = text[++i];
    switch (e) {
      case 'r':
        out += '\r';
        break;
      case 'n':
        out += '\n';
        break;
      case 't':
        out += '\t';
        break;
      case '\\':
        out += '\\';
        break;
      case 'x': {
        const int hi = i + 1 < text.size() ? hex(text[i + 1]) : -1;
        const int lo = i + 2 < text.size() ? hex(text[i + 2]) : -1;
        if (hi < 0 || lo < 0) {
          error = fmt::format("has \\x without two hex digits after it (at byte {})", i);
          return std::nullopt;
        }
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
        break;
      }
      default:
        // Bytes, not characters: a multi-byte letter after the backslash is shown as its bytes.
        error = fmt::format(
            "has an unknown escape \\{} (at byte {}); use \\r \\n \\t \\\\ or \\xHH",
            static_cast<unsigned char>(e) >= 0x20 && static_cast<unsigned char>(e) < 0x7f
                ? std::string(1, e)
                : fmt::format("x{:02x}", static_cast<unsigned char>(e)),
            i);
        return std::nullopt;
    }
  }
  return out;
}

}  // namespace lookout

namespace lookout::config_detail {
namespace {

const std::set<std::string>& tcp_keys() {
  static const std::set<std::string> keys{"host",        "port",       "tls",     "send",
                                          "expect",      "max_body",   "ca_file", "insecure",
                                          "warn_within", "fail_within"};
  return keys;
}

const std::set<std::string>& tcp_expect_keys() {
  static const std::set<std::string> keys{"regex"};
  return keys;
}

bool tcp_is_ip(const std::string& host) {
  unsigned char buf[16];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

void parse_tcp_host(Parser& p, const Layers& layers, const toml::table& where, MonitorConfig& m,
                    TcpSpec& spec) {
  const auto* n = layers.get("host");
  if (n == nullptr) {
    p.error(where.source(), fmt::format("tcp monitor \"{}\" has no host", m.name));
    return;
  }
  auto v = p.text(*n, "host");
  if (!v) return;
  spec.host = ascii_lower(v->reveal());
  if (v->is_secret()) p.also_secret(spec.host);
  const bool v6 = spec.host.find(':') != std::string::npos;
  if (spec.host.empty() || spec.host.find_first_of("/@[] \t") != std::string::npos ||
      (v6 && !tcp_is_ip(spec.host))) {
    p.error(n->source(),
            fmt::format("host \"{}\" must be a host name or an IP address (IPv6 without "
                        "brackets), without scheme or port; the port is its own key",
                        v->shown()));
  }
}

void parse_tcp_tls(Parser& p, const Layers& layers, const std::string& monitor, TcpSpec& spec) {
  if (const auto* n = layers.get("tls")) {
    if (auto v = p.boolean(*n, "tls")) spec.tls = *v;
  }
  // Without TLS these keys would be silently ignored on the monitor itself (from [defaults]
  // they are: a default a kind does not use is ignored).
  if (!spec.tls) {
    for (const char* key : {"ca_file", "insecure", "warn_within", "fail_within"}) {
      if (const auto* n = layers.monitor->get(key)) {
        p.error(n->source(),
                fmt::format("{} applies only with tls = true; tcp monitor \"{}\" has no TLS", key,
                            monitor));
      }
    }
    return;
  }
  if (const auto* n = layers.get("ca_file")) {
    if (auto v = p.text(*n, "ca_file")) {
      std::error_code ec;
      if (!std::filesystem::is_regular_file(v->reveal(), ec)) {
        p.error(n->source(), fmt::format("ca_file {} is not a readable file", v->shown()));
      }
      spec.ca_file = v->reveal();
    }
  }
  if (const auto* n = layers.get("insecure")) {
    if (auto v = p.boolean(*n, "insecure")) {
      spec.skip_verify = *v;
      if (*v)
        p.warning(
            n->source(),
            fmt::format("monitor \"{}\" has insecure = true: its TLS certificates are not verified",
                        monitor));
    }
  }
  const toml::node* warn = layers.get("warn_within");
  if (warn != nullptr) {
    if (auto v = p.duration(*warn, "warn_within")) spec.warn_within = *v;
  }
  const toml::node* fail = layers.get("fail_within");
  if (fail != nullptr) {
    if (auto v = p.duration(*fail, "fail_within")) spec.fail_within = *v;
  }
  if (spec.fail_within > spec.warn_within) {
    p.error((fail != nullptr ? fail : warn)->source(),
            fmt::format(
                "fail_within {} is longer than warn_within {}; the warning would never come first",
                format_duration(spec.fail_within), format_duration(spec.warn_within)));
  }
}

std::shared_ptr<const KindSpec> parse_tcp(Parser& p, const Layers& layers, const toml::table& where,
                                          MonitorConfig& m) {
  auto spec = std::make_shared<TcpSpec>();
  parse_tcp_host(p, layers, where, m, *spec);
  if (const auto* n = layers.get("port")) {
    if (auto v = p.integer(*n, "port", 1, 65535)) spec->port = static_cast<uint16_t>(*v);
  } else {
    p.error(where.source(), fmt::format("tcp monitor \"{}\" has no port", m.name));
  }
  // The per-host concurrency cap: services on other ports of one address do not share it.
  m.host = spec->host.find(':') != std::string::npos
               ? fmt::format("[{}]:{}", spec->host, spec->port)
               : fmt::format("{}:{}", spec->host, spec->port);
  parse_tcp_tls(p, layers, m.name, *spec);
  if (const auto* n = layers.get("send")) {
    if (auto v = p.text(*n, "send")) {
      std::string why;
      auto bytes = unescape_tcp_send(v->reveal(), why);
      if (!bytes) {
        // The reason may quote a byte of the value.
        p.error(n->source(), v->is_secret() ? std::string("send (a secret) has an escape that is "
                                                          "not \\r \\n \\t \\\\ or \\xHH")
                                            : "send " + why);
      } else if (bytes->empty()) {
        p.error(n->source(), "send is empty; leave it out to send nothing");
      } else {
        // The bytes sent are what a log or cause could quote, not the escaped text.
        if (v->is_secret()) p.also_secret(*bytes);
        spec->send = Secret(std::move(*bytes), v->is_secret());
      }
    }
  }
  check_sub_keys(p, layers.monitor, "expect", tcp_expect_keys());
  if (const auto* n = layers.get("expect.regex")) {
    if (auto v = p.text(*n, "expect.regex")) {
      std::string why;
      auto re = compile_pattern(v->reveal(), why);
      if (!re) {
        p.error(n->source(), fmt::format("expect.regex is not a valid RE2 pattern: {}",
                                         v->is_secret() ? "(the secret does not compile)" : why));
      } else {
        spec->expect_regex.re = std::move(re);
        spec->expect_regex_secret = v->is_secret();
      }
    }
  }
  if (const auto* n = layers.get("max_body")) {
    if (auto v = p.size(*n, "max_body")) {
      // The reply is held in memory and searched again as it grows.
      if (*v == 0 || *v > 16ull * 1024 * 1024) {
        p.error(n->source(), "max_body must be between 1B and 16MiB for a tcp monitor");
      } else {
        spec->max_body = *v;
      }
    }
  }
  return spec;
}

}  // namespace

extern const KindParser kTcpKind{"tcp", tcp_keys, tcp_expect_keys, parse_tcp};

}  // namespace lookout::config_detail
