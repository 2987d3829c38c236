// Acknowledgement tokens from links anyone can forge: only a token made with the key verifies.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "alerting/ack_token.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view token(reinterpret_cast<const char*>(data), size);
  static const std::string key = "fuzz-key-0123456789abcdef";
  const auto claim = lookout::verify_ack_token(key, token, 1'800'000'000);
  // A forged token verifies only if it is exactly what the key makes for its claim.
  if (claim && lookout::make_ack_token(key, claim->incident_id, claim->expires_unix_s) != token)
    __builtin_trap();
  return 0;
}
