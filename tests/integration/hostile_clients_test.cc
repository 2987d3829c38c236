// Hostile clients against the real daemon's HTTP server: one attacking address (127.0.0.3)
// holds a thousand connections open in the ways that used to take the page down, while a
// well-behaved reader on another address (127.0.0.2) must keep being answered within 2 s;
// over plain HTTP and over HTTPS.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/cert_factory.h"
#include "tests/integration/harness.h"

namespace lookout::testing {
namespace {

using Clock = std::chrono::steady_clock;

constexpr char kAttacker[] = "127.0.0.3";
constexpr char kReader[] = "127.0.0.2";
constexpr char kPingToken[] = "hostile-clients-ping-token-1";
constexpr int kAttackSize = 1000;

std::string heartbeat_monitor() {
  return fmt::format(
      "[[monitor]]\nname = \"job\"\ntype = \"heartbeat\"\npublic = true\ntoken = \"{}\"\n"
      "period = \"1h\"\ngrace = \"1h\"\n",
      kPingToken);
}

// The attack and the daemon hold a few thousand descriptors between them.
void raise_descriptor_limit_for_test() {
  rlimit lim{};
  getrlimit(RLIMIT_NOFILE, &lim);
  lim.rlim_cur = lim.rlim_max;
  setrlimit(RLIMIT_NOFILE, &lim);
}

int remaining_ms(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<Ms>(deadline - Clock::now()).count();
  return left < 0 ? 0 : static_cast<int>(left);
}

// A TCP connection from `source` to the daemon, connected within the deadline; -1 if not.
int connect_from(const char* source, int port, Clock::time_point deadline) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return -1;
  sockaddr_in src{};
  src.sin_family = AF_INET;
  inet_pton(AF_INET, source, &src.sin_addr);
  sockaddr_in dst{};
  dst.sin_family = AF_INET;
  dst.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &dst.sin_addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&src), sizeof(src)) != 0) {
    close(fd);
    return -1;
  }
  if (connect(fd, reinterpret_cast<sockaddr*>(&dst), sizeof(dst)) != 0) {
    pollfd p{fd, POLLOUT, 0};
    int err = 0;
    socklen_t len = sizeof(err);
    if (errno != EINPROGRESS || poll(&p, 1, remaining_ms(deadline)) != 1 ||
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
      close(fd);
      return -1;
    }
  }
  return fd;
}

bool send_all(int fd, const std::string& bytes, Clock::time_point deadline) {
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = send(fd, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
    if (n > 0) {
      done += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno != EAGAIN) return false;
    pollfd p{fd, POLLOUT, 0};
    if (poll(&p, 1, remaining_ms(deadline)) != 1) return false;
  }
  return true;
}

// Reads until `until` is in what arrived, the peer closes, or the deadline passes.
std::string read_until(int fd, const std::string& until, Clock::time_point deadline) {
  std::string got;
  char buf[65536];
  while (until.empty() || got.find(until) == std::string::npos) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, remaining_ms(deadline)) != 1) break;
    const ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
  }
  return got;
}

int status_of(const std::string& answer) {
  if (answer.rfind("HTTP/1.1 ", 0) != 0 || answer.size() < 12) return 0;
  return std::atoi(answer.substr(9, 3).c_str());
}

