// Text for providers that count characters or reject bytes that are not UTF-8: a cause cut to
// N bytes may end inside a character, ntfy keeps a body that is not UTF-8 as an attachment,
// Pushover and ntfy cap the length of each field, and mail headers are ASCII. Pure.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "core/utf8.h"

namespace lookout {

// valid_utf8(s) in at most `max_bytes` bytes (at least 3): when longer, cut at a character
// boundary and ended with "...". Bytes bound the characters too, so any provider limit in
// characters holds.
std::string utf8_cut(std::string_view s, size_t max_bytes);

// A header value (a mail's Subject, an ntfy Title) as readers decode it: ASCII as is; one with
// other bytes (or with "=?", which a decoder would try to read) as RFC 2047 encoded-words
// "=?UTF-8?B?...?=", each of whole characters and at most 75 long, separated by spaces that
// the decoder drops.
std::string header_words(std::string_view value);

}  // namespace lookout
