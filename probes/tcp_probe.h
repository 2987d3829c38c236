// The tcp probe: the host's addresses through c-ares (/etc/hosts first), a connection to each
// in turn on the loop until one takes it, optionally a TLS handshake through OpenSSL over
// memory BIOs (the loop does the socket I/O), then `send` and the reply read until
// expect.regex matches, the peer closes, max_body arrives or the run's deadline passes. The
// certificate is judged by the cert kind's rules (probes/cert_check.h), in the same words.
#pragma once

#include <openssl/ssl.h>
#include <sys/socket.h>
#include <uv.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "config/kinds/tcp_spec.h"
#include "core/ares_bridge.h"
#include "probes/cert_check.h"
#include "probes/probe_session.h"
#include "probes/tcp_reply.h"

namespace lookout {

class TcpProbe final : public ProbeSession {
 public:
  TcpProbe(const MonitorConfig& m, ProbeContext& ctx, std::shared_ptr<const Redactor> redactor);
  ~TcpProbe() override;

  // Called by OpenSSL during the handshake (public for the C callback).
  void on_verify(int ok, X509_STORE_CTX* store);

 private:
  // The socket and its pending requests: libuv frees it in its close callback, which may come
  // after the probe is gone, so it holds the probe only while a run uses it.
  struct Conn;
  struct Write;
  enum class Phase { kResolving, kConnecting, kHandshake, kSending, kReading };

  bool begin() override;
  void abort() override;
  ProbeResult timed_out() override;

  static void on_connect_cb(uv_connect_t* req, int status);
  static void on_alloc_cb(uv_handle_t* handle, size_t suggested, uv_buf_t* buf);
  static void on_read_cb(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
  static void on_write_cb(uv_write_t* req, int status);
  static void on_close_cb(uv_handle_t* handle);

  // Each of these may end the run (finish() may destroy the probe): none touches the probe
  // after a call that ended it, and those returning bool say "still running".
  void on_resolved(int status, std::vector<sockaddr_storage> addresses);
  void connect_next();
  void on_connected();
  void start_tls();
  void tls_handshake();
  void on_handshake_done();
  void ready();
  bool start_reading();
  bool send_request();
  bool flush_tls(bool completes_send);
  // A write request on the connection; write_out hands it and `buf` (what it sends) to libuv,
  // false (the run ended, `w` freed) when libuv refuses.
  Write* new_write(bool completes_send);
  bool write_out(Write* w, uv_buf_t buf);
  void on_written(int status, bool completes_send);
  void on_read(ssize_t nread, const char* data);
  void tls_drain();
  bool take_bytes(const char* data, size_t n);
  void on_peer_closed();
  bool make_ssl_ctx(std::string& error);
  void close_conn();

  ProbeResult base_result() const;
  ProbeResult passed() const;
  ProbeResult failed(ErrorKind kind, std::string cause) const;
  ProbeResult mismatch(TcpReplyEnd end) const;
  ProbeResult tls_failed(const char* when) const;
  std::string pattern_shown() const;

  const TcpSpec& spec_;                      // m_'s
  CertCheck cert_check_;                     // host, port and windows for judge_certificate
  std::optional<sockaddr_storage> literal_;  // the host is an IP address: no lookup
  std::unique_ptr<AresChannel> channel_;
  SSL_CTX* ssl_ctx_ = nullptr;  // made once, at the first TLS run

  // The run.
  Phase phase_ = Phase::kResolving;
  bool resolving_ = false;
  std::vector<sockaddr_storage> addresses_;
  size_t next_address_ = 0;
  int tried_ = 0;
  int last_error_ = 0;
  bool source_failed_ = false;  // last_error_ is about [cluster] source_address
  std::string address_;         // "IP:port" being tried or connected to
  Conn* conn_ = nullptr;
  SSL* ssl_ = nullptr;
  BIO* rbio_ = nullptr;  // owned by ssl_: what came from the peer
  BIO* wbio_ = nullptr;  // owned by ssl_: what goes to it
  CertObservation obs_;
  bool saw_chain_ = false;
  std::optional<CertVerdict> cert_verdict_;
  std::optional<int64_t> resolved_us_, connected_us_, handshaken_us_, first_byte_us_;
  int64_t request_us_ = 0;  // when the request was sent (or the reply became due)
  uint64_t bytes_sent_ = 0;
  std::string reply_;  // at most max_body bytes
};

}  // namespace lookout
