#include "probes/websocket_frame.h"

#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <strings.h>

#include "core/text.h"
#include "core/units.h"

namespace lookout {
namespace {

constexpr std::string_view kWebSocketGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

std::string websocket_base64(const unsigned char* data, size_t size) {
  std::string out(4 * ((size + 2) / 3), '\0');
  const int n =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(size));
  out.resize(static_cast<size_t>(n));
  return out;
}

// Whether the comma-separated `value` holds `token`, as HTTP compares tokens.
bool websocket_has_token(std::string_view value, std::string_view token) {
  size_t start = 0;
  while (start <= value.size()) {
    const size_t comma = std::min(value.find(',', start), value.size());
    if (ascii_lower(trim(value.substr(start, comma - start))) == token) return true;
    start = comma + 1;
  }
  return false;
}

const std::string* websocket_header(const HandshakeAnswer& a, const char* name) {
  for (const auto& [k, v] : a.headers) {
    if (strcasecmp(k.c_str(), name) == 0) return &v;
  }
  return nullptr;
}

}  // namespace

std::string websocket_key(const std::array<uint8_t, 16>& nonce) {
  return websocket_base64(nonce.data(), nonce.size());
}

std::string websocket_accept(std::string_view key) {
  const std::string text = std::string(key) + std::string(kWebSocketGuid);
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  return websocket_base64(digest, sizeof digest);
}

std::string websocket_upgrade_request(std::string_view target, std::string_view host,
                                      std::string_view key,
                                      const std::vector<std::string>& header_lines) {
  bool has_host = false;
  for (const auto& line : header_lines) {
    if (strncasecmp(line.c_str(), "Host:", 5) == 0) has_host = true;
  }
  std::string out = fmt::format("GET {} HTTP/1.1\r\n", target);
  if (!has_host) out += fmt::format("Host: {}\r\n", host);
  out += fmt::format(
      "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {}\r\n"
      "Sec-WebSocket-Version: 13\r\n",
      key);
  for (const auto& line : header_lines) out += line + "\r\n";
  out += "\r\n";
  return out;
}

HandshakeAnswer parse_handshake_answer(std::string_view bytes, size_t max_head) {
  HandshakeAnswer a;
  const size_t end = bytes.substr(0, max_head).find("\r\n\r\n");
  if (end == std::string_view::npos) {
    if (bytes.size() >= max_head) {
      a.state = HandshakeAnswer::State::kInvalid;
      a.error = fmt::format("the handshake answer's head is longer than {}", format_size(max_head));
    } else if (bytes.size() >= 5 && bytes.substr(0, 5) != "HTTP/") {
      a.state = HandshakeAnswer::State::kInvalid;
      a.error = fmt::format("the handshake answer is not HTTP: \"{}\"",
                            shorten(trim(bytes.substr(0, bytes.find('\n'))), 60));
    }
    return a;
  }
  a.length = end + 4;
  const std::string_view head = bytes.substr(0, end);
  const size_t line_end = std::min(head.find("\r\n"), head.size());
  const std::string_view status_line = head.substr(0, line_end);
  // "HTTP/1.1 101 Switching Protocols"
  const size_t sp = status_line.find(' ');
  if (status_line.substr(0, 5) != "HTTP/" || sp == std::string_view::npos ||
      status_line.size() < sp + 4) {
    a.state = HandshakeAnswer::State::kInvalid;
    a.error = fmt::format("the handshake answer is not HTTP: \"{}\"", shorten(status_line, 60));
    return a;
  }
  int status = 0;
  for (size_t i = sp + 1; i < sp + 4; ++i) {
    const char c = status_line[i];
    if (c < '0' || c > '9') {
      a.state = HandshakeAnswer::State::kInvalid;
      a.error =
          fmt::format("the handshake answer has no status code: \"{}\"", shorten(status_line, 60));
      return a;
    }
    status = status * 10 + (c - '0');
  }
  a.status = status;
  size_t pos = line_end + 2;
  while (pos < head.size()) {
    const size_t next = std::min(head.find("\r\n", pos), head.size());
    const std::string_view line = head.substr(pos, next - pos);
    const size_t colon = line.find(':');
    if (colon != std::string_view::npos && colon > 0)
      a.headers.emplace_back(std::string(line.substr(0, colon)), trim(line.substr(colon + 1)));
    pos = next + 2;
  }
  a.state = HandshakeAnswer::State::kComplete;
  return a;
}

std::string check_handshake_answer(const HandshakeAnswer& a, std::string_view key) {
  if (a.state == HandshakeAnswer::State::kInvalid) return a.error;
  if (a.state != HandshakeAnswer::State::kComplete) return "the handshake answer is incomplete";
  if (a.status != 101) return fmt::format("handshake answered {}", a.status);
  const std::string* upgrade = websocket_header(a, "Upgrade");
  if (upgrade == nullptr || !websocket_has_token(*upgrade, "websocket"))
    return "the handshake answer 101 has no Upgrade: websocket";
  const std::string* connection = websocket_header(a, "Connection");
  if (connection == nullptr || !websocket_has_token(*connection, "upgrade"))
    return "the handshake answer 101 has no Connection: Upgrade";
  const std::string* accept = websocket_header(a, "Sec-WebSocket-Accept");
  if (accept == nullptr) return "the handshake answer 101 has no Sec-WebSocket-Accept";
  if (*accept != websocket_accept(key)) return "Sec-WebSocket-Accept does not match";
  const std::string* extensions = websocket_header(a, "Sec-WebSocket-Extensions");
  if (extensions != nullptr && !extensions->empty()) {
    return fmt::format("the server chose the extension \"{}\", which lookout did not offer",
                       shorten(*extensions, 60));
  }
  return "";
}

