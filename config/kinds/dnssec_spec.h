// The dnssec kind: one question validated by libunbound from a trust anchor down, judged by
// its security (secure, insecure, bogus) and by how soon a signature of its chain of trust
// expires (probes/dnssec_probe).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"

namespace lookout {

// The root's trust anchor as Debian's dns-root-data installs it.
inline constexpr const char* kRootTrustAnchorFile = "/usr/share/dns/root.key";

// One trust anchor as libunbound takes it ("acme.example. DNSKEY 257 3 13 ..." or
// "acme.example. DS 12345 13 2 ...") and the zone it anchors.
struct TrustAnchor {
  std::string zone;  // lower case, with the trailing dot ("." for the root)
  std::string record;
  bool operator==(const TrustAnchor&) const = default;
};

// The trust_anchor text: one record a line, each `NAME. FLAGS PROTO ALG KEY` (a DNSKEY
// without its type) or a whole DNSKEY or DS record (a TTL and the class IN may stand before
// the type); blank lines and `;` comments are skipped. nullopt with `error` naming the line.
std::optional<std::vector<TrustAnchor>> parse_trust_anchors(const std::string& text,
                                                            std::string& error);

struct DnssecSpec : SpecOf<DnssecSpec> {
  std::string query;  // lower case, without the trailing dot
  uint16_t record = 1;
  std::string record_name = "A";
  std::string resolver;  // "IP:port" / "[IPv6]:port"; empty: the system's (/etc/resolv.conf)
  // Empty: the root's, read from trust_anchor_file.
  std::vector<TrustAnchor> trust_anchors;
  std::string trust_anchor_file;
  // DEGRADED when a signature of the chain expires within it; 0 turns the check off.
  Duration warn_within{3LL * 86'400'000};
  bool operator==(const DnssecSpec&) const = default;
};

}  // namespace lookout
