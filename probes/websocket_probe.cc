#include "probes/websocket_probe.h"

#include <fmt/format.h>
#include <openssl/rand.h>
#include <re2/re2.h>

#include <array>

#include "core/curl_bridge.h"
#include "core/text.h"
#include "core/units.h"
#include "probes/curl_errors.h"
#include "probes/http_exchange.h"
#include "probes/http_probe.h"

namespace lookout {
namespace {

constexpr size_t kWsMaxHead = 16 * 1024;
// The cap on one message and on all that is read after the handshake while waiting for a text
// message: a server that streams binary data or pings is not read without end.
constexpr size_t kWsMaxRead = 64 * 1024;

template <size_t N>
std::array<uint8_t, N> ws_random() {
  std::array<uint8_t, N> out{};
  // Should OpenSSL fail, zeros still make a valid key and mask: they guard intermediaries'
  // caches, not a secret.
  (void)RAND_bytes(out.data(), static_cast<int>(N));
  return out;
}

// A message as a cause quotes it: shortened, control characters as spaces.
std::string ws_quoted(std::string_view text) {
  std::string out = shorten(text, 100);
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) c = ' ';
  }
  return "\"" + out + "\"";
}

std::string ws_expectation(const WebSocketSpec& spec) {
  if (spec.expect_contains) return "containing " + ws_quoted(spec.expect_contains->reveal());
  if (spec.expect_regex) return fmt::format("matching /{}/", spec.expect_regex->pattern());
  return "";
}

}  // namespace

std::string judge_websocket_message(const WebSocketSpec& spec, std::string_view message) {
  if (spec.expect_contains) {
    if (message.find(spec.expect_contains->reveal()) != std::string_view::npos) return "";
  } else if (spec.expect_regex) {
    if (RE2::PartialMatch(message, *spec.expect_regex)) return "";
  } else {
    return "";
  }
  return fmt::format("expected a message {}, got {}", ws_expectation(spec), ws_quoted(message));
}

std::string websocket_no_message_cause(const WebSocketSpec& spec, Duration timeout) {
  return fmt::format("no message {} within {}", ws_expectation(spec), format_duration(timeout));
}

struct WebSocketProbe::Watch {
  uv_poll_t poll{};
  WebSocketProbe* owner = nullptr;
  int events = 0;
};

WebSocketProbe::WebSocketProbe(const MonitorConfig& m, ProbeContext& ctx,
                               std::shared_ptr<const Redactor> redactor)
    : ProbeSession(m, ctx, std::move(redactor)),
      spec_(m.spec_as<WebSocketSpec>()),
      url_(fmt::format("{}://{}/", spec_.tls ? "https" : "http", spec_.authority)),
      header_lines_(header_lines(spec_.headers)) {}

WebSocketProbe::~WebSocketProbe() { abort(); }

bool WebSocketProbe::begin() {
  easy_ = ctx_.curl.acquire();
  if (easy_ == nullptr) return false;
  CURL* e = easy_;
  errbuf_[0] = '\0';
  fd_ = CURL_SOCKET_BAD;
  phase_ = Phase::kConnecting;
  out_.clear();
  head_.clear();
  reader_.reset();
  read_after_handshake_ = 0;
  sent_message_ = false;
  peer_closed_ = false;
  peer_close_code_.reset();
  handshake_sent_us_ = 0;
  answer_us_.reset();
  binary_messages_ = 0;
  pings_ = 0;
  curl_easy_setopt(e, CURLOPT_URL, url_.c_str());
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  set_transfer_defaults(e, m_.timeout, spec_.ca_file, spec_.insecure_tls);
  ctx_.source.connect_from(e);
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(m_.timeout.count()));
  curl_easy_setopt(e, CURLOPT_CONNECT_ONLY, 1L);
  curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
  // ALPN offers only http/1.1: the upgrade is an HTTP/1.1 request.
  curl_easy_setopt(e, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf_);
  return ctx_.curl.add_connect_only(e, [this](CURLcode code, bool out_of_descriptors) {
    on_connected(code, out_of_descriptors);
  });
}

