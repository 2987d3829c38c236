#include "probes/tcp_probe.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <re2/re2.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <nlohmann/json.hpp>

#include "core/units.h"
#include "probes/cert_observe.h"

namespace lookout {

struct TcpProbe::Conn {
  uv_tcp_t tcp{};
  uv_connect_t connect{};
  TcpProbe* owner = nullptr;  // null once the run let go of it
};

struct TcpProbe::Write {
  uv_write_t req{};
  Conn* conn = nullptr;
  std::string data;  // TLS records; empty when the bytes are the spec's own `send`
  bool completes_send = false;
};

namespace {

constexpr int kTcpDnsTries = 2;
constexpr size_t kTcpScratchSize = 64 * 1024;
constexpr const char* kTcpNoSocket =
    "lookout is out of file descriptors (it could not open a socket)";

// Every read lands here first: the loop thread handles one read at a time, and a run keeps
// only the bytes it judges (its reply), so no run holds a read buffer of its own.
char* tcp_scratch() {
  static thread_local char buf[kTcpScratchSize];
  return buf;
}

int tcp_ssl_index() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

int tcp_verify_callback(int ok, X509_STORE_CTX* store) {
  auto* ssl =
      static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
  if (ssl != nullptr) {
    auto* self = static_cast<TcpProbe*>(SSL_get_ex_data(ssl, tcp_ssl_index()));
    if (self != nullptr) self->on_verify(ok, store);
  }
  // The verdict is lookout's, after the handshake, with the details in hand (as the cert
  // kind's).
  return 1;
}

// The system's trusted certificates, read once for every tcp monitor that uses them: a store
// per monitor would read and hold the whole bundle a thousand times.
X509_STORE* tcp_system_store(std::string& error) {
  static X509_STORE* store = [] {
    X509_STORE* s = X509_STORE_new();
    if (s != nullptr && X509_STORE_set_default_paths(s) != 1) {
      X509_STORE_free(s);
      s = nullptr;
    }
    return s;
  }();
  if (store == nullptr) error = "cannot read the system's trusted certificates";
  return store;
}

std::string tcp_openssl_reason(const char* fallback) {
  const unsigned long e = ERR_peek_error();
  const char* reason = e != 0 ? ERR_reason_error_string(e) : nullptr;
  std::string out = reason != nullptr ? reason : fallback;
  ERR_clear_error();
  return out;
}

std::string tcp_address_text(const sockaddr_storage& a) {
  char ip[INET6_ADDRSTRLEN] = {};
  if (a.ss_family == AF_INET6) {
    const auto* s6 = reinterpret_cast<const sockaddr_in6*>(&a);
    inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof ip);
    return fmt::format("[{}]:{}", ip, ntohs(s6->sin6_port));
  }
  const auto* s4 = reinterpret_cast<const sockaddr_in*>(&a);
  inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof ip);
  return fmt::format("{}:{}", ip, ntohs(s4->sin_port));
}

}  // namespace

TcpProbe::TcpProbe(const MonitorConfig& m, ProbeContext& ctx,
                   std::shared_ptr<const Redactor> redactor)
    : ProbeSession(m, ctx, std::move(redactor)),
      spec_(m.spec_as<TcpSpec>()),
      literal_(literal_address(spec_.host, spec_.port)) {
  cert_check_.host = spec_.host;
  cert_check_.port = spec_.port;
  cert_check_.warn_within = spec_.warn_within;
  cert_check_.fail_within = spec_.fail_within;
}

TcpProbe::~TcpProbe() {
  abort();
  if (ssl_ctx_ != nullptr) SSL_CTX_free(ssl_ctx_);
}

void TcpProbe::on_verify(int ok, X509_STORE_CTX* store) {
  if (observe_verification(ok, store, spec_.host, obs_)) saw_chain_ = true;
}

