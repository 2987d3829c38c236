// The domain kind: a domain's registration expiry, read from its registry's RDAP service, with
// WHOIS as the fallback (probes/domain_probe).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "config/config.h"

namespace lookout {

struct DomainSpec : SpecOf<DomainSpec> {
  std::string domain;  // lower case, without the trailing dot
  Duration warn_within{30LL * 86'400'000};
  Duration fail_within{7LL * 86'400'000};
  // The RDAP base URL ("https://rdap.example/"); unset: the registry's from the bootstrap list.
  std::optional<Secret> rdap_url;
  // The WHOIS fallback server; empty host: the one lookout knows for the TLD, if any.
  std::string whois_host;
  uint16_t whois_port = 43;
  bool operator==(const DomainSpec&) const = default;
};

// Registries rate-limit RDAP and WHOIS: a domain monitor runs every 12h unless its own table
// says otherwise, and never more often than hourly.
inline constexpr Duration kDomainDefaultInterval{12LL * 3'600'000};
inline constexpr Duration kDomainMinInterval{3'600'000};

// "host", "host:port", "[IPv6]:port" or a bare IPv6 address -> host and port (43 when absent);
// false when it is none of these.
bool parse_whois_server(const std::string& text, std::string& host, uint16_t& port);

}  // namespace lookout
