// Raw DNS messages (as a server, or an attacker on the path, may send them) to answers.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "probes/dns_answers.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  // The first byte picks the question type, the rest is the message.
  static constexpr uint16_t kTypes[] = {1, 2, 5, 6, 15, 16, 28, 33, 257};
  const uint16_t qtype = kTypes[data[0] % (sizeof(kTypes) / sizeof(kTypes[0]))];
  const std::string_view message(reinterpret_cast<const char*>(data + 1), size - 1);
  std::string error;
  const auto answers = lookout::parse_answers(message, qtype, error);
  if (!answers && error.empty()) __builtin_trap();
  if (answers) {
    for (const auto& a : *answers) (void)lookout::normalise_answer(qtype, a);
    (void)lookout::diff_answers(*answers, {"203.0.113.1"});
  }
  (void)lookout::normalise_answer(qtype, message);
  return 0;
}
