// The websocket probe. libcurl 7.88 has no ws:// support, so libcurl connects (and for wss://
// does TLS and the certificate checks) with CONNECT_ONLY through the loop's multi; lookout
// then speaks the RFC 6455 handshake and frames over that connection with curl_easy_send and
// curl_easy_recv, driven by a uv_poll on the connection's socket, never blocking.
#pragma once

#include <curl/curl.h>

#include <memory>
#include <optional>
#include <string>

#include "config/config.h"
#include "config/kinds/websocket_spec.h"
#include "probes/probe_session.h"
#include "probes/websocket_frame.h"

namespace lookout {

// The verdict on the first text message: "" when it passes expect.*, else the cause. Pure.
std::string judge_websocket_message(const WebSocketSpec& spec, std::string_view message);
// The cause when no text message came before the deadline: `no message containing "pong"
// within 5s`. Pure.
std::string websocket_no_message_cause(const WebSocketSpec& spec, Duration timeout);

class WebSocketProbe final : public ProbeSession {
 public:
  WebSocketProbe(const MonitorConfig& m, ProbeContext& ctx,
                 std::shared_ptr<const Redactor> redactor);
  ~WebSocketProbe() override;

  // The socket is ready (public for the uv_poll callback).
  void on_ready(int status);

 private:
  enum class Phase { kConnecting, kHandshake, kMessages };
  struct Watch;

  bool begin() override;
  void abort() override;
  ProbeResult timed_out() override;

  void on_connected(CURLcode code, bool out_of_descriptors);
  // Writes what is queued and reads what has arrived, until libcurl would block; false when
  // the run ended (then nothing of this may be touched).
  bool pump();
  bool on_bytes(std::string_view bytes);
  bool on_handshake_answer();
  bool on_events();
  // Waits for the socket to be readable, and writable while bytes wait to go out.
  bool watch_socket();
  void queue_frame(WsOpcode opcode, std::string_view payload);
  // Ends the run down with this cause, the phase timings so far and the detail.
  void fail(ErrorKind kind, std::string cause);
  // A send or receive that libcurl refused, with its cause.
  void fail_transfer(CURLcode code);
  void pass();
  ProbeResult result_so_far();
  void curl_phases(PhaseTimings& t) const;

  const WebSocketSpec& spec_;  // m_'s
  std::string url_;            // http(s)://authority/ for libcurl's connect
  std::vector<std::string> header_lines_;

  // One run's state.
  CURL* easy_ = nullptr;
  char errbuf_[CURL_ERROR_SIZE]{};
  curl_socket_t fd_ = CURL_SOCKET_BAD;
  Watch* watch_ = nullptr;
  Phase phase_ = Phase::kConnecting;
  std::string key_;
  std::string out_;   // bytes to send, in order
  std::string head_;  // the handshake answer as it arrives
  std::unique_ptr<WebSocketReader> reader_;
  uint64_t read_after_handshake_ = 0;
  bool sent_message_ = false;
  bool peer_closed_ = false;
  std::optional<uint16_t> peer_close_code_;
  int64_t handshake_sent_us_ = 0;
  std::optional<int64_t> answer_us_;  // the handshake's answer, from its request sent
  int binary_messages_ = 0;
  int pings_ = 0;
};

}  // namespace lookout
