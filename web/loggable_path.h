// A request path as it may be written to a log. Some paths carry a secret: a heartbeat's ping
// token (/ping/TOKEN[/start]), a signed ack token (/ack/TOKEN), a Pushover callback's token
// (/hooks/pushover/TOKEN) and a subscriber's links (/subscribe/confirm/TOKEN,
// /unsubscribe/TOKEN); the segment after those names is replaced by "***", wherever in the
// path it stands. Bytes that are not printable ASCII become '?', so a path cannot forge a log
// line. Pure.
#pragma once

#include <string>
#include <string_view>

namespace lookout {

std::string loggable_path(std::string_view path);

}  // namespace lookout
