#include "web/accept_gate.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <httplib.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <list>
#include <mutex>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/event_loop.h"
#include "web/request_head.h"

namespace lookout {

// Named, not anonymous: AcceptGate::Impl holds these, and a class with a member of an
// anonymous namespace's type is an error (-Wsubobject-linkage) once a unity build includes
// this file into another.
namespace gate_detail {

// An accepted connection. The gate thread owns it, except while phase is kWorker: then only
// the worker touches buf, served and keep, and hands it back through the gate's mutex.
struct GateConnection {
  enum class Phase { kHead, kBody, kWorker, kLinger };
  int fd = -1;
  std::string client, local;
  int client_port = 0, local_port = 0;
  void* gate = nullptr;  // the AcceptGate::Impl that owns it
  uv_poll_t poll{};
  int polling = 0;  // the uv_poll events watched, 0 when not watching
  // HTTPS: the TLS session, its handshake run by the gate within the head's deadline.
  SSL* ssl = nullptr;
  bool handshaken = false;
  Phase phase = Phase::kHead;
  MonoTime deadline{};
  // Waiting for the first byte of the next request on a keep-alive connection: closed quietly
  // at idle_until, as the keep-alive timeout says.
  bool keep_alive_wait = false;
  MonoTime idle_until{};
  bool peer_done = false;  // the client shut its side (EOF)
  bool in_idle = false;
  std::list<GateConnection*>::iterator idle_it;
  std::string buf;          // read and not yet served; may hold the start of the next request
  size_t head_scanned = 0;  // a prefix of buf known not to hold the end of the head
  size_t request_size = 0;  // head and body of the request in buf, once its head is in
  size_t drained = 0;       // bytes thrown away after a refusal
  size_t served = 0;
  bool keep = false;  // the worker's verdict: the connection may carry another request
};

// cpp-httplib's own rendering of an address (getnameinfo, numeric), so that the rate limits
// keep the keys they had.
void gate_address_of(const sockaddr_storage& addr, socklen_t len, std::string& ip, int& port) {
  if (addr.ss_family == AF_INET) {
    port = ntohs(reinterpret_cast<const sockaddr_in&>(addr).sin_port);
  } else if (addr.ss_family == AF_INET6) {
    port = ntohs(reinterpret_cast<const sockaddr_in6&>(addr).sin6_port);
  } else {
    return;
  }
  char host[NI_MAXHOST];
  if (getnameinfo(reinterpret_cast<const sockaddr*>(&addr), len, host, sizeof(host), nullptr, 0,
                  NI_NUMERICHOST) == 0) {
    ip = host;
  }
}

// Waits for the socket to be ready for `events`; false when it is not within the timeout.
bool gate_wait_for(int fd, short events, int timeout_ms) {
  pollfd p{fd, events, 0};
  int rc;
  do {
    rc = ::poll(&p, 1, timeout_ms);
  } while (rc < 0 && errno == EINTR);
  return rc > 0 && (p.revents & (POLLERR | POLLNVAL)) == 0 &&
         ((events & POLLOUT) == 0 || (p.revents & POLLHUP) == 0);
}

// Reads what the client sent, decrypted over HTTPS: > 0 bytes, 0 once the client closed its
// side, -1 with errno (EAGAIN: nothing more now).
ssize_t gate_recv(GateConnection& c, char* buf, size_t size) {
  if (c.ssl == nullptr) return ::recv(c.fd, buf, size, 0);
  ERR_clear_error();
  const int n = SSL_read(c.ssl, buf, static_cast<int>(size));
  if (n > 0) return n;
  switch (SSL_get_error(c.ssl, n)) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
      errno = EAGAIN;
      return -1;
    case SSL_ERROR_ZERO_RETURN:
      return 0;
    default:
      errno = EPROTO;
      return -1;
  }
}

// Writes all of `data` (encrypted over HTTPS) or fails; when the socket is full it waits at
// most `timeout_ms` for progress each time, so the gate thread passes 0 and never waits.
bool gate_send_all(GateConnection& c, std::string_view data, int timeout_ms) {
  size_t done = 0;
  while (done < data.size()) {
    short wait_for = POLLOUT;
    if (c.ssl == nullptr) {
      const ssize_t n = ::send(c.fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
      if (n > 0) {
        done += static_cast<size_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) return false;
    } else {
      ERR_clear_error();
      const int n = SSL_write(c.ssl, data.data() + done,
                              static_cast<int>(std::min<size_t>(data.size() - done, 1U << 30U)));
      if (n > 0) {
        done += static_cast<size_t>(n);
        continue;
      }
      const int err = SSL_get_error(c.ssl, n);
      if (err == SSL_ERROR_WANT_READ) {
        wait_for = POLLIN;
      } else if (err != SSL_ERROR_WANT_WRITE) {
        return false;
      }
    }
    if (timeout_ms == 0 || !gate_wait_for(c.fd, wait_for, timeout_ms)) return false;
  }
  return true;
}

// Serves the reads of one request from the bytes the gate collected, and writes straight to
// the socket (non-blocking: each write waits at most the write timeout for progress).
class GateStream : public httplib::Stream {
 public:
  GateStream(GateConnection& c, Duration write_timeout)
      : c_(c), timeout_ms_(static_cast<int>(write_timeout.count())) {}

  bool is_readable() const override { return pos_ < c_.request_size; }
  bool is_writable() const override { return gate_wait_for(c_.fd, POLLOUT, timeout_ms_); }
  ssize_t read(char* ptr, size_t size) override {
    const size_t n = std::min(size, c_.request_size - pos_);
    std::memcpy(ptr, c_.buf.data() + pos_, n);
    pos_ += n;
    return static_cast<ssize_t>(n);
  }
  // Whole or nothing: cpp-httplib writes a response's head with one call and does not retry a
  // short count.
  ssize_t write(const char* ptr, size_t size) override {
    return gate_send_all(c_, std::string_view(ptr, size), timeout_ms_) ? static_cast<ssize_t>(size)
                                                                       : -1;
  }
  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    ip = c_.client;
    port = c_.client_port;
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    ip = c_.local;
    port = c_.local_port;
  }
  socket_t socket() const override { return c_.fd; }

 private:
  GateConnection& c_;
  int timeout_ms_;
  size_t pos_ = 0;
};

constexpr size_t kGateMaxDrain = 256 * 1024;

const char* gate_reason(int status) {
  switch (status) {
    case 400:
      return "Bad Request";
    case 411:
      return "Length Required";
    case 413:
      return "Payload Too Large";
    default:
      return "Request Header Fields Too Large";
  }
}

}  // namespace gate_detail

