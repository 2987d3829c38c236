#include "web/gated_server.h"

#include <fmt/format.h>
#include <openssl/err.h>
#include <sys/socket.h>

namespace lookout {
namespace {

// The accept loop calls enqueue for each socket; running the task at once keeps the loop's
// only work to accept and hand over.
class InlineTaskQueue : public httplib::TaskQueue {
 public:
  void enqueue(std::function<void()> fn) override { fn(); }
  void shutdown() override {}
};

std::string openssl_reason() {
  const unsigned long code = ERR_peek_last_error();
  const char* reason = code == 0 ? nullptr : ERR_reason_error_string(code);
  ERR_clear_error();
  return reason == nullptr ? "unknown error" : reason;
}

// The server's TLS context; empty with `error` set when the files do not serve.
SSL_CTX* make_tls_context(const TlsFiles& files, std::string& error) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (ctx == nullptr) {
    error = fmt::format("cannot create a TLS context: {}", openssl_reason());
    return nullptr;
  }
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  // No renegotiation (a client could make the gate do handshakes forever); a client closing
  // without close_notify is an ordinary end, as browsers do it; writes of one buffer may be
  // retried from wherever it then is.
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_IGNORE_UNEXPECTED_EOF |
                               SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION);
  SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
  if (SSL_CTX_use_certificate_chain_file(ctx, files.cert.c_str()) != 1) {
    error = fmt::format("cannot serve HTTPS: server.tls_cert {}: {}", files.cert, openssl_reason());
  } else if (SSL_CTX_use_PrivateKey_file(ctx, files.key.c_str(), SSL_FILETYPE_PEM) != 1) {
    error = fmt::format("cannot serve HTTPS: server.tls_key {}: {}", files.key, openssl_reason());
  } else if (SSL_CTX_check_private_key(ctx) != 1) {
    error =
        fmt::format("cannot serve HTTPS: server.tls_key {} is not the key of server.tls_cert {}",
                    files.key, files.cert);
  }
  if (!error.empty()) {
    SSL_CTX_free(ctx);
    return nullptr;
  }
  return ctx;
}

}  // namespace

GatedServer::GatedServer(const GateLimits& limits, const TlsFiles* tls)
    : tls_(tls == nullptr ? nullptr : make_tls_context(*tls, tls_error_), &SSL_CTX_free),
      gate_(
          limits,
          [this](httplib::Stream& strm, bool close_connection, bool& connection_closed) {
            // The gate already answered 100 Continue where the client asked and holds the
            // whole body: cpp-httplib must not send a second one.
            return process_request(strm, close_connection, connection_closed,
                                   [](httplib::Request& req) { req.headers.erase("Expect"); });
          },
          tls_.get()) {
  new_task_queue = [] { return new InlineTaskQueue; };
  gate_.start();
}

GatedServer::~GatedServer() {
  stop();
  gate_.stop();
}

void GatedServer::deepen_backlog() {
  const socket_t sock = svr_sock_;
  if (sock != INVALID_SOCKET) ::listen(sock, SOMAXCONN);
}

void GatedServer::stop_gate() { gate_.stop(); }

bool GatedServer::process_and_close_socket(socket_t sock) {
  gate_.admit(sock);
  return true;
}

}  // namespace lookout