// A TLS client session over a connected non-blocking socket; the client context trusts the
// test's CA and checks the daemon's certificate for 127.0.0.1.
class TlsSession {
 public:
  TlsSession(SSL_CTX* ctx, int fd) : fd_(fd), ssl_(SSL_new(ctx)) {
    SSL_set_fd(ssl_, fd);
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), "127.0.0.1");
  }
  ~TlsSession() { SSL_free(ssl_); }
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;

  bool handshake(Clock::time_point deadline) {
    for (;;) {
      const int rc = SSL_connect(ssl_);
      if (rc == 1) return true;
      if (!wait(rc, deadline)) return false;
    }
  }
  bool send(const std::string& bytes, Clock::time_point deadline) {
    size_t done = 0;
    while (done < bytes.size()) {
      const int rc = SSL_write(ssl_, bytes.data() + done, static_cast<int>(bytes.size() - done));
      if (rc > 0) {
        done += static_cast<size_t>(rc);
      } else if (!wait(rc, deadline)) {
        return false;
      }
    }
    return true;
  }
  // Until `until` arrived (or, empty, the server closed) or the deadline.
  std::string read_until(const std::string& until, Clock::time_point deadline) {
    std::string got;
    char buf[65536];
    while (until.empty() || got.find(until) == std::string::npos) {
      const int rc = SSL_read(ssl_, buf, sizeof(buf));
      if (rc > 0) {
        got.append(buf, static_cast<size_t>(rc));
      } else if (!wait(rc, deadline)) {
        break;
      }
    }
    return got;
  }

 private:
  bool wait(int rc, Clock::time_point deadline) {
    const int err = SSL_get_error(ssl_, rc);
    const short events = err == SSL_ERROR_WANT_READ    ? POLLIN
                         : err == SSL_ERROR_WANT_WRITE ? POLLOUT
                                                       : 0;
    if (events == 0) return false;
    pollfd p{fd_, events, 0};
    return poll(&p, 1, remaining_ms(deadline)) == 1;
  }
  int fd_;
  SSL* ssl_;
};

// One request on its own connection (Connection: close), its whole answer within `limit`;
// over HTTPS with `tls`.
struct Exchange {
  int status = 0;
  std::string answer;
  Ms took{};
};
Exchange exchange(const char* source, int port, const std::string& request, Ms limit,
                  SSL_CTX* tls = nullptr) {
  const auto start = Clock::now();
  const auto deadline = start + limit;
  Exchange e;
  const int fd = connect_from(source, port, deadline);
  if (fd < 0) return e;
  if (tls != nullptr) {
    TlsSession session(tls, fd);
    if (session.handshake(deadline) && session.send(request, deadline))
      e.answer = session.read_until("", deadline);
  } else if (send_all(fd, request, deadline)) {
    e.answer = read_until(fd, "", deadline);
  }
  close(fd);
  e.took = std::chrono::duration_cast<Ms>(Clock::now() - start);
  // Complete only when the peer closed in time: the reader waits for the whole page.
  if (e.took < limit) e.status = status_of(e.answer);
  return e;
}

std::string get_request(const std::string& path) {
  return fmt::format("GET {} HTTP/1.1\r\nHost: lookout\r\nConnection: close\r\n\r\n", path);
}

// The well-behaved reader: GET /healthz and GET / every 0.5 s, each within 2 s.
struct ReaderResult {
  int asked = 0;
  int in_time = 0;
  std::string misses;
};
ReaderResult read_for(int port, Ms window, SSL_CTX* tls = nullptr) {
  ReaderResult r;
  const auto end = Clock::now() + window;
  auto next = Clock::now();
  while (Clock::now() < end) {
    for (const char* path : {"/healthz", "/"}) {
      const Exchange e = exchange(kReader, port, get_request(path), 2000ms, tls);
      ++r.asked;
      if (e.status == 200) {
        ++r.in_time;
      } else {
        r.misses += fmt::format("{} -> {} after {} ms; ", path, e.status, e.took.count());
      }
    }
    next += 500ms;
    std::this_thread::sleep_until(next);
  }
  return r;
}