bool TcpProbe::make_ssl_ctx(std::string& error) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (ctx == nullptr) {
    error = "cannot set up TLS: " + tcp_openssl_reason("out of memory");
    return false;
  }
  // Every run makes a full handshake and so sees the certificate.
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  if (spec_.skip_verify) {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  } else {
    if (spec_.ca_file.empty()) {
      X509_STORE* store = tcp_system_store(error);
      if (store == nullptr) {
        SSL_CTX_free(ctx);
        return false;
      }
      SSL_CTX_set1_cert_store(ctx, store);
    } else if (SSL_CTX_load_verify_locations(ctx, spec_.ca_file.c_str(), nullptr) != 1) {
      error = fmt::format("cannot read ca_file {}: {}", spec_.ca_file,
                          tcp_openssl_reason("not a PEM certificate file"));
      SSL_CTX_free(ctx);
      return false;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, tcp_verify_callback);
  }
  ssl_ctx_ = ctx;
  return true;
}

bool TcpProbe::begin() {
  phase_ = Phase::kResolving;
  addresses_.clear();
  next_address_ = 0;
  tried_ = 0;
  last_error_ = 0;
  address_.clear();
  obs_ = CertObservation{};
  saw_chain_ = false;
  cert_verdict_.reset();
  resolved_us_.reset();
  connected_us_.reset();
  handshaken_us_.reset();
  first_byte_us_.reset();
  request_us_ = 0;
  bytes_sent_ = 0;
  reply_.clear();
  if (spec_.tls && ssl_ctx_ == nullptr) {
    std::string error;
    if (!make_ssl_ctx(error)) {
      next_turn([this, error] { finish(failed(ErrorKind::kTls, error)); });
      return true;
    }
  }
  if (literal_) {
    addresses_.push_back(*literal_);
    phase_ = Phase::kConnecting;
    next_turn([this] { connect_next(); });
    return true;
  }
  if (!channel_) {
    // Each try gets a share of the timeout, so c-ares gives up (and says so) before the run's
    // deadline does.
    auto channel = std::make_unique<AresChannel>(
        ctx_.loop, std::max(Duration{50}, m_.timeout / (kTcpDnsTries + 1)), kTcpDnsTries);
    std::string error;
    if (!channel->init("", error)) {
      spdlog::error("monitor {}: {}", m_.name, error);
      return false;
    }
    channel_ = std::move(channel);
  }
  resolving_ = true;
  channel_->resolve(spec_.host, AF_UNSPEC, spec_.port,
                    [this](int status, std::vector<sockaddr_storage> addresses) {
                      on_resolved(status, std::move(addresses));
                    });
  return true;
}

void TcpProbe::abort() {
  if (resolving_ && channel_) channel_->cancel();
  resolving_ = false;
  close_conn();
  if (ssl_ != nullptr) {
    SSL_free(ssl_);  // and its BIOs
    ssl_ = nullptr;
    rbio_ = wbio_ = nullptr;
  }
}

void TcpProbe::close_conn() {
  Conn* c = std::exchange(conn_, nullptr);
  if (c == nullptr) return;
  c->owner = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(&c->tcp), &TcpProbe::on_close_cb);
}

void TcpProbe::on_close_cb(uv_handle_t* handle) { delete static_cast<Conn*>(handle->data); }

void TcpProbe::on_resolved(int status, std::vector<sockaddr_storage> addresses) {
  resolving_ = false;
  resolved_us_ = elapsed_us();
  switch (status) {
    case ARES_SUCCESS:
      if (!addresses.empty()) break;
      [[fallthrough]];
    case ARES_ENOTFOUND:
    case ARES_ENODATA:
    case ARES_ENONAME:
      finish(failed(ErrorKind::kDns, fmt::format("cannot resolve host {}", spec_.host)));
      return;
    case AresChannel::kOutOfDescriptors:
      finish(failed(ErrorKind::kResources, kTcpNoSocket));
      return;
    case ARES_ETIMEOUT:
      finish(failed(ErrorKind::kDns,
                    fmt::format("cannot resolve host {}: no answer from DNS", spec_.host)));
      return;
    default:
      finish(failed(ErrorKind::kDns,
                    fmt::format("cannot resolve host {}: {}", spec_.host, ares_strerror(status))));
      return;
  }
  // From a source address only its family can connect: the others are neither tried nor named.
  ctx_.source.keep_reachable(addresses);
  if (addresses.empty()) {
    finish(failed(ErrorKind::kConnect, ctx_.source.failure(-EAFNOSUPPORT)));
    return;
  }
  addresses_ = std::move(addresses);
  phase_ = Phase::kConnecting;
  connect_next();
}

