// What a tcp run read, in words: the reply shown short and printable, and the cause when the
// expected pattern is not in it. Pure, so the wording is tested without a peer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace lookout {

// `bytes` as printable ASCII with the escapes `send` takes (\r \n \t \\ \xHH; a quote as
// \x22), so that what a cause quotes can be pasted back into a config. At most `max` bytes of
// the reply are shown, then "...".
std::string escape_tcp_reply(std::string_view bytes, size_t max = SIZE_MAX);

// How the read ended without a match.
enum class TcpReplyEnd {
  kClosed,   // the peer closed the connection
  kMaxBody,  // max_body bytes arrived
  kTimeout,  // the run's deadline passed while waiting for more
};

// `expected /^\+PONG/ in reply, got "-ERR unknown"`: the reply without its trailing line
// break, shortened and escaped; `pattern` as shown (a secret's placeholder for a secret).
std::string tcp_mismatch_cause(std::string_view pattern, std::string_view reply, TcpReplyEnd end,
                               uint64_t max_body);

}  // namespace lookout
