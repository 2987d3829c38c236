// RDAP for the domain kind, as pure functions: the IANA bootstrap list (RFC 9224) that names a
// TLD's registry, the request URL (RFC 9082) and the expiry in a domain answer (RFC 9083).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/clock.h"

namespace lookout {

struct RdapBootstrap {
  // One entry per TLD (or longer suffix) of a service: the label suffix, lower case without
  // dots at the ends, and the service's base URL (an https one when it lists several).
  std::vector<std::pair<std::string, std::string>> entries;
  std::string publication;  // the list's date, as it says
};

// The list in RFC 9224's form ({"services": [[["com", ...], ["https://..."]], ...]}); nullopt
// with `error` when it is not.
std::optional<RdapBootstrap> parse_rdap_bootstrap(std::string_view json, std::string& error);
// The base URL of the registry of `domain`: the entry with the longest matching label suffix
// ("co.uk" before "uk"); nullopt when none matches.
std::optional<std::string> rdap_base_for(const RdapBootstrap& bootstrap, std::string_view domain);
// The IANA list shipped with lookout (data/rdap-dns.json, compiled in).
const RdapBootstrap& shipped_rdap_bootstrap();

// `base` + "domain/" + `domain`, with one slash between.
std::string rdap_domain_url(std::string_view base, std::string_view domain);

struct RdapDomain {
  bool json = false;  // the body is a JSON object
  std::optional<WallTime> expires;
  std::string expires_text;  // the eventDate as written
  std::string problem;       // why no expiry was read, for a cause
};

// The "expiration" event (or "registration expiration", which some registries write) of a
// domain answer's `events`; tolerant of missing or mistyped fields.
RdapDomain parse_rdap_domain(std::string_view body);

}  // namespace lookout
