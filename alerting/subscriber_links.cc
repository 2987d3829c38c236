#include "alerting/subscriber_links.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "core/text.h"

namespace lookout {
namespace {

// An unsubscribe link carries this as its expiry: the last second of the year 9999.
constexpr int64_t kUnsubscribeNeverExpires = 253'402'300'799;

// Each kind of link is signed with its own key derived from the one storage keeps, so that a
// confirmation link cannot be turned into an unsubscribe link or an ack link.
std::string link_key(std::string_view key, std::string_view purpose) {
  std::string k(key);
  k += '/';
  k += purpose;
  return k;
}

bool local_part_char(unsigned char c) {
  if (c <= 0x20 || c >= 0x7f) return false;
  return std::string_view("\"(),:;<>@[\\]").find(static_cast<char>(c)) == std::string_view::npos;
}

bool domain_ok(std::string_view d) {
  if (d.empty() || d.size() > 253 || d.find('.') == std::string_view::npos) return false;
  size_t label = 0;
  for (size_t i = 0; i <= d.size(); ++i) {
    if (i == d.size() || d[i] == '.') {
      if (label == 0 || label > 63 || d[i - 1] == '-' || d[i - label] == '-') return false;
      label = 0;
    } else if (std::isalnum(static_cast<unsigned char>(d[i])) != 0 || d[i] == '-') {
      ++label;
    } else {
      return false;
    }
  }
  return true;
}

}  // namespace

std::optional<std::string> normalized_email(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())) != 0)
    text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())) != 0)
    text.remove_suffix(1);
  if (text.size() > 254) return std::nullopt;
  const size_t at = text.find('@');
  if (at == std::string_view::npos || at == 0 || at > 64 ||
      text.find('@', at + 1) != std::string_view::npos) {
    return std::nullopt;
  }
  const std::string_view local = text.substr(0, at);
  if (!std::all_of(local.begin(), local.end(),
                   [](char c) { return local_part_char(static_cast<unsigned char>(c)); }) ||
      local.front() == '.' || local.back() == '.' || local.find("..") != std::string_view::npos) {
    return std::nullopt;
  }
  const std::string domain = ascii_lower(text.substr(at + 1));
  if (!domain_ok(domain)) return std::nullopt;
  return fmt::format("{}@{}", local, domain);
}

std::string confirm_token(std::string_view key, int64_t subscriber_id, int64_t expires_unix_s) {
  return make_ack_token(link_key(key, "confirm"), subscriber_id, expires_unix_s);
}

std::optional<int64_t> verify_confirm_token(std::string_view key, std::string_view token,
                                            int64_t now_unix_s) {
  // No key yet (a cluster's node before it joined): "/confirm" alone would be a key anyone has.
  if (key.empty()) return std::nullopt;
  const auto claim = verify_ack_token(link_key(key, "confirm"), token, now_unix_s);
  if (!claim) return std::nullopt;
  return claim->incident_id;
}

std::string unsubscribe_token(std::string_view key, int64_t subscriber_id) {
  return UnsubscribeLinks(key).token(subscriber_id);
}

std::optional<int64_t> verify_unsubscribe_token(std::string_view key, std::string_view token) {
  if (key.empty()) return std::nullopt;
  const auto claim = verify_ack_token(link_key(key, "unsubscribe"), token, 0);
  if (!claim || claim->expires_unix_s != kUnsubscribeNeverExpires) return std::nullopt;
  return claim->incident_id;
}

UnsubscribeLinks::UnsubscribeLinks(std::string_view key) : signer_(link_key(key, "unsubscribe")) {}

std::string UnsubscribeLinks::token(int64_t subscriber_id) const {
  return signer_.token(subscriber_id, kUnsubscribeNeverExpires);
}

}  // namespace lookout
