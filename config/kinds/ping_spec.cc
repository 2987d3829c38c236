// The ping kind's keys.
#include "config/kinds/ping_spec.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cmath>

#include "config/kinds/registry.h"
#include "core/units.h"

namespace lookout {

std::optional<double> parse_percent(std::string_view text) {
  if (text.size() < 2 || text.back() != '%') return std::nullopt;
  text.remove_suffix(1);
  // from_chars would take "inf", "nan" and a sign; a percentage is digits and one point.
  if (!std::all_of(text.begin(), text.end(),
                   [](char c) { return (c >= '0' && c <= '9') || c == '.'; }) ||
      text.front() == '.' || text.back() == '.') {
    return std::nullopt;
  }
  double v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v < 0 || v > 100) {
    return std::nullopt;
  }
  return v;
}

namespace config_detail {
namespace {

constexpr int kPingMaxCount = 50;

const std::set<std::string>& ping_monitor_keys() {
  static const std::set<std::string> keys{"host", "count", "expect"};
  return keys;
}

const std::set<std::string>& ping_expect_keys() {
  static const std::set<std::string> keys{"max_loss", "max_rtt"};
  return keys;
}

bool ping_ip_literal(const std::string& host) {
  unsigned char buf[16];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

std::shared_ptr<const KindSpec> parse_ping(Parser& p, const Layers& layers,
                                           const toml::table& where, MonitorConfig& m) {
  auto spec = std::make_shared<PingSpec>();
  if (const auto* type = where.get("type")) {
    spec->type_at = {static_cast<int>(type->source().begin.line),
                     static_cast<int>(type->source().begin.column)};
  }
  if (const auto* n = layers.get("host")) {
    if (auto v = p.text(*n, "host")) {
      spec->host = v->reveal();
      std::transform(spec->host.begin(), spec->host.end(), spec->host.begin(),
                     [](unsigned char ch) { return std::tolower(ch); });
      if (v->is_secret()) p.also_secret(spec->host);
      if (spec->host.empty() || (!ping_ip_literal(spec->host) &&
                                 spec->host.find_first_of("/:@ []") != std::string::npos)) {
        p.error(n->source(),
                fmt::format("host \"{}\" must be a host name or an IPv4 or IPv6 address, without "
                            "scheme, port or brackets",
                            v->shown()));
      }
    }
  } else {
    p.error(where.source(), fmt::format("ping monitor \"{}\" has no host", m.name));
  }
  m.host = spec->host;
  const toml::node* count = layers.get("count");
  if (count != nullptr) {
    if (auto v = p.integer(*count, "count", 1, kPingMaxCount)) spec->count = static_cast<int>(*v);
  }
  // Every echo must have been sent, with a moment left for its reply, before the run's end.
  const Duration sending = kPingInterval * (spec->count - 1);
  if (sending + Duration{100} > m.timeout) {
    const toml::node* at = count != nullptr ? count : layers.get("timeout");
    p.error(at != nullptr ? at->source() : where.source(),
            fmt::format("ping monitor \"{}\": {} echoes {} apart take {}, which leaves less than "
                        "100ms of its timeout {} for the last reply; lower count or raise timeout",
                        m.name, spec->count, format_duration(kPingInterval),
                        format_duration(sending), format_duration(m.timeout)));
  }
  check_sub_keys(p, layers.monitor, "expect", ping_expect_keys());
  if (const auto* n = layers.get("expect.max_loss")) {
    if (auto v = p.plain_text(*n, "expect.max_loss")) {
      spec->max_loss = parse_percent(*v);
      if (!spec->max_loss) {
        p.error(
            n->source(),
            fmt::format("expect.max_loss \"{}\" is not a percentage from \"0%\" to \"100%\"", *v));
      }
    }
  }
  if (const auto* n = layers.get("expect.max_rtt")) {
    if (auto v = p.duration(*n, "expect.max_rtt")) {
      if (v->count() <= 0) {
        p.error(n->source(), "expect.max_rtt must be more than 0ms");
      } else {
        spec->max_rtt = *v;
      }
    }
  }
  return spec;
}

}  // namespace

extern const KindParser kPingKind{"ping", ping_monitor_keys, ping_expect_keys, parse_ping};

}  // namespace config_detail
}  // namespace lookout
