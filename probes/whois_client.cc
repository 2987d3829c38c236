#include "probes/whois_client.h"

#include <ares.h>
#include <fmt/format.h>

#include <cerrno>

#include "core/ares_bridge.h"

namespace lookout {
namespace {

constexpr int kWhoisResolveTries = 2;

bool whois_out_of_descriptors(int rc) { return rc == UV_EMFILE || rc == UV_ENFILE; }

constexpr const char* kWhoisNoSocket =
    "lookout is out of file descriptors (it could not open a socket for the WHOIS query)";

}  // namespace

// The socket and its requests, together: libuv may still call back for them after the owner
// let go (a cancelled connect), so they are freed in the close callback, never before.
struct WhoisClient::Conn {
  uv_tcp_t tcp{};
  uv_connect_t connect{};
  uv_write_t write{};
  std::string out;
  char buf[16 * 1024];
  WhoisClient* owner = nullptr;
};

WhoisClient::WhoisClient(EventLoop& loop, const Clock& clock, const SourceAddress& source)
    : loop_(loop), clock_(clock), source_(source) {}

WhoisClient::~WhoisClient() { cancel(); }

const char* WhoisClient::phase() const {
  switch (phase_) {
    case Phase::kResolving:
      return "resolving";
    case Phase::kConnecting:
      return "connecting to";
    case Phase::kReading:
      return "waiting for the answer of";
    case Phase::kIdle:
      break;
  }
  return "querying";
}

int64_t WhoisClient::since_us(MonoTime t) const {
  return std::chrono::duration_cast<std::chrono::microseconds>(clock_.mono() - t).count();
}

bool WhoisClient::start(const std::string& host, uint16_t port, const std::string& query,
                        Done done) {
  if (phase_ != Phase::kIdle) return false;
  if (!resolver_) {
    auto resolver = std::make_unique<AresChannel>(loop_, Duration{2000}, kWhoisResolveTries);
    std::string error;
    if (!resolver->init("", error)) return false;
    resolver_ = std::move(resolver);
  }
  host_ = host;
  port_ = port;
  query_ = query + "\r\n";
  addresses_.clear();
  next_address_ = 0;
  last_error_.clear();
  result_ = Result{};
  done_ = std::move(done);
  started_ = clock_.mono();
  phase_ = Phase::kResolving;
  resolver_->resolve(host_, AF_UNSPEC, port_,
                     [this](int status, std::vector<sockaddr_storage> addresses) {
                       on_resolved(status, std::move(addresses));
                     });
  return true;
}

void WhoisClient::cancel() {
  if (resolver_) resolver_->cancel();
  close_conn();
  phase_ = Phase::kIdle;
  done_ = nullptr;
}

void WhoisClient::close_conn() {
  if (conn_ == nullptr) return;
  Conn* c = std::exchange(conn_, nullptr);
  c->owner = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(&c->tcp),
           [](uv_handle_t* h) { delete static_cast<Conn*>(h->data); });
}

void WhoisClient::on_resolved(int status, std::vector<sockaddr_storage> addresses) {
  result_.dns_us = since_us(started_);
  if (status == AresChannel::kOutOfDescriptors) {
    fail(ErrorKind::kResources, kWhoisNoSocket);
    return;
  }
  if (status != ARES_SUCCESS || addresses.empty()) {
    fail(ErrorKind::kDns,
         status == ARES_ENOTFOUND || status == ARES_ENODATA
             ? fmt::format("cannot resolve host {}", host_)
             : fmt::format("cannot resolve host {}: {}", host_, ares_strerror(status)));
    return;
  }
  // From a source address only its family can connect: the others are neither tried nor named.
  source_.keep_reachable(addresses);
  if (addresses.empty()) {
    fail(ErrorKind::kConnect, source_.failure(-EAFNOSUPPORT));
    return;
  }
  addresses_ = std::move(addresses);
  phase_ = Phase::kConnecting;
  connect_started_ = clock_.mono();
  connect_next();
}

