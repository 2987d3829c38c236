// SHA-256 and HMAC-SHA256 as lowercase hex, through OpenSSL: webhook signatures, PagerDuty's
// signatures, heartbeat tokens and stable ids all speak this form.
#pragma once

#include <string>
#include <string_view>

namespace lookout {

std::string sha256_hex(std::string_view data);
std::string hmac_sha256_hex(std::string_view key, std::string_view message);

}  // namespace lookout
