// cpp-httplib's Server with the accept gate in front of its workers: the listen thread only
// accepts and hands each socket to the gate (which runs the TLS handshake for HTTPS); cpp-httplib
// then parses, routes and answers complete requests on the gate's workers.
#pragma once

#include <httplib.h>
#include <openssl/ssl.h>

#include <memory>
#include <string>

#include "web/accept_gate.h"

namespace lookout {

// HTTPS: a certificate chain and its key, PEM files.
struct TlsFiles {
  std::string cert, key;
};

class GatedServer : public httplib::Server {
 public:
  // Plain HTTP without `tls`; else HTTPS only, TLS 1.2 or newer.
  explicit GatedServer(const GateLimits& limits, const TlsFiles* tls = nullptr);
  ~GatedServer() override;

  // False when the certificate or key could not be loaded; tls_error() says why.
  bool is_valid() const override { return tls_error_.empty(); }
  const std::string& tls_error() const { return tls_error_; }
  // After bind_to_port: a deeper accept queue than cpp-httplib's 5, so that a burst of
  // connections waits in the kernel rather than being dropped before the gate can judge it.
  void deepen_backlog();
  // After stop() and the listen thread's end.
  void stop_gate();
  GateCounts counts() const { return gate_.counts(); }

 private:
  // Runs on the listen thread (the task queue runs tasks inline): never blocks.
  bool process_and_close_socket(socket_t sock) override;

  std::string tls_error_;
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> tls_{nullptr, &SSL_CTX_free};
  AcceptGate gate_;
};

}  // namespace lookout
