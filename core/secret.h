// A config string that may hold a resolved secret (${env:..} or ${file:..}). Every printed,
// formatted or serialised form of a secret is "***"; only reveal() gives the value, and only
// the code that hands it to a socket should call it.
#pragma once

#include <fmt/format.h>

#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace lookout {

class Secret {
 public:
  Secret() = default;
  Secret(std::string value, bool secret) : value_(std::move(value)), secret_(secret) {}
  static Secret plain(std::string value) { return Secret(std::move(value), false); }

  const std::string& reveal() const { return value_; }
  bool is_secret() const { return secret_; }
  bool empty() const { return value_.empty(); }
  // What a log line, page or API answer may show.
  std::string shown() const { return secret_ ? std::string("***") : value_; }

  bool operator==(const Secret&) const = default;

 private:
  std::string value_;
  bool secret_ = false;
};

// How a cause names an expected value that is a secret: what was expected stays hidden, and
// the reader learns why.
inline constexpr std::string_view kSecretInCause = "*** (a secret)";

inline std::ostream& operator<<(std::ostream& os, const Secret& s) { return os << s.shown(); }

// Replaces every occurrence of known secret values in free text (a libcurl error names the
// host, a cause may quote a URL) with "***". Fragments shorter than kMinLength are not
// replaced: masking every "a" would make causes unreadable while hiding nothing.
class Redactor {
 public:
  static constexpr size_t kMinLength = 4;
  void add(std::string_view fragment);
  std::string apply(std::string text) const;
  bool empty() const { return fragments_.empty(); }

 private:
  std::vector<std::string> fragments_;  // longest first, so a longer secret wins
};

}  // namespace lookout

template <>
struct fmt::formatter<lookout::Secret> : fmt::formatter<std::string> {
  template <typename Ctx>
  auto format(const lookout::Secret& s, Ctx& ctx) const {
    return fmt::formatter<std::string>::format(s.shown(), ctx);
  }
};