void WebSocketProbe::abort() {
  // A polite end of an open WebSocket: a close frame (the peer's code echoed), if it can go
  // out at once and no frame is half sent.
  if (easy_ != nullptr && phase_ == Phase::kMessages && out_.empty()) {
    std::string payload;
    if (!peer_closed_) {
      payload = websocket_close_payload(1000, "");
    } else if (peer_close_code_ && *peer_close_code_ != 1005 && *peer_close_code_ != 1006) {
      payload = websocket_close_payload(*peer_close_code_, "");
    }
    const std::string frame = websocket_client_frame(WsOpcode::kClose, payload, ws_random<4>());
    size_t n = 0;
    (void)curl_easy_send(easy_, frame.data(), frame.size(), &n);
  }
  phase_ = Phase::kConnecting;
  // The watch goes before the socket, which releasing the handle closes.
  if (watch_ != nullptr) {
    watch_->owner = nullptr;
    uv_poll_stop(&watch_->poll);
    uv_close(reinterpret_cast<uv_handle_t*>(&watch_->poll),
             [](uv_handle_t* h) { delete static_cast<Watch*>(h->data); });
    watch_ = nullptr;
  }
  fd_ = CURL_SOCKET_BAD;
  reader_.reset();
  ctx_.curl.release(std::exchange(easy_, nullptr));
}

void WebSocketProbe::curl_phases(PhaseTimings& t) const {
  curl_off_t connect = 0, tls = 0, dns = 0;
  curl_easy_getinfo(easy_, CURLINFO_NAMELOOKUP_TIME_T, &dns);
  curl_easy_getinfo(easy_, CURLINFO_CONNECT_TIME_T, &connect);
  curl_easy_getinfo(easy_, CURLINFO_APPCONNECT_TIME_T, &tls);
  if (connect > 0) {
    t.dns_us = dns;
    t.connect_us = std::max<curl_off_t>(0, connect - dns);
  }
  if (tls > 0) t.tls_us = std::max<curl_off_t>(0, tls - connect);
  t.first_byte_us = answer_us_;
}

ProbeResult WebSocketProbe::result_so_far() {
  ProbeResult r;
  if (easy_ != nullptr) curl_phases(r.timings);
  nlohmann::json detail{{"handshake", nullptr},
                        {"sent", sent_message_},
                        {"pings", pings_},
                        {"binary_messages", binary_messages_}};
  const HandshakeAnswer answer = parse_handshake_answer(head_, kWsMaxHead);
  if (answer.state == HandshakeAnswer::State::kComplete) detail["handshake"] = answer.status;
  r.detail = detail.dump();
  return r;
}

ProbeResult WebSocketProbe::timed_out() {
  ProbeResult r = result_so_far();
  const std::string after = format_duration(m_.timeout);
  switch (phase_) {
    case Phase::kConnecting: {
      curl_off_t connect = 0;
      curl_easy_getinfo(easy_, CURLINFO_CONNECT_TIME_T, &connect);
      CurlFailureContext c;
      c.source = ctx_.source.text();
      c.code = CURLE_OPERATION_TIMEDOUT;
      c.timeout = m_.timeout;
      c.timeout_phase =
          !tcp_connected(easy_, connect) ? "while connecting" : "during the TLS handshake";
      r.cause = curl_failure(c).cause;
      break;
    }
    case Phase::kHandshake:
      r.cause = out_.empty()
                    ? fmt::format("timed out after {} waiting for the handshake answer", after)
                    : fmt::format("timed out after {} sending the handshake", after);
      break;
    case Phase::kMessages:
      r.cause = spec_.expects_message()
                    ? websocket_no_message_cause(spec_, m_.timeout)
                    : fmt::format("timed out after {} sending the message", after);
      break;
  }
  return r;
}

