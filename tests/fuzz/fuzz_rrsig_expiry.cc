// Raw DNS messages (as a resolver, or an attacker on the path, may send them) to the RRSIGs
// the dnssec monitor reads the expiry of.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "probes/dnssec_verdict.h"
#include "probes/rrsig_expiry.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Around a time past the 32-bit wrap too, where the serial arithmetic matters.
  static constexpr int64_t kNows[] = {1'796'500'000, (int64_t{1} << 32) + 1'000};
  const std::string_view message(reinterpret_cast<const char*>(data), size);
  for (const int64_t now : kNows) {
    std::string error;
    const auto sigs = lookout::parse_rrsigs(message, now, error);
    if (!sigs && error.empty()) __builtin_trap();
    if (!sigs) continue;
    for (const auto& s : *sigs) {
      if (s.owner.empty() || s.signer.empty()) __builtin_trap();
      // Every time is read within 2^31 seconds of now.
      if (s.expiration - now > INT32_MAX || now - s.expiration > int64_t{1} << 31) {
        __builtin_trap();
      }
      (void)lookout::rr_type_name(s.type_covered);
    }
    const auto first = lookout::earliest_expiry(*sigs);
    if (first.has_value() != !sigs->empty()) __builtin_trap();
    if (first) (void)lookout::dnssec_time_left(first->expiration - now);
  }
  (void)lookout::dnssec_bogus_reason(message);
  return 0;
}
