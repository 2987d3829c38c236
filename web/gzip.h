// gzip (RFC 1952) of a whole answer at once, as `Content-Encoding: gzip` wants: the status page
// and the status JSON are compressed once per render and served to every reader that asks.
#pragma once

#include <string>

namespace lookout {

// The gzip stream of `in` (zlib level 6), or "" when zlib fails (the caller then serves plain).
std::string gzip(const std::string& in);

}  // namespace lookout
