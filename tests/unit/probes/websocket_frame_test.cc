// The websocket kind's wire format and verdict: the RFC 6455 handshake (its own example key),
// client frames byte for byte, the server's frames read into messages with every protocol
// error refused, and the causes of a message judged or missing.
#include "probes/websocket_frame.h"

#include <gtest/gtest.h>
#include <re2/re2.h>

#include "config/kinds/websocket_spec.h"
#include "probes/websocket_probe.h"

namespace lookout {
namespace {

using namespace std::string_literals;

// A server frame (never masked).
std::string server_frame(uint8_t first, std::string_view payload) {
  std::string out(1, static_cast<char>(first));
  if (payload.size() < 126) {
    out += static_cast<char>(payload.size());
  } else {
    out += static_cast<char>(126);
    out += static_cast<char>(payload.size() >> 8);
    out += static_cast<char>(payload.size() & 0xFF);
  }
  return out + std::string(payload);
}

TEST(WebSocketHandshake, KeyAndAcceptAreTheRfcs) {
  // RFC 6455 section 1.3: the nonce "the sample nonce" and its accept value.
  std::array<uint8_t, 16> nonce{};
  const std::string sample = "the sample nonce";
  std::copy(sample.begin(), sample.end(), nonce.begin());
  EXPECT_EQ(websocket_key(nonce), "dGhlIHNhbXBsZSBub25jZQ==");
  EXPECT_EQ(websocket_accept("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(WebSocketHandshake, TheRequestCarriesTheHeadersAndOneHost) {
  const std::string req = websocket_upgrade_request("/ws?x=1", "portal.test:8443", "KEY",
                                                    {"Origin: https://portal.test"});
  EXPECT_EQ(req,
            "GET /ws?x=1 HTTP/1.1\r\nHost: portal.test:8443\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Key: KEY\r\nSec-WebSocket-Version: 13\r\n"
            "Origin: https://portal.test\r\n\r\n");
  const std::string own_host = websocket_upgrade_request("/", "a.test", "K", {"host: b.test"});
  EXPECT_EQ(own_host.find("Host: a.test"), std::string::npos);
  EXPECT_NE(own_host.find("host: b.test\r\n"), std::string::npos);
}

TEST(WebSocketHandshake, ChecksTheAnswer) {
  const std::string key = "dGhlIHNhbXBsZSBub25jZQ==";
  const std::string good =
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: WebSocket\r\nConnection: keep-alive, "
      "Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n\x81\x02hi";
  const HandshakeAnswer a = parse_handshake_answer(good, 16384);
  ASSERT_EQ(a.state, HandshakeAnswer::State::kComplete);
  EXPECT_EQ(a.status, 101);
  EXPECT_EQ(good.substr(a.length), "\x81\x02hi");
  EXPECT_EQ(check_handshake_answer(a, key), "");

  EXPECT_EQ(parse_handshake_answer(good.substr(0, 40), 16384).state,
            HandshakeAnswer::State::kIncomplete);
  const std::vector<std::pair<std::string, std::string>> bad{
      {"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n", "handshake answered 403"},
      {"HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
       "Sec-WebSocket-Accept: bm90IHRoZSByaWdodCBvbmU=\r\n\r\n",
       "Sec-WebSocket-Accept does not match"},
      {"HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
       "the handshake answer 101 has no Sec-WebSocket-Accept"},
      {"HTTP/1.1 101 OK\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n",
       "the handshake answer 101 has no Upgrade: websocket"},
      {"HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: close\r\n\r\n",
       "the handshake answer 101 has no Connection: Upgrade"},
      {"HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
       "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
       "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n",
       "the server chose the extension \"permessage-deflate\", which lookout did not offer"},
      {"SSH-2.0-OpenSSH_9.2\r\n\r\n", "the handshake answer is not HTTP: \"SSH-2.0-OpenSSH_9.2\""},
      {"HTTP/1.1 abc\r\n\r\n", "the handshake answer has no status code: \"HTTP/1.1 abc\""},
  };
  for (const auto& [text, cause] : bad)
    EXPECT_EQ(check_handshake_answer(parse_handshake_answer(text, 16384), key), cause) << text;
  // Garbage is refused before its end arrives, and a head without end at the cap.
  EXPECT_EQ(parse_handshake_answer("SSH-2.0-OpenSSH", 16384).state,
            HandshakeAnswer::State::kInvalid);
  const HandshakeAnswer endless =
      parse_handshake_answer("HTTP/1.1 101 OK\r\nX: " + std::string(20000, 'a'), 16384);
  EXPECT_EQ(endless.state, HandshakeAnswer::State::kInvalid);
  EXPECT_EQ(endless.error, "the handshake answer's head is longer than 16KiB");
}

TEST(WebSocketFrame, ClientFramesAreMasked) {
  const std::array<uint8_t, 4> mask{0x37, 0xfa, 0x21, 0x3d};
  // RFC 6455 section 5.7: a masked "Hello".
  EXPECT_EQ(websocket_client_frame(WsOpcode::kText, "Hello", mask),
            "\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58"s);
  const std::string mid = websocket_client_frame(WsOpcode::kBinary, std::string(300, 'a'), mask);
  EXPECT_EQ(mid.substr(0, 4), "\x82\xFE\x01\x2C"s);
  EXPECT_EQ(mid.size(), 4u + 4u + 300u);
  const std::string big = websocket_client_frame(WsOpcode::kText, std::string(70000, 'a'), mask);
  EXPECT_EQ(big.substr(0, 10), "\x81\xFF\0\0\0\0\0\x01\x11\x70"s);
  EXPECT_EQ(websocket_close_payload(1000, "bye"),
            "\x03\xE8"
            "bye"s);
  EXPECT_EQ(websocket_close_text(1008), "1008 policy");
  EXPECT_EQ(websocket_close_text(1001), "1001 going away");
  EXPECT_EQ(websocket_close_text(4000), "4000");
}

TEST(WebSocketFrame, ReadsMessagesAcrossFragmentsAndChunks) {
  WebSocketReader r(64 * 1024);
  const std::string stream = server_frame(0x01, "po") + server_frame(0x89, "are you there") +
                             server_frame(0x00, "n") + server_frame(0x80, "g") +
                             server_frame(0x82, "\x01\x02") + server_frame(0x8A, "") +
                             server_frame(0x81, std::string(200, 'z')) +
                             server_frame(0x88,
                                          "\x03\xF0"
                                          "bye"s);
  // One byte at a time: every event comes only once whole.
  std::vector<WsEvent> events;
  for (const char c : stream) {
    r.feed(std::string_view(&c, 1));
    for (WsEvent e = r.next(); e.type != WsEvent::Type::kNeedMore; e = r.next()) {
      events.push_back(e);
      if (e.type == WsEvent::Type::kClose) break;
    }
    if (!events.empty() && events.back().type == WsEvent::Type::kClose) break;
  }
  ASSERT_EQ(events.size(), 6u);
  EXPECT_EQ(events[0].type, WsEvent::Type::kPing);  // between the fragments
  EXPECT_EQ(events[0].payload, "are you there");
  EXPECT_EQ(events[1].type, WsEvent::Type::kText);
  EXPECT_EQ(events[1].payload, "pong");
  EXPECT_EQ(events[2].type, WsEvent::Type::kBinary);
  EXPECT_EQ(events[3].type, WsEvent::Type::kPong);
  EXPECT_EQ(events[4].payload, std::string(200, 'z'));
  EXPECT_EQ(events[5].type, WsEvent::Type::kClose);
  EXPECT_EQ(events[5].close_code, 1008);
  EXPECT_EQ(events[5].payload, "bye");
  EXPECT_EQ(r.next().type, WsEvent::Type::kClose);  // and stays closed
}

TEST(WebSocketFrame, RefusesWhatTheProtocolForbids) {
  const std::vector<std::pair<std::string, std::string>> bad{
      {"\x81\x82\0\0\0\0hi"s, "the server sent a masked frame"},
      {"\xC1\x01x"s, "a frame has reserved bits set, and no extension was agreed"},
      {"\x83\x00"s, "a frame has the opcode 3"},
      {"\x09\x00"s, "a control frame is fragmented or longer than 125 bytes"},
      {"\x89\x7E\x00\x7E"s, "a control frame is fragmented or longer than 125 bytes"},
      {"\x80\x01x"s, "a continuation frame came without a message"},
      {"\x01\x01x\x81\x01y"s, "a new message began before the last one ended"},
      {"\x88\x01x"s, "a close frame has a 1-byte payload"},
      {"\x81\x7F\x80\0\0\0\0\0\0\0"s, "a frame announces a length beyond 2^63"},
      {"\x81\x7F\0\0\0\0\0\x01\0\x01"s, "a message is larger than 64KiB"},
      // The cap counts a message's fragments together, before the payload arrives.
      {"\x01\x7E\x80\x00"s + std::string(0x8000, 'a') + "\x80\x7E\x80\x01"s,
       "a message is larger than 64KiB"},
  };
  for (const auto& [bytes, why] : bad) {
    WebSocketReader r(64 * 1024);
    r.feed(bytes);
    WsEvent e = r.next();
    EXPECT_EQ(e.type, WsEvent::Type::kError) << why;
    EXPECT_EQ(e.error, why);
  }
  WebSocketReader closed(1024);
  closed.feed("\x88\x00"s);
  const WsEvent e = closed.next();
  EXPECT_EQ(e.type, WsEvent::Type::kClose);
  EXPECT_FALSE(e.close_code);
}

TEST(WebSocketVerdict, JudgesTheFirstMessageAndNamesAMissingOne) {
  WebSocketSpec contains;
  contains.expect_contains = Secret::plain("pong");
  EXPECT_EQ(judge_websocket_message(contains, "a pong!"), "");
  EXPECT_EQ(judge_websocket_message(contains, "what?\n"),
            "expected a message containing \"pong\", got \"what? \"");
  EXPECT_EQ(websocket_no_message_cause(contains, Duration{5000}),
            "no message containing \"pong\" within 5s");
  WebSocketSpec regex;
  regex.expect_regex.re = std::make_shared<const RE2>("^po+ng$");
  EXPECT_EQ(judge_websocket_message(regex, "poooong"), "");
  EXPECT_EQ(judge_websocket_message(regex, "ping"),
            "expected a message matching /^po+ng$/, got \"ping\"");
  EXPECT_EQ(websocket_no_message_cause(regex, Duration{1500}),
            "no message matching /^po+ng$/ within 1s500ms");
  EXPECT_EQ(judge_websocket_message(WebSocketSpec{}, "anything"), "");
}

}  // namespace
}  // namespace lookout
