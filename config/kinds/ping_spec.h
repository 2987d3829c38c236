// The ping kind: ICMP echoes to a host, judged by how many were lost and by their median
// round trip (probes/ping_probe).
#pragma once

#include <optional>
#include <string>

#include "config/config.h"

namespace lookout {

// Where a value stands in the config, for an error found after parsing (`lookout check` and
// `lookout run` learn only then whether ICMP sockets may be opened). Two positions are always
// equal: a monitor moved in the file is the same monitor, and a reload keeps its state.
struct ConfigPosition {
  int line = 0;
  int col = 0;
  bool operator==(const ConfigPosition&) const { return true; }
};

struct PingSpec : SpecOf<PingSpec> {
  std::string host;  // a name or an IPv4/IPv6 literal
  int count = 3;     // echoes per run, kPingInterval apart
  // Percent; unset: only losing every echo counts (DOWN).
  std::optional<double> max_loss;
  std::optional<Duration> max_rtt;  // of the median round trip
  ConfigPosition type_at;           // the monitor's `type` value
  bool operator==(const PingSpec&) const = default;
};

// The time between two echoes of one run.
inline constexpr Duration kPingInterval{200};

// "20%" or "2.5%" as 20.0 / 2.5, within 0..100; nullopt for anything else. Pure.
std::optional<double> parse_percent(std::string_view text);

}  // namespace lookout