using gate_detail::gate_address_of;
using gate_detail::gate_reason;
using gate_detail::gate_recv;
using gate_detail::gate_send_all;
using gate_detail::GateConnection;
using gate_detail::GateStream;
using gate_detail::kGateMaxDrain;

struct AcceptGate::Impl {
  Impl(const GateLimits& l, ServeFn s, SSL_CTX* t) : limits(l), serve(std::move(s)), tls(t) {}

  GateLimits limits;
  ServeFn serve;
  SSL_CTX* tls;

  struct Counters {
    std::atomic<uint64_t> refused{0}, head_timeouts{0}, body_timeouts{0}, shed{0};
    std::atomic<uint64_t> refused_411{0}, refused_413{0}, refused_431{0};
    std::atomic<uint64_t> tls_handshake_failures{0};
    std::atomic<int64_t> open{0};
  } counters;

  // Between the threads: accepted sockets and connections back from workers.
  std::mutex mu;
  std::condition_variable ready_cv;
  bool ready = false;
  bool stopping = false;  // no new work; connections close
  bool finished = false;  // workers joined: the loop may end
  Async* wake = nullptr;
  std::vector<int> accepted;
  std::vector<GateConnection*> returned;

  // The workers' queue.
  std::mutex jobs_mu;
  std::condition_variable jobs_cv;
  std::deque<GateConnection*> jobs;
  bool jobs_closed = false;
  std::vector<std::thread> workers;