// A thousand connections from the attacking address, closed when it ends; a thread sends each
// of them one more byte of `drip` every `every` (nothing when drip is empty).
class Attack {
 public:
  Attack(int port, const std::string& opening, std::string drip, Ms every)
      : drip_(std::move(drip)), every_(every) {
    for (int i = 0; i < kAttackSize; ++i) {
      const int fd = connect_from(kAttacker, port, Clock::now() + 2000ms);
      if (fd < 0) continue;
      if (!opening.empty()) (void)send(fd, opening.data(), opening.size(), MSG_NOSIGNAL);
      fds_.push_back(fd);
    }
    if (!drip_.empty()) thread_ = std::thread([this] { drip_loop(); });
  }
  ~Attack() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    for (int fd : fds_) close(fd);
  }
  size_t connected() const { return fds_.size(); }
  const std::vector<int>& fds() const { return fds_; }

 private:
  void drip_loop() {
    size_t i = 0;
    while (!stop_) {
      const auto next = Clock::now() + every_;
      const char byte = drip_[i++ % drip_.size()];
      for (int fd : fds_) (void)send(fd, &byte, 1, MSG_NOSIGNAL | MSG_DONTWAIT);
      while (!stop_ && Clock::now() < next) std::this_thread::sleep_for(50ms);
    }
  }
  std::string drip_;
  Ms every_;
  std::vector<int> fds_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
};

double counter(const Daemon& d, const std::string& name, const std::string& labels = "") {
  return metric_value(d.metrics(), name, labels);
}

void expect_reader_served(const ReaderResult& r, const char* attack, int at_least = 20) {
  EXPECT_GE(r.asked, at_least) << attack;
  EXPECT_GE(r.in_time * 100, r.asked * 95)
      << attack << ": " << r.in_time << " of " << r.asked << " in time; " << r.misses;
}

constexpr Ms kWindow = 5500ms;