// The addresses in the order the lookup gave them, as getaddrinfo's callers try them: a
// refused or unreachable one moves on to the next.
void TcpProbe::connect_next() {
  while (next_address_ < addresses_.size()) {
    const sockaddr_storage& a = addresses_[next_address_++];
    address_ = tcp_address_text(a);
    ++tried_;
    auto* c = new Conn;
    c->tcp.data = c;
    c->connect.data = c;
    int rc = uv_tcp_init(ctx_.loop.raw(), &c->tcp);
    if (rc != 0) {
      delete c;
      last_error_ = rc;
      continue;
    }
    rc = ctx_.source.bind(&c->tcp, a.ss_family);
    if (rc != 0) {
      uv_close(reinterpret_cast<uv_handle_t*>(&c->tcp), &TcpProbe::on_close_cb);
      last_error_ = rc;
      source_failed_ = true;
      continue;
    }
    source_failed_ = false;
    rc = uv_tcp_connect(&c->connect, &c->tcp, reinterpret_cast<const sockaddr*>(&a),
                        &TcpProbe::on_connect_cb);
    if (rc != 0) {
      uv_close(reinterpret_cast<uv_handle_t*>(&c->tcp), &TcpProbe::on_close_cb);
      last_error_ = rc;
      if (rc == UV_EMFILE || rc == UV_ENFILE) break;
      continue;
    }
    c->owner = this;
    conn_ = c;
    return;
  }
  if (last_error_ == UV_EMFILE || last_error_ == UV_ENFILE) {
    finish(failed(ErrorKind::kResources, kTcpNoSocket));
    return;
  }
  std::string cause =
      source_failed_ ? ctx_.source.failure(last_error_)
      : last_error_ == UV_ECONNREFUSED
          ? fmt::format("connection refused by {}", address_)
          : fmt::format("cannot connect to {}: {}", address_, uv_strerror(last_error_));
  if (tried_ > 1) cause += fmt::format(" (the last of {} addresses of {})", tried_, spec_.host);
  finish(failed(ErrorKind::kConnect, std::move(cause)));
}

void TcpProbe::on_connect_cb(uv_connect_t* req, int status) {
  auto* c = static_cast<Conn*>(req->data);
  TcpProbe* self = c->owner;
  if (self == nullptr) return;  // closed by the run's end
  if (status < 0) {
    self->close_conn();
    self->last_error_ = status;
    self->connect_next();
    return;
  }
  self->on_connected();
}

void TcpProbe::on_connected() {
  connected_us_ = elapsed_us();
  uv_tcp_nodelay(&conn_->tcp, 1);
  if (spec_.tls) {
    start_tls();
  } else {
    ready();
  }
}

void TcpProbe::start_tls() {
  phase_ = Phase::kHandshake;
  ssl_ = SSL_new(ssl_ctx_);
  if (ssl_ == nullptr) {
    finish(failed(ErrorKind::kInternal, "cannot set up TLS: " + tcp_openssl_reason("no memory")));
    return;
  }
  rbio_ = BIO_new(BIO_s_mem());
  wbio_ = BIO_new(BIO_s_mem());
  SSL_set_bio(ssl_, rbio_, wbio_);
  SSL_set_ex_data(ssl_, tcp_ssl_index(), this);
  SSL_set_connect_state(ssl_);
  // SNI carries names only.
  if (!literal_) SSL_set_tlsext_host_name(ssl_, spec_.host.c_str());
  if (!spec_.skip_verify) {
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl_);
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    if (literal_) {
      X509_VERIFY_PARAM_set1_ip_asc(param, spec_.host.c_str());
    } else {
      X509_VERIFY_PARAM_set1_host(param, spec_.host.c_str(), spec_.host.size());
    }
  }
  if (!start_reading()) return;
  tls_handshake();
}

