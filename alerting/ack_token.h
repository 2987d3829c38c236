// Signed acknowledgement links: "ID.EXPIRY.SIG", SIG the first 16 bytes of
// HMAC-SHA256(key, "ID.EXPIRY") in base64url. Short enough for an SMS; a token names one
// incident and stops working at EXPIRY. Pure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

struct evp_mac_ctx_st;

namespace lookout {

inline constexpr int64_t kAckTokenLifetimeS = 7 * 86'400;

// Signs tokens of the form above with one key, whose HMAC is set up once: a mail to 10,000
// subscribers signs 10,000 links, and setting up HMAC-SHA256 anew for each costs more than
// signing.
class TokenSigner {
 public:
  explicit TokenSigner(std::string_view key);
  ~TokenSigner();
  TokenSigner(const TokenSigner&) = delete;
  TokenSigner& operator=(const TokenSigner&) = delete;
  // "ID.EXPIRY.SIG" (make_ack_token's form).
  std::string token(int64_t id, int64_t expires_unix_s) const;
  // SIG of any message.
  std::string signature(std::string_view message) const;

 private:
  evp_mac_ctx_st* ctx_ = nullptr;
};

std::string make_ack_token(std::string_view key, int64_t incident_id, int64_t expires_unix_s);

struct AckClaim {
  int64_t incident_id;
  int64_t expires_unix_s;
};
// The claim when the signature is right and it has not expired at `now_unix_s`.
std::optional<AckClaim> verify_ack_token(std::string_view key, std::string_view token,
                                         int64_t now_unix_s);

// A token for several incidents at once, for the callback of a grouped Pushover emergency:
// "ID-ID-ID.EXPIRY.SIG", signed like the one-incident token (for one id it is that token).
// At most kMaxAckTokenIncidents ids; only the Pushover callback takes it.
inline constexpr size_t kMaxAckTokenIncidents = 10;
std::string make_group_ack_token(std::string_view key, const std::vector<int64_t>& incident_ids,
                                 int64_t expires_unix_s);
// The incidents of a token of either form, when its signature is right and it has not expired.
std::optional<std::vector<int64_t>> verify_group_ack_token(std::string_view key,
                                                           std::string_view token,
                                                           int64_t now_unix_s);

}  // namespace lookout
