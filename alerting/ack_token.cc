#include "alerting/ack_token.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <charconv>
#include <stdexcept>

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
  return TokenSigner(key).signature(message);
}

bool parse_int(std::string_view s, int64_t& out) {
  if (s.empty() || s.size() > 19) return false;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size() && out >= 0;
}

// The signed part's end and the signature's check, shared by both forms: the position of the
// second dot, or npos when the token is malformed or the signature wrong.
size_t signed_part(std::string_view key, std::string_view token) {
  // Anyone can sign with an empty key: without a key (a cluster's node) no token is valid.
  if (key.empty()) return std::string_view::npos;
  const size_t a = token.find('.');
  const size_t b = a == std::string_view::npos ? a : token.find('.', a + 1);
  if (b == std::string_view::npos) return b;
  const std::string want = signature(key, token.substr(0, b));
  const std::string_view got = token.substr(b + 1);
  if (got.size() != want.size() || CRYPTO_memcmp(got.data(), want.data(), want.size()) != 0)
    return std::string_view::npos;
  return b;
}

}  // namespace

TokenSigner::TokenSigner(std::string_view key) {
  EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  ctx_ = mac != nullptr ? EVP_MAC_CTX_new(mac) : nullptr;
  EVP_MAC_free(mac);  // the context keeps its own reference
  char digest[] = "SHA256";
  const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                               OSSL_PARAM_construct_end()};
  if (ctx_ == nullptr || EVP_MAC_init(ctx_, reinterpret_cast<const unsigned char*>(key.data()),
                                      key.size(), params) != 1) {
    EVP_MAC_CTX_free(ctx_);
    throw std::runtime_error("OpenSSL could not set up HMAC-SHA256 to sign links");
  }
}

TokenSigner::~TokenSigner() { EVP_MAC_CTX_free(ctx_); }

std::string TokenSigner::signature(std::string_view message) const {
  // A copy of the keyed context per message: the original stays ready for the next.
  EVP_MAC_CTX* c = EVP_MAC_CTX_dup(ctx_);
  unsigned char mac[EVP_MAX_MD_SIZE];
  size_t len = 0;
  const bool ok = c != nullptr &&
                  EVP_MAC_update(c, reinterpret_cast<const unsigned char*>(message.data()),
                                 message.size()) == 1 &&
                  EVP_MAC_final(c, mac, &len, sizeof mac) == 1 && len >= kSigBytes;
  EVP_MAC_CTX_free(c);
  if (!ok) throw std::runtime_error("OpenSSL could not sign a link with HMAC-SHA256");
  return base64url(mac, kSigBytes);
}

std::string TokenSigner::token(int64_t id, int64_t expires_unix_s) const {
  const std::string message = fmt::format("{}.{}", id, expires_unix_s);
  return message + "." + signature(message);
}

std::string make_ack_token(std::string_view key, int64_t incident_id, int64_t expires_unix_s) {
  return TokenSigner(key).token(incident_id, expires_unix_s);
}

std::optional<AckClaim> verify_ack_token(std::string_view key, std::string_view token,
                                         int64_t now_unix_s) {
  if (token.size() > 80) return std::nullopt;
  const size_t b = signed_part(key, token);
  if (b == std::string_view::npos) return std::nullopt;
  const size_t a = token.find('.');
  AckClaim claim{};
  if (!parse_int(token.substr(0, a), claim.incident_id) ||
      !parse_int(token.substr(a + 1, b - a - 1), claim.expires_unix_s)) {
    return std::nullopt;
  }
  if (now_unix_s >= claim.expires_unix_s) return std::nullopt;
  return claim;
}

std::string make_group_ack_token(std::string_view key, const std::vector<int64_t>& incident_ids,
                                 int64_t expires_unix_s) {
  const std::string message = fmt::format("{}.{}", fmt::join(incident_ids, "-"), expires_unix_s);
  return message + "." + signature(key, message);
}

std::optional<std::vector<int64_t>> verify_group_ack_token(std::string_view key,
                                                           std::string_view token,
                                                           int64_t now_unix_s) {
  if (token.size() > 20 * kMaxAckTokenIncidents + 80) return std::nullopt;
  const size_t b = signed_part(key, token);
  if (b == std::string_view::npos) return std::nullopt;
  const size_t a = token.find('.');
  int64_t expires = 0;
  if (!parse_int(token.substr(a + 1, b - a - 1), expires) || now_unix_s >= expires)
    return std::nullopt;
  std::vector<int64_t> ids;
  std::string_view rest = token.substr(0, a);
  while (ids.size() < kMaxAckTokenIncidents) {
    const size_t dash = rest.find('-');
    int64_t id = 0;
    if (!parse_int(rest.substr(0, dash), id)) return std::nullopt;
    ids.push_back(id);
    if (dash == std::string_view::npos) return ids;
    rest.remove_prefix(dash + 1);
  }
  return std::nullopt;
}

}  // namespace lookout
