#include "web/request_head.h"

#include <optional>

namespace lookout {
namespace {

bool head_name_is(std::string_view name, std::string_view want) {
  if (name.size() != want.size()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != want[i]) return false;
  }
  return true;
}

std::string_view head_trimmed(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  return v;
}

// Digits only: cpp-httplib's strtoull would read "12abc" as 12 and "%31" (URL-decoded) as 1;
// anything it could read differently from us is refused instead.
std::optional<uint64_t> head_length_value(std::string_view v) {
  v = head_trimmed(v);
  if (v.empty() || v.size() > 18) return std::nullopt;
  uint64_t n = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  return n;
}

}  // namespace

RequestHead scan_request_head(std::string_view bytes, size_t max_head) {
  RequestHead r;
  const size_t first_end = bytes.find('\n');
  if (first_end == std::string_view::npos || first_end + 1 > max_head) {
    if (first_end != std::string_view::npos || bytes.size() > max_head)
      r.verdict = RequestHead::Verdict::kTooLarge;
    return r;
  }
  std::optional<uint64_t> length;
  bool bad_length = false, chunked = false;
  size_t pos = first_end + 1;
  for (;;) {
    const size_t end = bytes.find('\n', pos);
    if (end == std::string_view::npos || end + 1 > max_head) {
      if (end != std::string_view::npos || bytes.size() > max_head)
        r.verdict = RequestHead::Verdict::kTooLarge;
      return r;
    }
    const std::string_view line = bytes.substr(pos, end + 1 - pos);
    pos = end + 1;
    if (line == "\r\n") break;
    if (line.size() < 2 || line[line.size() - 2] != '\r') continue;
    const std::string_view text = line.substr(0, line.size() - 2);
    const size_t colon = text.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string_view name = text.substr(0, colon);
    const std::string_view value = text.substr(colon + 1);
    if (head_name_is(name, "content-length")) {
      const auto n = head_length_value(value);
      if (!n || (length && *length != *n)) bad_length = true;
      if (n) length = n;
    } else if (head_name_is(name, "transfer-encoding")) {
      chunked = true;
    } else if (head_name_is(name, "expect")) {
      r.expect_continue = head_name_is(head_trimmed(value), "100-continue");
    }
  }
  r.head_size = pos;
  if (chunked) {
    r.verdict = RequestHead::Verdict::kLengthRequired;
  } else if (bad_length) {
    r.verdict = RequestHead::Verdict::kBadLength;
  } else {
    r.verdict = RequestHead::Verdict::kComplete;
    r.content_length = length.value_or(0);
  }
  return r;
}

}  // namespace lookout
