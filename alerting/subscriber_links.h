// What a stranger hands the subscription routes, checked: the address typed into the form, and
// the signed links of subscriber mails. Pure; fuzzed (tests/fuzz/fuzz_subscriber_links.cc).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "alerting/ack_token.h"

namespace lookout {

// The address as lookout keeps it (surrounding white space dropped, the domain in lower case),
// or nullopt when it is not one address a mail can be sent to: one "@", a local part of
// printable ASCII without white space, quotes or angle brackets (nothing that could change a
// mail header), a domain of letters, digits and hyphens with at least one dot; at most 254.
std::optional<std::string> normalized_email(std::string_view text);

// Links: a confirmation link works kConfirmLifetimeS; an unsubscribe link, in every mail,
// works for good. Both name the subscriber by id, signed with the key storage keeps.
inline constexpr int64_t kConfirmLifetimeS = 7 * 86'400;
std::string confirm_token(std::string_view key, int64_t subscriber_id, int64_t expires_unix_s);
std::optional<int64_t> verify_confirm_token(std::string_view key, std::string_view token,
                                            int64_t now_unix_s);
std::string unsubscribe_token(std::string_view key, int64_t subscriber_id);
std::optional<int64_t> verify_unsubscribe_token(std::string_view key, std::string_view token);

// Unsubscribe tokens for many subscribers under one key, the HMAC set up once (a mail to every
// subscriber signs one link each).
class UnsubscribeLinks {
 public:
  explicit UnsubscribeLinks(std::string_view key);
  std::string token(int64_t subscriber_id) const;

 private:
  TokenSigner signer_;
};

}  // namespace lookout