  std::thread thread;

  // Gate thread only.
  EventLoop* loop = nullptr;
  std::unordered_set<GateConnection*> conns;
  std::list<GateConnection*> idle;  // waiting for a head, oldest first
  std::unordered_map<std::string, size_t> per_client;

  void run();
  void drain();
  void take(int fd);
  void take_returned();
  void on_readable(GateConnection* c);
  // Runs the TLS handshake as far as the bytes in hand allow; true once it is done.
  bool handshake(GateConnection* c);
  void advance(GateConnection* c);
  void refuse(GateConnection* c, int status);
  void dispatch(GateConnection* c);
  void resume(GateConnection* c);
  void sweep();
  void close(GateConnection* c);
  void start_polling(GateConnection* c, int events = UV_READABLE);
  void stop_polling(GateConnection* c);
  // Of the connections in the gate reading a body or draining after a refusal, the one whose
  // deadline comes first; nullptr when there is none.
  GateConnection* nearest_deadline_reading() const;
  // Drops a client address holding no connection from the counts (a refused newcomer's).
  void forget_if_idle(const std::string& client);
  void mark_idle(GateConnection* c);
  void unmark_idle(GateConnection* c);
  void work();
};

AcceptGate::AcceptGate(const GateLimits& limits, ServeFn serve, SSL_CTX* tls)
    : impl_(std::make_unique<Impl>(limits, std::move(serve), tls)) {}

AcceptGate::~AcceptGate() { stop(); }

void AcceptGate::start() {
  for (size_t i = 0; i < impl_->limits.workers; ++i)
    impl_->workers.emplace_back([this] { impl_->work(); });
  impl_->thread = std::thread([this] { impl_->run(); });
  std::unique_lock lock(impl_->mu);
  impl_->ready_cv.wait(lock, [this] { return impl_->ready; });
}

void AcceptGate::admit(int fd) {
  std::lock_guard lock(impl_->mu);
  if (impl_->stopping || impl_->wake == nullptr) {
    ::close(fd);
    return;
  }
  impl_->accepted.push_back(fd);
  impl_->wake->send();
}

void AcceptGate::stop() {
  if (!impl_->thread.joinable()) return;
  {
    std::lock_guard lock(impl_->mu);
    impl_->stopping = true;
    if (impl_->wake != nullptr) impl_->wake->send();
  }
  {
    std::lock_guard lock(impl_->jobs_mu);
    impl_->jobs_closed = true;
  }
  impl_->jobs_cv.notify_all();
  for (auto& t : impl_->workers) t.join();
  impl_->workers.clear();
  {
    std::lock_guard lock(impl_->mu);
    impl_->finished = true;
    if (impl_->wake != nullptr) impl_->wake->send();
  }
  impl_->thread.join();
}

GateCounts AcceptGate::counts() const {
  const auto& c = impl_->counters;
  GateCounts out;
  out.refused = c.refused.load(std::memory_order_relaxed);
  out.head_timeouts = c.head_timeouts.load(std::memory_order_relaxed);
  out.body_timeouts = c.body_timeouts.load(std::memory_order_relaxed);
  out.shed = c.shed.load(std::memory_order_relaxed);
  out.refused_411 = c.refused_411.load(std::memory_order_relaxed);
  out.refused_413 = c.refused_413.load(std::memory_order_relaxed);
  out.refused_431 = c.refused_431.load(std::memory_order_relaxed);
  out.tls_handshake_failures = c.tls_handshake_failures.load(std::memory_order_relaxed);
  out.open = c.open.load(std::memory_order_relaxed);
  return out;
}