void TcpProbe::tls_handshake() {
  ERR_clear_error();
  const int rc = SSL_do_handshake(ssl_);
  const int err = rc == 1 ? SSL_ERROR_NONE : SSL_get_error(ssl_, rc);
  if (err != SSL_ERROR_NONE && err != SSL_ERROR_WANT_READ) {
    finish(tls_failed("handshake"));
    return;
  }
  if (!flush_tls(false)) return;
  if (rc == 1) on_handshake_done();
}

void TcpProbe::on_handshake_done() {
  handshaken_us_ = elapsed_us();
  if (!spec_.skip_verify) {
    cert_verdict_ = judge_certificate(cert_check_, obs_, ctx_.clock.wall());
    if (cert_verdict_->outcome == Outcome::kDown) {
      finish(failed(cert_verdict_->kind, cert_verdict_->cause));
      return;
    }
  }
  ready();
}

// Connected (and past the handshake): the request, then the reply when one is expected.
void TcpProbe::ready() {
  request_us_ = elapsed_us();
  if (!spec_.expect_regex && ssl_ != nullptr) {
    // Nothing read is judged; what the peer sends is left unread.
    uv_read_stop(reinterpret_cast<uv_stream_t*>(&conn_->tcp));
  }
  if (spec_.send) {
    phase_ = Phase::kSending;
    if (!send_request()) return;
  }
  if (!spec_.expect_regex) {
    // Up once sent (on_written), or now when there is nothing to send.
    if (!spec_.send) finish(passed());
    return;
  }
  phase_ = Phase::kReading;
  if (ssl_ == nullptr) {
    start_reading();
    return;
  }
  // Bytes that came with the end of the handshake are already in.
  tls_drain();
}

bool TcpProbe::start_reading() {
  const int rc = uv_read_start(reinterpret_cast<uv_stream_t*>(&conn_->tcp), &TcpProbe::on_alloc_cb,
                               &TcpProbe::on_read_cb);
  if (rc != 0) {
    finish(failed(ErrorKind::kConnect,
                  fmt::format("cannot read from {}: {}", address_, uv_strerror(rc))));
    return false;
  }
  return true;
}

bool TcpProbe::send_request() {
  const std::string& bytes = spec_.send->reveal();
  bytes_sent_ = bytes.size();
  if (ssl_ != nullptr) {
    ERR_clear_error();
    if (SSL_write(ssl_, bytes.data(), static_cast<int>(bytes.size())) <= 0) {
      finish(tls_failed("send"));
      return false;
    }
    return flush_tls(true);
  }
  // The spec's own bytes, not a copy: libuv reads them only until the write ends or the
  // socket is closed, and the spec outlives the probe.
  return write_out(new_write(true), uv_buf_init(const_cast<char*>(bytes.data()),
                                                static_cast<unsigned>(bytes.size())));
}

// What OpenSSL wrote into its memory BIO goes out on the socket.
bool TcpProbe::flush_tls(bool completes_send) {
  const size_t pending = BIO_ctrl_pending(wbio_);
  if (pending == 0) return true;
  Write* w = new_write(completes_send);
  w->data.resize(pending);
  const int n = BIO_read(wbio_, w->data.data(), static_cast<int>(pending));
  w->data.resize(static_cast<size_t>(std::max(0, n)));
  return write_out(w, uv_buf_init(w->data.data(), static_cast<unsigned>(w->data.size())));
}

TcpProbe::Write* TcpProbe::new_write(bool completes_send) {
  auto* w = new Write;
  w->req.data = w;
  w->conn = conn_;
  w->completes_send = completes_send;
  return w;
}

bool TcpProbe::write_out(Write* w, uv_buf_t buf) {
  const int rc = uv_write(&w->req, reinterpret_cast<uv_stream_t*>(&conn_->tcp), &buf, 1,
                          &TcpProbe::on_write_cb);
  if (rc == 0) return true;
  delete w;
  finish(
      failed(ErrorKind::kConnect, fmt::format("cannot send to {}: {}", address_, uv_strerror(rc))));
  return false;
}

