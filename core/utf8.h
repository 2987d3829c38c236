// UTF-8 that other programs accept: probes quote what a target sent (a WebSocket handshake, a
// gRPC message, a body cut to N bytes), which may not be UTF-8, and mail, providers' APIs and
// PostgreSQL's text columns refuse or mangle bytes that are not. Pure.
#pragma once

#include <string>
#include <string_view>

namespace lookout {

// `s` with every byte that does not begin a well-formed UTF-8 sequence replaced by U+FFFD.
std::string valid_utf8(std::string_view s);

}  // namespace lookout