void WebSocketProbe::fail(ErrorKind kind, std::string cause) {
  ProbeResult r = result_so_far();
  r.outcome = Outcome::kDown;
  r.kind = kind;
  r.cause = std::move(cause);
  // A message that was judged is an answer, with its latency.
  if (kind == ErrorKind::kExpectation) {
    r.timings.total_us = elapsed_us();
    r.samples_us.push_back(*r.timings.total_us);
  }
  finish(std::move(r));  // may destroy this
}

void WebSocketProbe::pass() {
  ProbeResult r = result_so_far();
  r.outcome = Outcome::kUp;
  r.kind = ErrorKind::kNone;
  r.timings.total_us = elapsed_us();
  r.samples_us.push_back(*r.timings.total_us);
  finish(std::move(r));  // may destroy this
}

void WebSocketProbe::on_connected(CURLcode code, bool out_of_descriptors) {
  if (code != CURLE_OK || out_of_descriptors) {
    curl_off_t connect = 0;
    curl_easy_getinfo(easy_, CURLINFO_CONNECT_TIME_T, &connect);
    CurlFailureContext c;
    c.source = ctx_.source.text();
    c.code = code;
    c.out_of_descriptors = out_of_descriptors;
    c.errbuf = errbuf_;
    c.timeout = m_.timeout;
    c.timeout_phase =
        !tcp_connected(easy_, connect) ? "while connecting" : "during the TLS handshake";
    c.host = spec_.authority.substr(0, spec_.authority.rfind(':'));
    c.http = !spec_.tls;
    CurlFailure f = curl_failure(c);
    fail(f.kind, std::move(f.cause));
    return;
  }
  if (curl_easy_getinfo(easy_, CURLINFO_ACTIVESOCKET, &fd_) != CURLE_OK || fd_ == CURL_SOCKET_BAD) {
    fail(ErrorKind::kInternal, "libcurl kept no connection to speak WebSocket on");
    return;
  }
  phase_ = Phase::kHandshake;
  key_ = websocket_key(ws_random<16>());
  out_ = websocket_upgrade_request(spec_.target, spec_.host_header, key_, header_lines_);
  pump();
}

bool WebSocketProbe::watch_socket() {
  if (watch_ == nullptr) {
    auto* w = new Watch;
    if (uv_poll_init_socket(ctx_.loop.raw(), &w->poll, fd_) != 0) {
      delete w;
      fail(ErrorKind::kInternal, "cannot watch the connection's socket");
      return false;
    }
    w->poll.data = w;
    w->owner = this;
    watch_ = w;
  }
  const int events = UV_READABLE | (out_.empty() ? 0 : UV_WRITABLE);
  if (events == watch_->events) return true;
  watch_->events = events;
  uv_poll_start(&watch_->poll, events, [](uv_poll_t* p, int status, int) {
    auto* w = static_cast<Watch*>(p->data);
    if (w->owner != nullptr) w->owner->on_ready(status);
  });
  return true;
}

void WebSocketProbe::on_ready(int /*status*/) {
  // An error on the socket shows in the next send or receive, with its errno.
  pump();
}

void WebSocketProbe::queue_frame(WsOpcode opcode, std::string_view payload) {
  out_ += websocket_client_frame(opcode, payload, ws_random<4>());
}

void WebSocketProbe::fail_transfer(CURLcode code) {
  CurlFailureContext c;
  c.source = ctx_.source.text();
  c.code = code;
  c.errbuf = errbuf_;
  CurlFailure f = curl_failure(c);
  fail(f.kind, std::move(f.cause));
}