void AcceptGate::Impl::run() {
  EventLoop own_loop;
  loop = &own_loop;
  {
    Async async(own_loop, [this] { drain(); });
    Timer sweeper(own_loop);
    // Deadlines are seconds long: checking them ten times a second is precise enough and
    // costs one pass over the connections.
    sweeper.start_repeating(Duration{100}, [this] { sweep(); });
    {
      std::lock_guard lock(mu);
      wake = &async;
      ready = true;
    }
    ready_cv.notify_all();
    own_loop.run();
    std::lock_guard lock(mu);
    wake = nullptr;
    for (int fd : accepted) ::close(fd);
    accepted.clear();
  }
  std::vector<GateConnection*> left(conns.begin(), conns.end());
  for (auto* c : left) close(c);
}

// On the gate thread: new sockets, connections back from workers, and the stop.
void AcceptGate::Impl::drain() {
  std::vector<int> fds;
  std::vector<GateConnection*> back;
  bool stop_now, end_now;
  {
    std::lock_guard lock(mu);
    fds.swap(accepted);
    back.swap(returned);
    stop_now = stopping;
    end_now = finished;
  }
  // Connections back from workers first: a client whose answer said "Connection: close"
  // reconnects at once, and its old connection must not count against its cap any more.
  for (auto* c : back) {
    if (stop_now || !c->keep) {
      close(c);
    } else {
      resume(c);
    }
  }
  for (int fd : fds) {
    if (stop_now) {
      ::close(fd);
    } else {
      take(fd);
    }
  }
  if (stop_now) {
    std::vector<GateConnection*> all(conns.begin(), conns.end());
    for (auto* c : all) {
      // A worker's write fails at once rather than after its timeout.
      if (c->phase == GateConnection::Phase::kWorker) {
        ::shutdown(c->fd, SHUT_RDWR);
      } else {
        close(c);
      }
    }
  }
  if (end_now) loop->stop();
}

// The connections workers finished with since the last drain, as drain would handle them.
void AcceptGate::Impl::take_returned() {
  std::vector<GateConnection*> back;
  {
    std::lock_guard lock(mu);
    back.swap(returned);
  }
  for (auto* c : back) {
    if (!c->keep) {
      close(c);
    } else {
      resume(c);
    }
  }
}

void AcceptGate::Impl::take(int fd) {
  sockaddr_storage peer{};
  socklen_t peer_len = sizeof(peer);
  std::string client;
  int client_port = 0;
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &peer_len) == 0)
    gate_address_of(peer, peer_len, client, client_port);
  if (client.empty()) {
    ::close(fd);
    return;
  }
  if (per_client[client] >= limits.max_per_client) take_returned();
  size_t& held = per_client[client];
  if (held >= limits.max_per_client) {
    counters.refused.fetch_add(1, std::memory_order_relaxed);
    ::close(fd);
    return;
  }
  if (conns.size() >= limits.max_connections) {
    counters.shed.fetch_add(1, std::memory_order_relaxed);
    if (!idle.empty()) {
      close(idle.front());
    } else if (GateConnection* slowest = nearest_deadline_reading()) {
      // Nobody idle: a body (or a refusal's drain) that has had the longest goes, not the
      // client arriving now, so slow bodies cannot keep every newcomer out.
      close(slowest);
    } else {
      forget_if_idle(client);
      ::close(fd);
      return;
    }
  }
  // Clients are answered by the gate and the workers without blocking anywhere.
  const int flags = fcntl(fd, F_GETFL, 0);
  fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

  SSL* ssl = nullptr;
  if (tls != nullptr) {
    ssl = SSL_new(tls);
    if (ssl == nullptr || SSL_set_fd(ssl, fd) != 1) {
      spdlog::error("cannot start a TLS session for a client of the status page: {}",
                    ERR_reason_error_string(ERR_get_error()));
      SSL_free(ssl);
      forget_if_idle(client);
      ::close(fd);
      return;
    }
    SSL_set_accept_state(ssl);
  }
  auto* c = new GateConnection;
  c->fd = fd;
  c->ssl = ssl;
  c->client = std::move(client);
  c->client_port = client_port;
  sockaddr_storage local{};
  socklen_t local_len = sizeof(local);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_len) == 0)
    gate_address_of(local, local_len, c->local, c->local_port);
  ++per_client[c->client];
  conns.insert(c);
  counters.open.fetch_add(1, std::memory_order_relaxed);
  c->phase = GateConnection::Phase::kHead;
  c->deadline = std::chrono::steady_clock::now() + limits.header_timeout;
  mark_idle(c);
  uv_poll_init(loop->raw(), &c->poll, fd);
  c->gate = this;
  c->poll.data = c;
  start_polling(c);
}

