// The history API's window and step query parameters, split at the first '&'.
#include <cstddef>
#include <cstdint>
#include <string>

#include "web/history_params.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  const size_t amp = input.find('&');
  const std::string window = amp == std::string::npos ? input : input.substr(0, amp);
  const std::string step = amp == std::string::npos ? "" : input.substr(amp + 1);
  const auto p = lookout::parse_history_params(window, step, 1'800'000'000'000);
  if (p.error.empty() && (p.window_ms <= 0 || p.step_ms <= 0 ||
                          p.window_ms / p.step_ms > lookout::kMaxHistoryPoints)) {
    __builtin_trap();
  }
  return 0;
}
