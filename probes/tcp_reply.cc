#include "probes/tcp_reply.h"

#include <fmt/format.h>

#include "core/units.h"

namespace lookout {
namespace {

constexpr size_t kShownBytes = 60;

}  // namespace

std::string escape_tcp_reply(std::string_view bytes, size_t max) {
  std::string out;
  const size_t n = std::min(bytes.size(), max);
  out.reserve(n + 8);
  for (size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(bytes[i]);
    switch (c) {
      case '\r':
        out += "\\r";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\\':
        out += "\\\\";
        break;
      default:
        if (c < 0x20 || c >= 0x7f || c == '"') {
          out += fmt::format("\\x{:02x}", c);
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  if (bytes.size() > n) out += "...";
  return out;
}

std::string tcp_mismatch_cause(std::string_view pattern, std::string_view reply, TcpReplyEnd end,
                               uint64_t max_body) {
  std::string_view shown = reply;
  // A line protocol's reply ends in a line break that says nothing.
  while (!shown.empty() && (shown.back() == '\n' || shown.back() == '\r')) shown.remove_suffix(1);
  if (shown.empty()) shown = reply;
  const std::string got = reply.empty()
                              ? std::string("nothing")
                              : fmt::format("\"{}\"", escape_tcp_reply(shown, kShownBytes));
  std::string cause = fmt::format("expected {} in reply, got {}", pattern, got);
  switch (end) {
    case TcpReplyEnd::kClosed:
      if (reply.empty()) cause += " (the peer closed the connection)";
      break;
    case TcpReplyEnd::kMaxBody:
      cause += fmt::format(" (the first {} of the reply, max_body)", format_size(max_body));
      break;
    case TcpReplyEnd::kTimeout:
      break;
  }
  return cause;
}

}  // namespace lookout
