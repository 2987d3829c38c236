// A WebSocket server's bytes (as a server, or an attacker on the path, may send them): the
// handshake answer and the frames after it, fed in chunks as they might arrive.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "probes/websocket_frame.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  // The first byte picks the chunk size, the rest is what the server sent.
  const size_t chunk = 1 + data[0] % 64;
  const std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);
  constexpr size_t kMax = 1024;

  const lookout::HandshakeAnswer answer = lookout::parse_handshake_answer(in, 4096);
  if (answer.state == lookout::HandshakeAnswer::State::kComplete && answer.length > in.size())
    __builtin_trap();
  (void)lookout::check_handshake_answer(answer, "dGhlIHNhbXBsZSBub25jZQ==");

  lookout::WebSocketReader reader(kMax);
  for (size_t pos = 0; pos < in.size(); pos += chunk) {
    reader.feed(in.substr(pos, chunk));
    for (int i = 0; i < 1000; ++i) {
      const lookout::WsEvent e = reader.next();
      if (e.type == lookout::WsEvent::Type::kNeedMore) break;
      if ((e.type == lookout::WsEvent::Type::kText || e.type == lookout::WsEvent::Type::kBinary) &&
          e.payload.size() > kMax)
        __builtin_trap();
      if (e.type == lookout::WsEvent::Type::kError && e.error.empty()) __builtin_trap();
      if (e.type == lookout::WsEvent::Type::kError || e.type == lookout::WsEvent::Type::kClose) {
        pos = in.size();
        break;
      }
    }
  }
  // A frame lookout sends, read back as a server would not send it (masked), is refused.
  lookout::WebSocketReader back(kMax);
  back.feed(
      lookout::websocket_client_frame(lookout::WsOpcode::kText, in.substr(0, 200), {1, 2, 3, 4}));
  if (back.next().type != lookout::WsEvent::Type::kError) __builtin_trap();
  return 0;
}
