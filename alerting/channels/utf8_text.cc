#include "alerting/channels/utf8_text.h"

#include <fmt/format.h>
#include <openssl/evp.h>

#include <algorithm>

namespace lookout {
namespace {

// 45 bytes are 60 base64 characters: with "=?UTF-8?B?" and "?=", RFC 2047's 75 at most.
constexpr size_t kWordBytes = 45;

std::string header_base64(std::string_view s) {
  std::string out(4 * ((s.size() + 2) / 3) + 1, '\0');
  const int n =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                      reinterpret_cast<const unsigned char*>(s.data()), static_cast<int>(s.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

}  // namespace

std::string utf8_cut(std::string_view s, size_t max_bytes) {
  std::string v = valid_utf8(s);
  if (v.size() <= max_bytes) return v;
  size_t cut = max_bytes - 3;
  while (cut > 0 && (static_cast<unsigned char>(v[cut]) & 0xC0) == 0x80) --cut;
  v.resize(cut);
  return v + "...";
}

std::string header_words(std::string_view value) {
  const bool ascii = std::all_of(value.begin(), value.end(),
                                 [](char c) { return static_cast<unsigned char>(c) < 0x80; });
  if (ascii && value.find("=?") == std::string_view::npos) return std::string(value);
  const std::string v = valid_utf8(value);
  std::string out;
  for (size_t i = 0; i < v.size();) {
    size_t n = std::min(kWordBytes, v.size() - i);
    while (i + n < v.size() && (static_cast<unsigned char>(v[i + n]) & 0xC0) == 0x80) --n;
    out += fmt::format("{}=?UTF-8?B?{}?=", out.empty() ? "" : " ", header_base64(v.substr(i, n)));
    i += n;
  }
  return out;
}

}  // namespace lookout