void AcceptGate::Impl::start_polling(GateConnection* c, int events) {
  if (c->polling == events) return;
  c->polling = events;
  uv_poll_start(&c->poll, events, [](uv_poll_t* p, int, int) {
    auto* conn = static_cast<GateConnection*>(p->data);
    static_cast<Impl*>(conn->gate)->on_readable(conn);
  });
}

void AcceptGate::Impl::stop_polling(GateConnection* c) {
  if (c->polling == 0) return;
  c->polling = 0;
  uv_poll_stop(&c->poll);
}

GateConnection* AcceptGate::Impl::nearest_deadline_reading() const {
  GateConnection* found = nullptr;
  for (GateConnection* c : conns) {
    if (c->phase != GateConnection::Phase::kBody && c->phase != GateConnection::Phase::kLinger)
      continue;
    if (found == nullptr || c->deadline < found->deadline) found = c;
  }
  return found;
}

void AcceptGate::Impl::forget_if_idle(const std::string& client) {
  const auto it = per_client.find(client);
  if (it != per_client.end() && it->second == 0) per_client.erase(it);
}

void AcceptGate::Impl::mark_idle(GateConnection* c) {
  if (c->in_idle) return;
  c->idle_it = idle.insert(idle.end(), c);
  c->in_idle = true;
}

void AcceptGate::Impl::unmark_idle(GateConnection* c) {
  if (!c->in_idle) return;
  idle.erase(c->idle_it);
  c->in_idle = false;
}

bool AcceptGate::Impl::handshake(GateConnection* c) {
  ERR_clear_error();
  const int rc = SSL_accept(c->ssl);
  if (rc == 1) {
    c->handshaken = true;
    start_polling(c, UV_READABLE);
    return true;
  }
  const int err = SSL_get_error(c->ssl, rc);
  if (err == SSL_ERROR_WANT_READ) {
    start_polling(c, UV_READABLE);
  } else if (err == SSL_ERROR_WANT_WRITE) {
    start_polling(c, UV_READABLE | UV_WRITABLE);
  } else {
    // Plain HTTP to the HTTPS port, no version or cipher in common, or a client gone mid-way:
    // counted, not logged, since any client can cause it at any rate.
    counters.tls_handshake_failures.fetch_add(1, std::memory_order_relaxed);
    close(c);
  }
  return false;
}

void AcceptGate::Impl::on_readable(GateConnection* c) {
  if (c->ssl != nullptr && !c->handshaken && !handshake(c)) return;
  char chunk[16384];
  for (;;) {
    size_t want = sizeof(chunk);
    if (c->phase == GateConnection::Phase::kHead) {
      // One byte over the limit tells a head too large from one just at it.
      want = c->buf.size() > limits.max_head ? 0 : limits.max_head + 1 - c->buf.size();
    } else if (c->phase == GateConnection::Phase::kBody) {
      want = c->buf.size() >= c->request_size ? 0 : c->request_size - c->buf.size();
    }
    if (want == 0) break;
    const ssize_t n = gate_recv(*c, chunk, std::min(want, sizeof(chunk)));
    if (n > 0) {
      if (c->phase != GateConnection::Phase::kLinger) {
        c->buf.append(chunk, static_cast<size_t>(n));
        continue;
      }
      // A client that keeps sending after its refusal gets a bounded share of the gate.
      c->drained += static_cast<size_t>(n);
      if (c->drained > kGateMaxDrain) {
        close(c);
        return;
      }
      continue;
    }
    if (n == 0) {
      c->peer_done = true;
      break;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) break;
    close(c);
    return;
  }
  if (c->phase == GateConnection::Phase::kLinger) {
    if (c->peer_done) close(c);
    return;
  }
  advance(c);
}