void WhoisClient::connect_next() {
  while (next_address_ < addresses_.size()) {
    const sockaddr_storage& address = addresses_[next_address_++];
    auto* c = new Conn;
    const int init = uv_tcp_init(loop_.raw(), &c->tcp);
    if (init != 0) {
      delete c;
      if (whois_out_of_descriptors(init)) {
        fail(ErrorKind::kResources, kWhoisNoSocket);
      } else {
        fail(ErrorKind::kInternal, fmt::format("cannot make a socket: {}", uv_strerror(init)));
      }
      return;
    }
    c->tcp.data = c;
    c->connect.data = c;
    c->owner = this;
    conn_ = c;
    if (const int bound = source_.bind(&c->tcp, address.ss_family); bound != 0) {
      close_conn();
      last_error_ = source_.failure(bound);
      continue;
    }
    const int rc = uv_tcp_connect(&c->connect, &c->tcp, reinterpret_cast<const sockaddr*>(&address),
                                  [](uv_connect_t* req, int st) {
                                    auto* conn = static_cast<Conn*>(req->data);
                                    if (conn->owner != nullptr) conn->owner->on_connected(st);
                                  });
    if (rc == 0) return;
    close_conn();
    if (whois_out_of_descriptors(rc)) {
      fail(ErrorKind::kResources, kWhoisNoSocket);
      return;
    }
    last_error_ = uv_strerror(rc);
  }
  fail(ErrorKind::kConnect, last_error_.empty() ? "cannot connect" : last_error_);
}

void WhoisClient::on_connected(int status) {
  if (status != 0) {
    close_conn();
    last_error_ = uv_strerror(status);
    connect_next();  // the next address, or the failure
    return;
  }
  connected_ = clock_.mono();
  result_.connect_us = since_us(connect_started_);
  phase_ = Phase::kReading;
  Conn* c = conn_;
  c->out = query_;
  uv_buf_t out = uv_buf_init(c->out.data(), static_cast<unsigned>(c->out.size()));
  // A failed send shows as a failed read: nothing to do here.
  uv_write(&c->write, reinterpret_cast<uv_stream_t*>(&c->tcp), &out, 1, [](uv_write_t*, int) {});
  uv_read_start(
      reinterpret_cast<uv_stream_t*>(&c->tcp),
      [](uv_handle_t* h, size_t, uv_buf_t* buf) {
        auto* conn = static_cast<Conn*>(h->data);
        *buf = uv_buf_init(conn->buf, sizeof conn->buf);
      },
      [](uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) {
        auto* conn = static_cast<Conn*>(s->data);
        if (conn->owner != nullptr) conn->owner->on_read(nread, buf->base);
      });
}

void WhoisClient::on_read(ssize_t nread, const char* data) {
  if (nread > 0) {
    const size_t room = kMaxAnswer - result_.text.size();
    result_.text.append(data, std::min(room, static_cast<size_t>(nread)));
    if (static_cast<size_t>(nread) >= room) {
      result_.truncated = true;  // enough to judge: the rest is not read
      succeed();
    }
    return;
  }
  if (nread == 0) return;  // EAGAIN
  // Some servers reset the connection right after their answer instead of closing it.
  if (nread == UV_EOF || !result_.text.empty()) {
    succeed();
    return;
  }
  fail(ErrorKind::kConnect, nread == UV_ECONNRESET ? "connection reset by the server"
                                                   : uv_strerror(static_cast<int>(nread)));
}

void WhoisClient::succeed() {
  result_.answered = true;
  result_.reply_us = since_us(connected_);
  close_conn();
  phase_ = Phase::kIdle;
  Done done = std::move(done_);
  Result r = std::move(result_);
  result_ = Result{};
  done(std::move(r));  // may destroy this
}

void WhoisClient::fail(ErrorKind kind, std::string cause) {
  close_conn();
  phase_ = Phase::kIdle;
  result_.kind = kind;
  result_.cause = std::move(cause);
  Done done = std::move(done_);
  Result r = std::move(result_);
  result_ = Result{};
  done(std::move(r));  // may destroy this
}

}  // namespace lookout