bool WebSocketProbe::pump() {
  for (int round = 0; round < 2; ++round) {
    while (!out_.empty()) {
      size_t n = 0;
      const CURLcode code = curl_easy_send(easy_, out_.data(), out_.size(), &n);
      if (code == CURLE_AGAIN) break;
      if (code != CURLE_OK) {
        fail_transfer(code);
        return false;
      }
      out_.erase(0, n);
    }
    if (out_.empty() && phase_ == Phase::kHandshake && handshake_sent_us_ == 0)
      handshake_sent_us_ = elapsed_us();
    // Without expect.*, the handshake (and the message, once sent) is the whole run.
    if (out_.empty() && phase_ == Phase::kMessages && !spec_.expects_message()) {
      pass();
      return false;
    }
    if (round == 1) break;
    char buf[16 * 1024];
    // Without expect.*, nothing after the handshake is read: it alone decides the run.
    while (phase_ != Phase::kMessages || spec_.expects_message()) {
      size_t n = 0;
      const CURLcode code = curl_easy_recv(easy_, buf, sizeof buf, &n);
      if (code == CURLE_AGAIN) break;
      if (code != CURLE_OK) {
        fail_transfer(code);
        return false;
      }
      if (n == 0) {
        fail(phase_ == Phase::kHandshake ? ErrorKind::kProtocol : ErrorKind::kConnect,
             phase_ == Phase::kHandshake
                 ? "the server closed the connection without answering the handshake"
                 : "connection closed by peer without a close frame");
        return false;
      }
      if (!on_bytes(std::string_view(buf, n))) return false;
    }
  }
  return watch_socket();
}

bool WebSocketProbe::on_bytes(std::string_view bytes) {
  if (phase_ == Phase::kMessages) {
    read_after_handshake_ += bytes.size();
    if (read_after_handshake_ > kWsMaxRead) {
      fail(ErrorKind::kBodyTooLarge,
           fmt::format("read {} after the handshake without a text message",
                       format_size(kWsMaxRead)));
      return false;
    }
    reader_->feed(bytes);
    return on_events();
  }
  if (!answer_us_) answer_us_ = elapsed_us() - handshake_sent_us_;
  head_.append(bytes);
  return on_handshake_answer();
}

bool WebSocketProbe::on_handshake_answer() {
  const HandshakeAnswer answer = parse_handshake_answer(head_, kWsMaxHead);
  if (answer.state == HandshakeAnswer::State::kIncomplete) return true;
  const std::string cause = check_handshake_answer(answer, key_);
  if (!cause.empty()) {
    fail(answer.state == HandshakeAnswer::State::kComplete && answer.status != 101
             ? ErrorKind::kExpectation
             : ErrorKind::kProtocol,
         cause);
    return false;
  }
  const std::string rest = head_.substr(answer.length);
  head_.resize(answer.length);
  phase_ = Phase::kMessages;
  reader_ = std::make_unique<WebSocketReader>(kWsMaxRead);
  if (spec_.send) {
    queue_frame(WsOpcode::kText, spec_.send->reveal());
    sent_message_ = true;
  }
  return rest.empty() || !spec_.expects_message() || on_bytes(rest);
}

bool WebSocketProbe::on_events() {
  while (true) {
    WsEvent e = reader_->next();
    switch (e.type) {
      case WsEvent::Type::kNeedMore:
        return true;
      case WsEvent::Type::kText: {
        const std::string cause = judge_websocket_message(spec_, e.payload);
        if (cause.empty()) {
          pass();
        } else {
          fail(ErrorKind::kExpectation, cause);
        }
        return false;
      }
      case WsEvent::Type::kBinary:
        ++binary_messages_;
        break;
      case WsEvent::Type::kPing:
        ++pings_;
        queue_frame(WsOpcode::kPong, e.payload);
        break;
      case WsEvent::Type::kPong:
        break;
      case WsEvent::Type::kClose: {
        peer_closed_ = true;
        peer_close_code_ = e.close_code;
        std::string cause = fmt::format(
            "connection closed by peer ({})",
            e.close_code ? websocket_close_text(*e.close_code) : std::string("no status code"));
        if (!e.payload.empty()) cause += ": " + ws_quoted(e.payload);
        fail(ErrorKind::kConnect, std::move(cause));
        return false;
      }
      case WsEvent::Type::kError:
        fail(e.error.find("larger than") != std::string::npos ? ErrorKind::kBodyTooLarge
                                                              : ErrorKind::kProtocol,
             e.error);
        return false;
    }
  }
}

}  // namespace lookout