// What the bytes in hand allow: wait for more, refuse, or hand the request to a worker.
void AcceptGate::Impl::advance(GateConnection* c) {
  if (c->phase == GateConnection::Phase::kHead) {
    if (c->buf.empty()) {
      if (c->peer_done) close(c);
      return;
    }
    c->keep_alive_wait = false;
    // A head trickling in a byte at a time is not scanned from its start on every byte: only
    // once its last line can have arrived.
    if (c->buf.size() <= limits.max_head &&
        c->buf.find("\n\r\n", c->head_scanned) == std::string::npos) {
      c->head_scanned = c->buf.size() < 2 ? 0 : c->buf.size() - 2;
      if (c->peer_done) close(c);
      return;
    }
    const RequestHead head = scan_request_head(c->buf, limits.max_head);
    switch (head.verdict) {
      case RequestHead::Verdict::kIncomplete:
        if (c->peer_done) close(c);
        return;
      case RequestHead::Verdict::kTooLarge:
        return refuse(c, 431);
      case RequestHead::Verdict::kBadLength:
        return refuse(c, 400);
      case RequestHead::Verdict::kLengthRequired:
        return refuse(c, 411);
      case RequestHead::Verdict::kComplete:
        break;
    }
    if (head.content_length > limits.max_body) return refuse(c, 413);
    c->request_size = head.head_size + static_cast<size_t>(head.content_length);
    c->phase = GateConnection::Phase::kBody;
    c->deadline = std::chrono::steady_clock::now() + limits.body_timeout;
    unmark_idle(c);
    if (c->buf.size() < c->request_size && head.expect_continue) {
      // The client waits for this before it sends the body; cpp-httplib is told it was sent.
      // A client whose socket cannot take these 25 bytes at once is not reading its answers.
      if (!gate_send_all(*c, "HTTP/1.1 100 Continue\r\n\r\n", 0)) return close(c);
    }
  }
  if (c->phase == GateConnection::Phase::kBody) {
    if (c->buf.size() >= c->request_size) return dispatch(c);
    if (c->peer_done) close(c);
  }
}

// Answers from the gate itself, then drains what the client still sends for a moment: closing
// with unread bytes would reset the connection and could destroy the answer before it is read.
void AcceptGate::Impl::refuse(GateConnection* c, int status) {
  if (status == 411) counters.refused_411.fetch_add(1, std::memory_order_relaxed);
  if (status == 413) counters.refused_413.fetch_add(1, std::memory_order_relaxed);
  if (status == 431) counters.refused_431.fetch_add(1, std::memory_order_relaxed);
  const std::string body = status == 413   ? "{\"error\":\"request too large\"}"
                           : status == 411 ? "{\"error\":\"a request body needs a Content-Length\"}"
                           : status == 431 ? "{\"error\":\"request head too large\"}"
                                           : "{\"error\":\"bad request\"}";
  const std::string answer = fmt::format(
      "HTTP/1.1 {} {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n"
      "X-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n{}",
      status, gate_reason(status), body.size(), body);
  (void)gate_send_all(*c, answer, 0);
  if (c->ssl != nullptr) (void)SSL_shutdown(c->ssl);
  ::shutdown(c->fd, SHUT_WR);
  unmark_idle(c);
  c->buf.clear();
  c->buf.shrink_to_fit();
  c->phase = GateConnection::Phase::kLinger;
  c->deadline = std::chrono::steady_clock::now() + limits.linger;
  if (c->peer_done) close(c);
}

