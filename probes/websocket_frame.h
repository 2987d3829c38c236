// The WebSocket wire format (RFC 6455) the websocket kind speaks as a client: the opening
// handshake and the check of its answer, masked frames out, and the server's frames read into
// messages, pings and a close. Pure, and careful with what a server sends: nothing is read
// past what arrived, and no message grows past the cap.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lookout {

// Sec-WebSocket-Key: 16 random bytes, base64.
std::string websocket_key(const std::array<uint8_t, 16>& nonce);
// The Sec-WebSocket-Accept a server must answer to `key`: base64(SHA-1(key + the RFC's GUID)).
std::string websocket_accept(std::string_view key);

// The opening handshake: GET `target` with Upgrade, Connection, the key, version 13, Host (unless
// `header_lines`, "Name: value", hold one) and `header_lines`.
std::string websocket_upgrade_request(std::string_view target, std::string_view host,
                                      std::string_view key,
                                      const std::vector<std::string>& header_lines);

// The server's answer to the handshake, as far as it arrived.
struct HandshakeAnswer {
  enum class State { kIncomplete, kComplete, kInvalid };
  State state = State::kIncomplete;
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  size_t length = 0;  // bytes of the answer's head, the blank line included; frames follow
  std::string error;  // kInvalid: why
};
// Reads the head of `bytes` (a status line, headers, a blank line); a head longer than
// `max_head` without its end is kInvalid.
HandshakeAnswer parse_handshake_answer(std::string_view bytes, size_t max_head);
// "" when a complete answer accepts the upgrade for `key`; else the cause ("handshake answered
// 403", "Sec-WebSocket-Accept does not match").
std::string check_handshake_answer(const HandshakeAnswer& answer, std::string_view key);

enum class WsOpcode : uint8_t {
  kContinuation = 0,
  kText = 1,
  kBinary = 2,
  kClose = 8,
  kPing = 9,
  kPong = 10
};

// One client frame: FIN set, masked with `mask`, as a client must send every frame.
std::string websocket_client_frame(WsOpcode opcode, std::string_view payload,
                                   const std::array<uint8_t, 4>& mask);
// A close frame's payload: the code, big-endian, then the reason.
std::string websocket_close_payload(uint16_t code, std::string_view reason);
// "1008 policy", "1000 normal"; "1234" for a code without a name.
std::string websocket_close_text(uint16_t code);

struct WsEvent {
  enum class Type { kNeedMore, kText, kBinary, kPing, kPong, kClose, kError };
  Type type = Type::kNeedMore;
  std::string payload;                 // a whole message, a ping's data, a close's reason
  std::optional<uint16_t> close_code;  // kClose with a code
  std::string error;                   // kError: why (the stream is unusable afterwards)
};

// The server's frames, fed as they arrive, read into whole messages (continuations joined)
// and control frames (which may come between a message's fragments).
class WebSocketReader {
 public:
  explicit WebSocketReader(size_t max_message) : max_message_(max_message) {}
  void feed(std::string_view bytes);
  // The next event from what has arrived; kNeedMore until a whole one is there. After kError
  // or kClose every call answers the same.
  WsEvent next();
  size_t buffered() const { return buf_.size() - pos_; }

 private:
  WsEvent fail(std::string why);

  size_t max_message_;
  std::string buf_;
  size_t pos_ = 0;
  std::string message_;
  bool in_message_ = false;
  WsOpcode message_opcode_ = WsOpcode::kText;
  std::optional<WsEvent> final_;  // kError or kClose
};

}  // namespace lookout