std::string websocket_client_frame(WsOpcode opcode, std::string_view payload,
                                   const std::array<uint8_t, 4>& mask) {
  std::string out;
  out.reserve(payload.size() + 14);
  out += static_cast<char>(0x80 | static_cast<uint8_t>(opcode));
  const uint64_t n = payload.size();
  if (n < 126) {
    out += static_cast<char>(0x80 | n);
  } else if (n <= 0xFFFF) {
    out += static_cast<char>(0x80 | 126);
    out += static_cast<char>(n >> 8);
    out += static_cast<char>(n & 0xFF);
  } else {
    out += static_cast<char>(0x80 | 127);
    for (int shift = 56; shift >= 0; shift -= 8) out += static_cast<char>((n >> shift) & 0xFF);
  }
  for (const uint8_t m : mask) out += static_cast<char>(m);
  for (size_t i = 0; i < payload.size(); ++i)
    out += static_cast<char>(static_cast<uint8_t>(payload[i]) ^ mask[i % 4]);
  return out;
}

std::string websocket_close_payload(uint16_t code, std::string_view reason) {
  std::string out;
  out += static_cast<char>(code >> 8);
  out += static_cast<char>(code & 0xFF);
  out.append(reason.substr(0, 123));  // a control frame's payload is at most 125 bytes
  return out;
}

std::string websocket_close_text(uint16_t code) {
  const char* name = nullptr;
  switch (code) {
    case 1000:
      name = "normal";
      break;
    case 1001:
      name = "going away";
      break;
    case 1002:
      name = "protocol error";
      break;
    case 1003:
      name = "unsupported data";
      break;
    case 1007:
      name = "invalid data";
      break;
    case 1008:
      name = "policy";
      break;
    case 1009:
      name = "message too big";
      break;
    case 1010:
      name = "extension required";
      break;
    case 1011:
      name = "server error";
      break;
    case 1012:
      name = "service restart";
      break;
    case 1013:
      name = "try again later";
      break;
    case 1014:
      name = "bad gateway";
      break;
    default:
      break;
  }
  return name != nullptr ? fmt::format("{} {}", code, name) : std::to_string(code);
}

void WebSocketReader::feed(std::string_view bytes) {
  if (final_) return;
  if (pos_ > 0) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  buf_.append(bytes);
}

WsEvent WebSocketReader::fail(std::string why) {
  WsEvent e;
  e.type = WsEvent::Type::kError;
  e.error = std::move(why);
  final_ = e;
  return e;
}

WsEvent WebSocketReader::next() {
  if (final_) return *final_;
  while (true) {
    const std::string_view in = std::string_view(buf_).substr(pos_);
    if (in.size() < 2) return {};
    const auto b0 = static_cast<uint8_t>(in[0]);
    const auto b1 = static_cast<uint8_t>(in[1]);
    const bool fin = (b0 & 0x80) != 0;
    const auto op = static_cast<uint8_t>(b0 & 0x0F);
    if ((b0 & 0x70) != 0) return fail("a frame has reserved bits set, and no extension was agreed");
    if ((b1 & 0x80) != 0) return fail("the server sent a masked frame");
    if ((op >= 3 && op <= 7) || op > 10) return fail(fmt::format("a frame has the opcode {}", op));
    const bool control = op >= 8;
    size_t header = 2;
    uint64_t len = b1 & 0x7F;
    if (len == 126) {
      if (in.size() < 4) return {};
      len = (uint64_t{static_cast<uint8_t>(in[2])} << 8) | static_cast<uint8_t>(in[3]);
      header = 4;
    } else if (len == 127) {
      if (in.size() < 10) return {};
      len = 0;
      for (size_t i = 2; i < 10; ++i) len = (len << 8) | static_cast<uint8_t>(in[i]);
      if ((len >> 63) != 0) return fail("a frame announces a length beyond 2^63");
      header = 10;
    }
    if (control && (!fin || len > 125))
      return fail("a control frame is fragmented or longer than 125 bytes");
    if (!control) {
      if (op == 0 && !in_message_) return fail("a continuation frame came without a message");
      if (op != 0 && in_message_) return fail("a new message began before the last one ended");
      const size_t so_far = in_message_ ? message_.size() : 0;
      if (len > max_message_ - so_far)
        return fail(fmt::format("a message is larger than {}", format_size(max_message_)));
    }
    if (in.size() - header < len) return {};
    const std::string_view payload = in.substr(header, static_cast<size_t>(len));
    pos_ += header + static_cast<size_t>(len);
    if (control) {
      WsEvent e;
      e.payload = std::string(payload);
      if (op == static_cast<uint8_t>(WsOpcode::kPing)) {
        e.type = WsEvent::Type::kPing;
        return e;
      }
      if (op == static_cast<uint8_t>(WsOpcode::kPong)) {
        e.type = WsEvent::Type::kPong;
        return e;
      }
      if (payload.size() == 1) return fail("a close frame has a 1-byte payload");
      e.type = WsEvent::Type::kClose;
      if (payload.size() >= 2) {
        e.close_code = static_cast<uint16_t>((static_cast<uint8_t>(payload[0]) << 8) |
                                             static_cast<uint8_t>(payload[1]));
        e.payload = std::string(payload.substr(2));
      }
      final_ = e;
      return e;
    }
    if (op != 0) {
      in_message_ = true;
      message_opcode_ = static_cast<WsOpcode>(op);
      message_.clear();
    }
    message_.append(payload);
    if (!fin) continue;
    in_message_ = false;
    WsEvent e;
    e.type = message_opcode_ == WsOpcode::kText ? WsEvent::Type::kText : WsEvent::Type::kBinary;
    e.payload = std::move(message_);
    message_.clear();
    return e;
  }
}

}  // namespace lookout