void TcpProbe::on_write_cb(uv_write_t* req, int status) {
  auto* w = static_cast<Write*>(req->data);
  TcpProbe* self = w->conn->owner;
  const bool completes_send = w->completes_send;
  delete w;
  if (self != nullptr) self->on_written(status, completes_send);
}

void TcpProbe::on_written(int status, bool completes_send) {
  if (status < 0) {
    finish(failed(ErrorKind::kConnect,
                  status == UV_EPIPE || status == UV_ECONNRESET
                      ? fmt::format("connection reset by {} while sending", address_)
                      : fmt::format("cannot send to {}: {}", address_, uv_strerror(status))));
    return;
  }
  if (completes_send && !spec_.expect_regex) finish(passed());
}

void TcpProbe::on_alloc_cb(uv_handle_t*, size_t, uv_buf_t* buf) {
  *buf = uv_buf_init(tcp_scratch(), kTcpScratchSize);
}

void TcpProbe::on_read_cb(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  auto* c = static_cast<Conn*>(stream->data);
  if (c->owner != nullptr) c->owner->on_read(nread, buf->base);
}

void TcpProbe::on_read(ssize_t nread, const char* data) {
  if (nread == 0) return;
  if (nread == UV_EOF) {
    on_peer_closed();
    return;
  }
  if (nread < 0) {
    if (phase_ == Phase::kHandshake) {
      finish(failed(ErrorKind::kTls, fmt::format("TLS handshake with {} failed: {}", address_,
                                                 uv_strerror(static_cast<int>(nread)))));
    } else {
      finish(failed(ErrorKind::kConnect,
                    nread == UV_ECONNRESET
                        ? fmt::format("connection reset by {} after {} bytes of reply", address_,
                                      reply_.size())
                        : fmt::format("cannot read from {}: {}", address_,
                                      uv_strerror(static_cast<int>(nread)))));
    }
    return;
  }
  if (ssl_ == nullptr) {
    take_bytes(data, static_cast<size_t>(nread));
    return;
  }
  BIO_write(rbio_, data, static_cast<int>(nread));
  if (phase_ == Phase::kHandshake) {
    tls_handshake();
  } else {
    tls_drain();
  }
}

void TcpProbe::tls_drain() {
  for (;;) {
    ERR_clear_error();
    char* buf = tcp_scratch();
    const int n = SSL_read(ssl_, buf, static_cast<int>(kTcpScratchSize));
    if (n > 0) {
      if (!take_bytes(buf, static_cast<size_t>(n))) return;
      continue;
    }
    switch (SSL_get_error(ssl_, n)) {
      case SSL_ERROR_WANT_READ:
        flush_tls(false);  // a reply of OpenSSL's own (a key update), if any
        return;
      case SSL_ERROR_ZERO_RETURN:
        on_peer_closed();
        return;
      default:
        finish(tls_failed("read"));
        return;
    }
  }
}

// Keeps what is judged; false when that ended the run.
bool TcpProbe::take_bytes(const char* data, size_t n) {
  if (!spec_.expect_regex) return true;
  if (!first_byte_us_) first_byte_us_ = elapsed_us() - request_us_;
  const size_t room = spec_.max_body - std::min<size_t>(spec_.max_body, reply_.size());
  reply_.append(data, std::min(n, room));
  if (RE2::PartialMatch(reply_, *spec_.expect_regex)) {
    finish(passed());
    return false;
  }
  if (reply_.size() >= spec_.max_body) {
    finish(mismatch(TcpReplyEnd::kMaxBody));
    return false;
  }
  return true;
}

void TcpProbe::on_peer_closed() {
  if (phase_ == Phase::kHandshake) {
    finish(failed(
        ErrorKind::kTls,
        fmt::format("TLS handshake with {} failed: the peer closed the connection", address_)));
    return;
  }
  if (!spec_.expect_regex) return;  // only the write is waited for
  finish(mismatch(TcpReplyEnd::kClosed));
}

