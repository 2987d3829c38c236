// What strangers send the subscription routes: a form's address, and links they can forge.
// An accepted address is one plain address that cannot touch a mail header and reads the same
// when checked again; a link verifies only if it is exactly what the key makes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "alerting/subscriber_links.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (const auto address = lookout::normalized_email(text)) {
    if (address->size() > 254 || address->find_first_of(" \t\r\n<>\",;") != std::string::npos ||
        address->find('@') != address->rfind('@') || lookout::normalized_email(*address) != address)
      __builtin_trap();
  }
  static const std::string key = "fuzz-subscription-key-0123456789";
  if (const auto id = lookout::verify_confirm_token(key, text, 1'800'000'000)) {
    // Its expiry is in the token; the token must be the key's own for that id and expiry.
    const size_t dot = text.find('.');
    const size_t last = text.rfind('.');
    const int64_t expires = std::stoll(std::string(text.substr(dot + 1, last - dot - 1)));
    if (lookout::confirm_token(key, *id, expires) != text) __builtin_trap();
  }
  if (const auto id = lookout::verify_unsubscribe_token(key, text)) {
    if (lookout::unsubscribe_token(key, *id) != text) __builtin_trap();
  }
  return 0;
}
