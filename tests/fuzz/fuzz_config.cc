// The config loader: any text is either a Config or errors with a position, never a crash.
#include <cstddef>
#include <cstdint>
#include <string>

#include "config/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const auto env = [](const std::string& name) -> std::optional<std::string> {
    if (name.empty() || name.size() > 8) return std::nullopt;
    return "value-of-" + name;
  };
  const lookout::LoadResult r = lookout::parse_config(text, "/nonexistent/fuzz.toml", env);
  for (const auto& e : r.errors) {
    if (e.line < 0 || e.col < 0 || e.message.empty()) __builtin_trap();
  }
  if (r.ok() && !r.errors.empty()) {
    for (const auto& e : r.errors) {
      if (!e.warning) __builtin_trap();  // a config with errors must not load
    }
  }
  return 0;
}
