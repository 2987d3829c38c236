// The RRSIG records of a raw DNS message: what each signs, which zone's key signed it and
// until when. libunbound hands a validated answer back as the message it came in; the
// signatures' validity is read from it here. Pure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lookout {

struct RrsigRecord {
  std::string owner;  // lower case, without the trailing dot; "." for the root
  uint16_t type_covered = 0;
  uint8_t algorithm = 0;
  uint16_t key_tag = 0;
  std::string signer;      // the zone whose key made it, written like `owner`
  int64_t inception = 0;   // Unix seconds
  int64_t expiration = 0;  // Unix seconds
  bool operator==(const RrsigRecord&) const = default;
};

// RFC 4034 3.1.5: a signature's 32-bit time field read by serial-number arithmetic (RFC 1982)
// as the Unix time nearest `now`, so that it keeps its meaning after 2106.
int64_t rrsig_time(uint32_t field, int64_t now);

// The RRSIGs of the answer section of `message`; nullopt with `error` when the message does
// not parse. `now` (Unix seconds) places the 32-bit times.
std::optional<std::vector<RrsigRecord>> parse_rrsigs(std::string_view message, int64_t now,
                                                     std::string& error);

// The one of `sigs` that expires first; nullopt when there is none.
std::optional<RrsigRecord> earliest_expiry(const std::vector<RrsigRecord>& sigs);

// "A", "DNSKEY", "DS"... or "TYPE65280" for a type without a name here.
std::string rr_type_name(uint16_t type);

}  // namespace lookout
