#include "web/loggable_path.h"

namespace lookout {

std::string loggable_path(std::string_view path) {
  std::string out;
  out.reserve(path.size());
  std::string_view before;  // the segment before this one
  bool hooks = false;       // the one before that was "hooks"
  size_t at = 0;
  while (at <= path.size()) {
    const size_t slash = path.find('/', at);
    const size_t end = slash == std::string_view::npos ? path.size() : slash;
    const std::string_view segment = path.substr(at, end - at);
    const bool secret = !segment.empty() &&
                        (before == "ping" || before == "ack" || (hooks && before == "pushover") ||
                         before == "confirm" || before == "unsubscribe");
    if (secret) {
      out += "***";
    } else {
      for (const char c : segment) out += c >= 0x20 && c < 0x7f ? c : '?';
    }
    hooks = before == "hooks";
    before = segment;
    if (slash == std::string_view::npos) break;
    out += '/';
    at = slash + 1;
  }
  return out;
}

}  // namespace lookout
