// The accept gate's reading of a request head: once a head is judged (complete, too large,
// refused), nothing that arrives after it changes the judgement, a complete head ends in its
// blank line within the limit, and a head still incomplete is under the limit. The first two
// bytes choose the limit, so both sides of it are reached.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "web/request_head.h"

namespace {

bool same(const lookout::RequestHead& a, const lookout::RequestHead& b) {
  return a.verdict == b.verdict && a.head_size == b.head_size &&
         a.content_length == b.content_length && a.expect_continue == b.expect_continue;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using Verdict = lookout::RequestHead::Verdict;
  if (size < 2) return 0;
  const size_t max_head = 1 + ((static_cast<size_t>(data[0]) << 8) | data[1]);
  const std::string_view bytes(reinterpret_cast<const char*>(data) + 2, size - 2);
  const lookout::RequestHead r = lookout::scan_request_head(bytes, max_head);
  if (r.verdict == Verdict::kIncomplete) {
    if (bytes.size() > max_head) __builtin_trap();
    return 0;
  }
  std::string more(bytes);
  more += "X: y\r\n\r\nGET / HTTP/1.1\r\n\r\n";
  if (!same(lookout::scan_request_head(more, max_head), r)) __builtin_trap();
  if (r.verdict == Verdict::kTooLarge) return 0;
  if (r.head_size > bytes.size() || r.head_size > max_head) __builtin_trap();
  if (bytes.substr(0, r.head_size).substr(r.head_size - 2) != "\r\n") __builtin_trap();
  if (!same(lookout::scan_request_head(bytes.substr(0, r.head_size), max_head), r))
    __builtin_trap();
  if (r.verdict != Verdict::kComplete && r.content_length != 0) __builtin_trap();
  return 0;
}