void AcceptGate::Impl::dispatch(GateConnection* c) {
  stop_polling(c);
  unmark_idle(c);
  c->phase = GateConnection::Phase::kWorker;
  {
    std::lock_guard lock(jobs_mu);
    jobs.push_back(c);
  }
  jobs_cv.notify_one();
}

// Back from a worker: wait for the next request, which may already be in the buffer.
void AcceptGate::Impl::resume(GateConnection* c) {
  const auto now = std::chrono::steady_clock::now();
  c->phase = GateConnection::Phase::kHead;
  c->request_size = 0;
  c->head_scanned = 0;
  c->keep_alive_wait = true;
  c->idle_until = now + limits.keep_alive_timeout;
  c->deadline = now + limits.header_timeout;
  mark_idle(c);
  start_polling(c);
  // Over HTTPS the next request may already be decrypted inside the TLS session, where the
  // socket's readiness does not show it.
  if (c->ssl != nullptr && SSL_pending(c->ssl) > 0) return on_readable(c);
  advance(c);
}

void AcceptGate::Impl::sweep() {
  const auto now = std::chrono::steady_clock::now();
  std::vector<GateConnection*> due;
  for (auto* c : conns) {
    switch (c->phase) {
      case GateConnection::Phase::kWorker:
        break;
      case GateConnection::Phase::kHead:
        if (c->keep_alive_wait ? now >= c->idle_until : now >= c->deadline) due.push_back(c);
        break;
      case GateConnection::Phase::kBody:
      case GateConnection::Phase::kLinger:
        if (now >= c->deadline) due.push_back(c);
        break;
    }
  }
  for (auto* c : due) {
    if (c->phase == GateConnection::Phase::kHead && !c->keep_alive_wait) {
      counters.head_timeouts.fetch_add(1, std::memory_order_relaxed);
    } else if (c->phase == GateConnection::Phase::kBody) {
      counters.body_timeouts.fetch_add(1, std::memory_order_relaxed);
    }
    close(c);
  }
}

void AcceptGate::Impl::close(GateConnection* c) {
  unmark_idle(c);
  conns.erase(c);
  const auto it = per_client.find(c->client);
  if (it != per_client.end() && --it->second == 0) per_client.erase(it);
  counters.open.fetch_sub(1, std::memory_order_relaxed);
  stop_polling(c);
  // The descriptor closes only once libuv has let go of the handle watching it.
  uv_close(reinterpret_cast<uv_handle_t*>(&c->poll), [](uv_handle_t* h) {
    auto* conn = static_cast<GateConnection*>(h->data);
    SSL_free(conn->ssl);
    ::close(conn->fd);
    delete conn;
  });
}

void AcceptGate::Impl::work() {
  for (;;) {
    GateConnection* c = nullptr;
    {
      std::unique_lock lock(jobs_mu);
      jobs_cv.wait(lock, [this] { return !jobs.empty() || jobs_closed; });
      if (jobs.empty()) return;
      c = jobs.front();
      jobs.pop_front();
    }
    bool stop_now;
    {
      std::lock_guard lock(mu);
      stop_now = stopping;
    }
    c->keep = false;
    if (!stop_now) {
      const bool last = c->served + 1 >= limits.keep_alive_max || c->peer_done;
      bool closed = false;
      bool ok = false;
      GateStream strm(*c, limits.write_timeout);
      try {
        ok = serve(strm, last, closed);
      } catch (const std::exception& e) {
        spdlog::error("internal error serving a request: {}", e.what());
      } catch (...) {
      }
      ++c->served;
      c->keep = ok && !closed && !last;
      c->buf.erase(0, c->request_size);
    }
    std::lock_guard lock(mu);
    returned.push_back(c);
    if (wake != nullptr) wake->send();
  }
}

}  // namespace lookout
