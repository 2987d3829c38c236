// Text for providers that count characters or reject bytes that are not UTF-8: a cause cut to
// N bytes may end inside a character, ntfy keeps a body that is not UTF-8 as an attachment,
// and Pushover and ntfy cap the length of each field. Pure.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace lookout {

// `s` with every byte that does not begin a well-formed UTF-8 sequence replaced by U+FFFD.
std::string valid_utf8(std::string_view s);

// valid_utf8(s) in at most `max_bytes` bytes (at least 3): when longer, cut at a character
// boundary and ended with "...". Bytes bound the characters too, so any provider limit in
// characters holds.
std::string utf8_cut(std::string_view s, size_t max_bytes);

}  // namespace lookout
