// Signed acknowledgement links: "ID.EXPIRY.SIG", SIG the first 16 bytes of
// HMAC-SHA256(key, "ID.EXPIRY") in base64url. Short enough for an SMS; a token names one
// incident and stops working at EXPIRY. Pure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace lookout {

inline constexpr int64_t kAckTokenLifetimeS = 7 * 86'400;

std::string make_ack_token(std::string_view key, int64_t incident_id, int64_t expires_unix_s);

struct AckClaim {
  int64_t incident_id;
  int64_t expires_unix_s;
};
// The claim when the signature is right and it has not expired at `now_unix_s`.
std::optional<AckClaim> verify_ack_token(std::string_view key, std::string_view token,
                                         int64_t now_unix_s);

}  // namespace lookout
