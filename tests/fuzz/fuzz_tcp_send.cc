// A tcp monitor's `send` escapes and the reply as a cause shows it: what unescapes escapes back
// to text that unescapes to the same bytes, any bytes shown escaped read back as themselves, and
// a cause built from any reply stays printable.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "config/kinds/tcp_spec.h"
#include "probes/tcp_reply.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::string error;
  const auto bytes = lookout::unescape_tcp_send(text, error);
  if (bytes) {
    std::string again_error;
    const auto again = lookout::unescape_tcp_send(lookout::escape_tcp_reply(*bytes), again_error);
    if (!again || *again != *bytes) __builtin_trap();
  } else if (error.empty()) {
    __builtin_trap();
  }
  const auto shown = lookout::unescape_tcp_send(lookout::escape_tcp_reply(text), error);
  if (!shown || *shown != text) __builtin_trap();
  const std::string cause =
      lookout::tcp_mismatch_cause("/x/", text, lookout::TcpReplyEnd::kMaxBody, size + 1);
  for (const char c : cause) {
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f)
      __builtin_trap();
  }
  return 0;
}
