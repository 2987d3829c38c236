// A plugin's standard output (whatever a plugin, or what it reads, prints) to its status line
// and performance data.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "probes/perfdata.h"

namespace {

bool fuzz_valid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    const size_t n = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : 4;
    if (i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    }
    i += n;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view out(reinterpret_cast<const char*>(data), size);
  const lookout::PluginOutput split = lookout::split_plugin_output(out);
  // What leaves the parser goes into JSON and causes: valid UTF-8, capped.
  if (!fuzz_valid_utf8(split.status_line)) __builtin_trap();
  if (split.status_line.size() > lookout::kPluginLineMax + 3) __builtin_trap();
  for (const std::string_view text : {std::string_view(split.perfdata), out}) {
    const auto items = lookout::parse_perfdata(text);
    if (items.size() > lookout::kPerfdataMaxItems) __builtin_trap();
    for (const auto& item : items) {
      if (item.label.empty() || item.label.size() > lookout::kPerfdataMaxLabel) __builtin_trap();
      if (!fuzz_valid_utf8(item.label) || !fuzz_valid_utf8(item.uom)) __builtin_trap();
      if (item.value && !std::isfinite(*item.value)) __builtin_trap();
    }
  }
  return 0;
}
