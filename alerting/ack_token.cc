#include "alerting/ack_token.h"

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <charconv>

namespace lookout {
namespace {

constexpr size_t kSigBytes = 16;

std::string base64url(const unsigned char* data, size_t n) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  uint32_t buf = 0;
  int bits = 0;
  for (size_t i = 0; i < n; ++i) {
    buf = (buf << 8) | data[i];
    bits += 8;
    while (bits >= 6) {
      out += kAlphabet[(buf >> (bits - 6)) & 0x3f];
      bits -= 6;
    }
  }
  if (bits > 0) out += kAlphabet[(buf << (6 - bits)) & 0x3f];
  return out;
}

std::string signature(std::string_view key, std::string_view message) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac, &len);
  return base64url(mac, kSigBytes);
}

bool parse_int(std::string_view s, int64_t& out) {
  if (s.empty() || s.size() > 19) return false;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size() && out >= 0;
}

}  // namespace

std::string make_ack_token(std::string_view key, int64_t incident_id, int64_t expires_unix_s) {
  const std::string message = fmt::format("{}.{}", incident_id, expires_unix_s);
  return message + "." + signature(key, message);
}

std::optional<AckClaim> verify_ack_token(std::string_view key, std::string_view token,
                                         int64_t now_unix_s) {
  if (token.size() > 80) return std::nullopt;
  const size_t a = token.find('.');
  const size_t b = a == std::string_view::npos ? a : token.find('.', a + 1);
  if (b == std::string_view::npos) return std::nullopt;
  AckClaim claim{};
  if (!parse_int(token.substr(0, a), claim.incident_id) ||
      !parse_int(token.substr(a + 1, b - a - 1), claim.expires_unix_s)) {
    return std::nullopt;
  }
  const std::string want = signature(key, token.substr(0, b));
  const std::string_view got = token.substr(b + 1);
  if (got.size() != want.size() || CRYPTO_memcmp(got.data(), want.data(), want.size()) != 0)
    return std::nullopt;
  if (now_unix_s >= claim.expires_unix_s) return std::nullopt;
  return claim;
}

}  // namespace lookout
