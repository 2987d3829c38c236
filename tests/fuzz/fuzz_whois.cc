// WHOIS answers (free text from any server on port 43, unauthenticated) to an expiry, a "no
// such domain" or a rate limit.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "probes/whois_expiry.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const lookout::WhoisAnswer a = lookout::parse_whois_answer(text);
  if (a.expires && (a.not_found || a.rate_limited || a.expiry_line.empty())) __builtin_trap();
  if (a.not_found && a.rate_limited) __builtin_trap();
  (void)lookout::parse_whois_date(text);
  (void)lookout::known_whois_server(text.substr(0, 64));
  return 0;
}
