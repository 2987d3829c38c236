// WHOIS (RFC 3912) for the domain kind, as pure functions: the expiry in a registry's free-text
// answer, in the formats registries use, whether the answer says there is no such domain or
// that the client asked too often, and the servers lookout knows for TLDs without RDAP.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"

namespace lookout {

struct WhoisAnswer {
  std::optional<WallTime> expires;
  std::string expiry_line;    // the line it was read from, trimmed
  bool not_found = false;     // "No match for", "NOT FOUND", "No entries found"...
  bool rate_limited = false;  // "limit exceeded", "too many requests"...
};

WhoisAnswer parse_whois_answer(std::string_view text);
// A date as WHOIS answers write it: "2027-08-13T04:00:00Z", "13-aug-2027", "2027.08.13",
// "13/08/2027" (day first), "20270813", "Fri Aug 13 2027"... (midnight UTC without a time).
std::optional<WallTime> parse_whois_date(std::string_view text);
// "whois.denic.de" for "acme.de": a TLD whose registry has no RDAP service; nullopt otherwise.
std::optional<std::string> known_whois_server(std::string_view domain);

}  // namespace lookout
