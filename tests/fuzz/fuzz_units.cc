// Durations and sizes: what parses prints back to text that parses to the same value.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/units.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto d = lookout::parse_duration(text);
  if (d.value) {
    const auto again = lookout::parse_duration(lookout::format_duration(*d.value));
    if (!again.value || *again.value != *d.value) __builtin_trap();
  } else if (d.error.empty()) {
    __builtin_trap();
  }
  const auto s = lookout::parse_size(text);
  if (s.bytes) {
    const auto again = lookout::parse_size(lookout::format_size(*s.bytes));
    if (!again.bytes || *again.bytes != *s.bytes) __builtin_trap();
  } else if (s.error.empty()) {
    __builtin_trap();
  }
  return 0;
}