ProbeResult TcpProbe::timed_out() {
  ProbeResult r = base_result();
  const std::string after = fmt::format("timeout after {}", format_duration(m_.timeout));
  switch (phase_) {
    case Phase::kResolving:
      r.cause = fmt::format("{} resolving {}", after, spec_.host);
      break;
    case Phase::kConnecting:
      r.cause = fmt::format("{} connecting to {}", after, address_);
      break;
    case Phase::kHandshake:
      r.cause = fmt::format("{} during the TLS handshake with {}", after, address_);
      break;
    case Phase::kSending:
      r.cause = fmt::format("{} sending to {}", after, address_);
      break;
    case Phase::kReading:
      r.cause = reply_.empty()
                    ? fmt::format("{} waiting for the reply from {}", after, address_)
                    : fmt::format("{} waiting for more of the reply from {}: {}", after, address_,
                                  tcp_mismatch_cause(pattern_shown(), reply_, TcpReplyEnd::kTimeout,
                                                     spec_.max_body));
      break;
  }
  return r;
}

std::string TcpProbe::pattern_shown() const {
  return spec_.expect_regex_secret ? std::string(kSecretInCause)
                                   : fmt::format("/{}/", spec_.expect_regex->pattern());
}

ProbeResult TcpProbe::base_result() const {
  ProbeResult r;
  r.timings.dns_us = resolved_us_;
  if (connected_us_) r.timings.connect_us = *connected_us_ - resolved_us_.value_or(0);
  if (handshaken_us_) r.timings.tls_us = *handshaken_us_ - connected_us_.value_or(0);
  r.timings.first_byte_us = first_byte_us_;
  if (cert_verdict_) r.cert_not_after = cert_verdict_->not_after;
  nlohmann::json d{
      {"address", address_.empty() ? nlohmann::json(nullptr) : nlohmann::json(address_)},
      {"addresses_tried", tried_},
      {"tls", spec_.tls},
      {"bytes_sent", bytes_sent_},
      {"bytes_read", reply_.size()}};
  if (ssl_ != nullptr && handshaken_us_) d["tls_version"] = SSL_get_version(ssl_);
  if (saw_chain_) d["chain"] = chain_json(obs_.chain);
  r.detail = d.dump();
  // A subject names the host, which may be a secret.
  if (redactor_) r.detail = redactor_->apply(std::move(r.detail));
  return r;
}

ProbeResult TcpProbe::passed() const {
  ProbeResult r = base_result();
  r.outcome = Outcome::kUp;
  r.kind = ErrorKind::kNone;
  // A certificate that expires soon makes the run degraded, as it does a cert run.
  if (cert_verdict_ && cert_verdict_->outcome != Outcome::kUp) {
    r.outcome = cert_verdict_->outcome;
    r.kind = cert_verdict_->kind;
    r.cause = cert_verdict_->cause;
  }
  r.timings.total_us = elapsed_us();
  r.samples_us.push_back(*r.timings.total_us);
  return r;
}

ProbeResult TcpProbe::failed(ErrorKind kind, std::string cause) const {
  ProbeResult r = base_result();
  r.outcome = Outcome::kDown;
  r.kind = kind;
  r.cause = std::move(cause);
  return r;
}

ProbeResult TcpProbe::mismatch(TcpReplyEnd end) const {
  ProbeResult r = failed(reply_.empty() ? ErrorKind::kProtocol : ErrorKind::kExpectation,
                         tcp_mismatch_cause(pattern_shown(), reply_, end, spec_.max_body));
  // A reply came: the run has a latency, as an http run with the wrong status has.
  if (!reply_.empty()) {
    r.timings.total_us = elapsed_us();
    r.samples_us.push_back(*r.timings.total_us);
  }
  return r;
}

ProbeResult TcpProbe::tls_failed(const char* when) const {
  const bool handshake = std::string_view(when) == "handshake";
  return failed(ErrorKind::kTls,
                handshake ? fmt::format("TLS handshake with {} failed: {}", address_,
                                        tcp_openssl_reason("the connection failed"))
                          : fmt::format("TLS failed during the {} with {}: {}", when, address_,
                                        tcp_openssl_reason("the connection failed")));
}

}  // namespace lookout
