// {{name}} templates in each escaping, and the encoders behind them.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

#include "probes/template.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const std::map<std::string, std::string> vars{
      {"token", "a\"b\\c {{x}} %20&="}, {"csrf", text.substr(0, 16)}, {"", "empty"}};
  for (auto e : {lookout::Escape::kNone, lookout::Escape::kUrl, lookout::Escape::kJson}) {
    (void)lookout::render_template(text, vars, e);
  }
  const std::string encoded = lookout::url_encode(text);
  for (char c : encoded) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '.' || c == '_' || c == '~' || c == '%';
    if (!ok) __builtin_trap();
  }
  (void)lookout::form_encode({{text, text}, {"k", text}});
  return 0;
}