// The four attacks of the issue, each for a reader's window, one after the other.
void run_four_attacks(const Daemon& d) {
  const int port = d.port();
  {
    // 1. Heads that never finish: a byte every 3 s.
    Attack a(port, "G", "ET / HTTP/1.1\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 3000ms);
    ASSERT_EQ(a.connected(), static_cast<size_t>(kAttackSize));
    expect_reader_served(read_for(port, kWindow), "slow heads");
  }
  {
    // 2. Connected, silent.
    Attack a(port, "", "", 0ms);
    ASSERT_EQ(a.connected(), static_cast<size_t>(kAttackSize));
    expect_reader_served(read_for(port, kWindow), "silent connections");
  }
  {
    // 3. POSTs announcing 1 MiB, then a body byte a second.
    Attack a(port,
             fmt::format("POST /ping/{} HTTP/1.1\r\nHost: lookout\r\nContent-Length: 1048576\r\n"
                         "Content-Type: text/plain\r\n\r\n",
                         kPingToken),
             "x", 1000ms);
    ASSERT_EQ(a.connected(), static_cast<size_t>(kAttackSize));
    expect_reader_served(read_for(port, kWindow), "slow 1 MiB bodies");
  }
  {
    // 4. Keep-alive connections left idle after one request each.
    Attack a(port, "GET /healthz HTTP/1.1\r\nHost: lookout\r\n\r\n", "", 0ms);
    ASSERT_EQ(a.connected(), static_cast<size_t>(kAttackSize));
    int answered = 0;
    for (int fd : a.fds()) {
      if (status_of(read_until(fd, "ok\n", Clock::now() + 200ms)) == 200) ++answered;
    }
    EXPECT_GT(answered, 0);
    expect_reader_served(read_for(port, kWindow), "idle keep-alive connections");
  }
}

TEST(HostileClients, OneAddressCannotStarveAnotherUnderTheDefaultLimits) {
  raise_descriptor_limit_for_test();
  TempDir dir;
  Daemon d(dir, heartbeat_monitor());
  d.start();

  run_four_attacks(d);
  // With the default cap of 32 per address, nearly all of the 4,000 were refused at once, and
  // the slow and silent ones that got in were cut off by the head deadline.
  EXPECT_GE(counter(d, "lookout_http_connections_refused_total"), 4 * (kAttackSize - 32) - 100);
  ASSERT_TRUE(
      wait_until([&] { return counter(d, "lookout_http_head_timeouts_total") >= 2 * 32; }, 5000ms))
      << d.metrics();
  EXPECT_GE(counter(d, "lookout_http_requests_refused_total", "status=\"413\""), 32);

  // Everything normal right after: the reader, and a POST with a body.
  expect_reader_served(read_for(d.port(), 2000ms), "after the attacks", 6);
  EXPECT_EQ(exchange(kReader, d.port(),
                     fmt::format("POST /ping/{} HTTP/1.1\r\nHost: lookout\r\nContent-Length: "
                                 "5\r\nConnection: close\r\n\r\nhello",
                                 kPingToken),
                     2000ms)
                .status,
            200);
  EXPECT_TRUE(wait_until([&] { return d.monitor("job").value("state", "") == "up"; }, 2000ms));
  const std::string m = d.metrics();
  EXPECT_NE(m.find("# TYPE lookout_http_connections_open gauge"), std::string::npos);
  EXPECT_NE(m.find("# HELP lookout_http_connections_shed_total"), std::string::npos);
}

TEST(HostileClients, OversizedHeadsAndBodiesAreRefusedFromTheHeadAlone) {
  TempDir dir;
  Daemon d(dir, heartbeat_monitor());
  d.start();
  // A 100 KiB header line: 431 at once.
  {
    const auto start = Clock::now();
    const Exchange e = exchange(
        kReader, d.port(),
        "GET / HTTP/1.1\r\nHost: lookout\r\nX-Big: " + std::string(100 * 1024, 'a') + "\r\n\r\n",
        2000ms);
    EXPECT_EQ(e.status, 431) << e.answer;
    EXPECT_LT(Clock::now() - start, 1000ms);
  }
  // A 10 MiB body: 413 from its Content-Length, before a byte of it was sent.
  {
    const auto deadline = Clock::now() + 1000ms;
    const int fd = connect_from(kReader, d.port(), deadline);
    ASSERT_GE(fd, 0);
    ASSERT_TRUE(send_all(fd,
                         fmt::format("POST /ping/{} HTTP/1.1\r\nHost: lookout\r\n"
                                     "Content-Length: 10485760\r\n\r\n",
                                     kPingToken),
                         deadline));
    const std::string answer = read_until(fd, "\r\n\r\n", deadline);
    close(fd);
    EXPECT_EQ(status_of(answer), 413) << answer;
  }
  // A chunked body: 411.
  EXPECT_EQ(exchange(kReader, d.port(),
                     fmt::format("POST /ping/{} HTTP/1.1\r\nHost: lookout\r\nTransfer-Encoding: "
                                 "chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
                                 kPingToken),
                     2000ms)
                .status,
            411);

  // A POST that waits for 100 Continue, then a second request on the same connection.
  {
    const auto deadline = Clock::now() + 2000ms;
    const int fd = connect_from(kReader, d.port(), deadline);
    ASSERT_GE(fd, 0);
    ASSERT_TRUE(send_all(fd,
                         fmt::format("POST /ping/{} HTTP/1.1\r\nHost: lookout\r\nContent-Length: "
                                     "5\r\nExpect: 100-continue\r\n\r\n",
                                     kPingToken),
                         deadline));
    const std::string interim = read_until(fd, "\r\n\r\n", deadline);
    EXPECT_EQ(interim, "HTTP/1.1 100 Continue\r\n\r\n");
    ASSERT_TRUE(send_all(fd, "hello", deadline));
    const std::string answer = read_until(fd, "\r\n\r\nOK", deadline);
    EXPECT_EQ(status_of(answer), 200) << answer;
    EXPECT_EQ(answer.find("100 Continue"), std::string::npos) << "a second 100 Continue";
    // The same connection carries a second request.
    ASSERT_TRUE(send_all(fd, get_request("/healthz"), deadline));
    const std::string second = read_until(fd, "\r\n\r\nok\n", deadline);
    EXPECT_EQ(status_of(second), 200) << second;
    close(fd);
  }
  EXPECT_TRUE(wait_until([&] { return d.monitor("job").value("state", "") == "up"; }, 2000ms));
  const std::string m = d.metrics();
  EXPECT_GE(metric_value(m, "lookout_http_requests_refused_total", "status=\"431\""), 1);
  EXPECT_GE(metric_value(m, "lookout_http_requests_refused_total", "status=\"411\""), 1);
}

// Without the per-address cap, the deadlines, the idle keep-alive hand-back and the shedding of
// the oldest idle connections alone keep the reader served.
TEST(HostileClients, WithoutTheAddressCapDeadlinesAndSheddingStillServeTheReader) {
  raise_descriptor_limit_for_test();
  TempDir dir;
  Daemon d(dir, heartbeat_monitor(),
           "max_connections_per_client = 5000\nmax_connections = 512\nbody_timeout = \"2s\"\n");
  d.start();

  run_four_attacks(d);
  EXPECT_EQ(counter(d, "lookout_http_connections_refused_total"), 0);
  EXPECT_GT(counter(d, "lookout_http_connections_shed_total"), 0);
  ASSERT_TRUE(
      wait_until([&] { return counter(d, "lookout_http_head_timeouts_total") >= 100; }, 5000ms))
      << d.metrics();

  // A body within max_request that trickles: cut off by body_timeout.
  {
    const double before = counter(d, "lookout_http_body_timeouts_total");
    const auto start = Clock::now();
    const auto deadline = start + 6000ms;
    const int fd = connect_from(kAttacker, d.port(), deadline);
    ASSERT_GE(fd, 0);
    ASSERT_TRUE(send_all(fd,
                         fmt::format("POST /ping/{} HTTP/1.1\r\nHost: lookout\r\n"
                                     "Content-Length: 1000\r\n\r\n",
                                     kPingToken),
                         deadline));
    bool closed = false;
    while (!closed && Clock::now() < deadline) {
      if (send(fd, "x", 1, MSG_NOSIGNAL) != 1) closed = true;
      pollfd p{fd, POLLIN, 0};
      char b;
      if (poll(&p, 1, 500) == 1 && recv(fd, &b, 1, MSG_DONTWAIT) <= 0) closed = true;
    }
    close(fd);
    EXPECT_TRUE(closed);
    EXPECT_LT(Clock::now() - start, 4000ms);
    EXPECT_GT(counter(d, "lookout_http_body_timeouts_total"), before);
  }
  expect_reader_served(read_for(d.port(), 2000ms), "after the attacks", 6);
  EXPECT_EQ(exchange(kReader, d.port(), get_request("/api/v1/status"), 2000ms).status, 200);
}

// Over HTTPS the gate runs the handshake too: connections that never start one, handshakes
// that trickle, and handshaken connections whose head never ends leave the reader served.
TEST(HostileClients, OverHttpsHandshakesAndHeadsAreHeldByTheGateToo) {
  raise_descriptor_limit_for_test();
  // OpenSSL writes with write(2): a connection the gate refused must fail the write here.
  std::signal(SIGPIPE, SIG_IGN);
  TempDir dir;
  CertFactory certs(dir);
  const TestCert ca =
      certs.make({.name = "ca", .sans = {}, .until_s = 3650LL * 86'400, .ca = true});
  const TestCert leaf = certs.make({.name = "status", .sans = {"IP:127.0.0.1"}}, &ca);
  Daemon d(dir, heartbeat_monitor(),
           fmt::format("tls_cert = \"{}\"\ntls_key = \"{}\"", leaf.cert, leaf.key));
  Process daemon({lookout_binary(), "run", "-c", d.config_path()}, {}, dir.path());
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> tls(SSL_CTX_new(TLS_client_method()),
                                                        &SSL_CTX_free);
  ASSERT_EQ(SSL_CTX_load_verify_locations(tls.get(), ca.cert.c_str(), nullptr), 1);
  SSL_CTX_set_verify(tls.get(), SSL_VERIFY_PEER, nullptr);
  const int port = d.port();
  ASSERT_TRUE(wait_until(
      [&] {
        return exchange(kReader, port, get_request("/healthz"), 1000ms, tls.get()).status == 200;
      },
      15'000ms))
      << daemon.err();
  const auto metric = [&](const char* name) {
    return metric_value(exchange(kReader, port, get_request("/metrics"), 2000ms, tls.get()).answer,
                        name);
  };

  {
    // Connected, silent: no handshake ever starts.
    Attack a(port, "", "", 0ms);
    ASSERT_EQ(a.connected(), static_cast<size_t>(kAttackSize));
    expect_reader_served(read_for(port, kWindow, tls.get()), "silent connections over HTTPS");
  }
  {
    // A ClientHello's record header, then a byte every 3 s.
    Attack a(port, std::string("\x16\x03\x01\x02\x00\x01", 6), "a", 3000ms);
    ASSERT_EQ(a.connected(), static_cast<size_t>(kAttackSize));
    expect_reader_served(read_for(port, kWindow, tls.get()), "trickling handshakes");
  }
  {
    // Handshaken, then a head that never ends: beyond the address cap they are closed at once.
    std::vector<int> fds;
    std::vector<std::unique_ptr<TlsSession>> sessions;
    for (int i = 0; i < 64; ++i) {
      const auto deadline = Clock::now() + 2000ms;
      const int fd = connect_from(kAttacker, port, deadline);
      if (fd < 0) continue;
      fds.push_back(fd);
      auto session = std::make_unique<TlsSession>(tls.get(), fd);
      if (session->handshake(deadline) && session->send("GET / HTTP/1.1\r\nX-Slow: a", deadline))
        sessions.push_back(std::move(session));
    }
    EXPECT_GE(sessions.size(), 1U);
    expect_reader_served(read_for(port, kWindow, tls.get()), "unfinished heads over HTTPS");
    sessions.clear();
    for (int fd : fds) close(fd);
  }
  EXPECT_GE(metric("lookout_http_connections_refused_total"), 2 * (kAttackSize - 32));
  EXPECT_GE(metric("lookout_http_head_timeouts_total"), 2 * 32);

  // Plain HTTP to the HTTPS port fails its handshake, and is counted.
  const Exchange plain = exchange(kReader, port, get_request("/healthz"), 2000ms);
  EXPECT_EQ(plain.status, 0) << plain.answer;
  EXPECT_GE(metric("lookout_http_tls_handshake_failures_total"), 1);

  // Everything normal right after: two requests sent in one write on one connection, a ping
  // with its body, and a 10 MiB body refused from its Content-Length.
  {
    const auto deadline = Clock::now() + 2000ms;
    const int fd = connect_from(kReader, port, deadline);
    ASSERT_GE(fd, 0);
    TlsSession session(tls.get(), fd);
    ASSERT_TRUE(session.handshake(deadline));
    ASSERT_TRUE(session.send(
        fmt::format("POST /ping/{} HTTP/1.1\r\nHost: lookout\r\nContent-Length: 5\r\n\r\n"
                    "hello{}",
                    kPingToken, get_request("/healthz")),
        deadline));
    const std::string both = session.read_until("", deadline);
    close(fd);
    EXPECT_EQ(status_of(both), 200) << both;
    EXPECT_NE(both.find("\r\n\r\nok\n"), std::string::npos) << both;
  }
  // The ping's body arrived: the heartbeat is up.
  const auto job_state = [&] {
    const std::string answer =
        exchange(kReader, port, get_request("/api/v1/status"), 2000ms, tls.get()).answer;
    const size_t body = answer.find("\r\n\r\n");
    const auto status = nlohmann::json::parse(
        body == std::string::npos ? "" : answer.substr(body + 4), nullptr, false);
    if (!status.is_object()) return std::string();
    for (const auto& m : status["monitors"])
      if (m.value("name", "") == "job") return m.value("state", "");
    return std::string();
  };
  EXPECT_TRUE(wait_until([&] { return job_state() == "up"; }, 2000ms));
  const Exchange big = exchange(
      kReader, port,
      fmt::format("POST /ping/{} HTTP/1.1\r\nHost: lookout\r\nContent-Length: 10485760\r\n\r\n",
                  kPingToken),
      2000ms, tls.get());
  EXPECT_EQ(big.status, 413) << big.answer;
  expect_reader_served(read_for(port, 2000ms, tls.get()), "after the attacks over HTTPS", 6);
}

}  // namespace
}  // namespace lookout::testing
