// Where an HTTP/1.1 request ends, judged from its head alone, before cpp-httplib sees it: the
// accept gate hands a worker only complete requests, and it must cut them exactly where
// cpp-httplib will, so that nothing of one request is read as the next. Pure.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace lookout {

struct RequestHead {
  enum class Verdict {
    kIncomplete,      // no end of the head yet (and under the limit)
    kComplete,        // head_size and content_length are set
    kTooLarge,        // the head is longer than the limit: 431
    kBadLength,       // Content-Length not a plain number, or two that differ: 400
    kLengthRequired,  // Transfer-Encoding (a chunked body): 411
  };
  Verdict verdict = Verdict::kIncomplete;
  size_t head_size = 0;          // bytes up to and including the blank line
  uint64_t content_length = 0;   // 0 without a Content-Length
  bool expect_continue = false;  // Expect: 100-continue
};

// Reads `bytes`, the start of a request. The head ends, as cpp-httplib reads it, at the first
// line after the request line that is exactly CRLF; header lines not ending in CRLF are ignored
// there and so here. Header names match case-insensitively, without trimming.
RequestHead scan_request_head(std::string_view bytes, size_t max_head);

}  // namespace lookout
