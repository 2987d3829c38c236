// What the tests of results in PostgreSQL share: rows with a bit of everything, numbered by their
// time, and how the database shows them; the database made ready for them; the order their
// transactions committed in; and a proxy that loses the answer to a committed batch.
#pragma once

#include <arpa/inet.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "store/pg_results.h"
#include "store/storage.h"
#include "tests/integration/cluster/cluster_helpers.h"

namespace lookout::testing {

// Row i of a run of rows from t0_ms on, one millisecond apart, with a bit of everything.
inline ResultRow numbered_row(int64_t t0_ms, int i) {
  ResultRow r;
  r.monitor = fmt::format("m{:02}", i % 40);
  r.t_ms = t0_ms + i;
  r.outcome = i % 10 == 0 ? Outcome::kDown : i % 7 == 0 ? Outcome::kDegraded : Outcome::kUp;
  if (r.outcome != Outcome::kDown) {
    r.http_status = 200;
    r.timings = {1000 + i, 2000 + i, 3000 + i, 4000 + i, 5000 + i};
  }
  if (r.outcome == Outcome::kDown) {
    r.kind = ErrorKind::kConnect;
    r.cause = fmt::format("run {}: refused\tby \\peer\n", i);
  }
  r.maintenance = i % 13 == 0;
  if (i % 11 == 0) r.detail = fmt::format(R"({{"i":{}}})", i);
  if (i % 17 == 0) r.samples_us = {i, 2 * i + 1};
  return r;
}

// `count` runs of `monitor` every 30 s from `t0_ms`, with a bit of everything: down, degraded,
// maintenance, no response, and (with `samples`) several samples; `shift` varies them, as
// another location's runs of the same monitor.
inline std::vector<ResultRow> varied_runs(const std::string& monitor, int64_t t0_ms, int shift,
                                          int count = 360, bool samples = true) {
  std::vector<ResultRow> out;
  for (int i = 0; i < count; ++i) {
    ResultRow r;
    r.monitor = monitor;
    r.t_ms = t0_ms + i * 30'000LL + shift;
    const int k = i + shift;
    r.outcome = k % 9 == 0 ? Outcome::kDown : k % 7 == 0 ? Outcome::kDegraded : Outcome::kUp;
    if (k % 18 != 0) r.timings.total_us = 20'000 + (k * 7919) % 400'000;
    r.maintenance = i >= 100 && i < 110;
    if (samples && k % 23 == 0) r.samples_us = {1000 + k, 5000 + 3LL * k, 250'000};
    out.push_back(std::move(r));
  }
  return out;
}

// The row as the query in stored_rows() shows it.
inline std::string shown(const ResultRow& r, const ResultOrigin& o) {
  const auto opt = [](const std::optional<int64_t>& v) {
    return v ? std::to_string(*v) : std::string("null");
  };
  std::string samples = "null";
  if (r.samples_us.size() > 1) {
    samples.clear();
    for (const char b : pack_samples(r.samples_us)) {
      samples += fmt::format("{:02x}", static_cast<unsigned char>(b));
    }
  }
  return fmt::format(
      "{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}", r.t_ms, opt(r.timings.total_us),
      opt(r.timings.dns_us), opt(r.timings.connect_us), opt(r.timings.tls_us),
      opt(r.timings.first_byte_us), static_cast<int>(r.outcome),
      r.http_status > 0 ? std::to_string(r.http_status) : "null", r.maintenance ? "t" : "f",
      r.monitor, o.location, o.node, r.kind == ErrorKind::kNone ? "null" : to_string(r.kind),
      r.cause.empty() ? "null" : r.cause, r.detail.empty() ? "null" : r.detail, samples);
}

// Every stored row, in the order of its time, one a line, as shown() makes them.
inline std::string stored_rows(const PostgresServer& pg) {
  return pg.sql(
      "SELECT string_agg(concat_ws('|', (extract(epoch FROM t) * 1000)::bigint, "
      "coalesce(total_us::text, 'null'), coalesce(dns_us::text, 'null'), "
      "coalesce(connect_us::text, 'null'), coalesce(tls_us::text, 'null'), "
      "coalesce(first_byte_us::text, 'null'), outcome, coalesce(http_status::text, 'null'), "
      "maintenance, monitor, location, node, coalesce(kind, 'null'), coalesce(cause, 'null'), "
      "coalesce(detail, 'null'), coalesce(encode(samples, 'hex'), 'null')), "
      "'#' ORDER BY t) FROM results");
}

// Rows stored by a transaction older than that of a row added before them: 0 when batches commit
// in the order their rows were added.
inline std::string out_of_order(const PostgresServer& pg) {
  return pg.sql(
      "SELECT count(*) FROM (SELECT xmin::text::bigint AS x, lag(xmin::text::bigint) OVER "
      "(ORDER BY t) AS before FROM results) AS s WHERE x < before");
}

// A migrated database with today's partition and the next day's.
inline void prepare_results(const PostgresServer& pg) {
  ASSERT_TRUE(migrate(pg).ok());
  const PgStatement s = make_result_partitions(1);
  pg.sql(s.sql);
}

inline int64_t now_ms() { return to_unix_ms(SystemClock().wall()); }

// A proxy in front of PostgreSQL that cuts the connection when the server answers the first COPY
// after cut_next(): it drops the COPY's CommandComplete and closes both sides. The server has
// committed by then (it ends a script's transaction before it reports the last statement), so
// the client loses the answer to a transaction that happened. It reads the server's messages
// from the first byte, so the client must ask for neither TLS nor GSS encryption.
class AnswerCutter {
 public:
  explicit AnswerCutter(int server_port) : server_port_(server_port) {
    listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr = loopback(0);
    if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        listen(listen_fd_, 8) != 0 || pipe(wake_) != 0) {
      throw std::runtime_error("cannot set up the proxy");
    }
    socklen_t len = sizeof addr;
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~AnswerCutter() {
    (void)!write(wake_[1], "x", 1);
    thread_.join();
    close(listen_fd_);
    close(wake_[0]);
    close(wake_[1]);
  }
  AnswerCutter(const AnswerCutter&) = delete;
  AnswerCutter& operator=(const AnswerCutter&) = delete;

  std::string dsn() const {
    return fmt::format(
        "host=127.0.0.1 port={} user=lookout dbname=postgres sslmode=disable gssencmode=disable",
        port_);
  }
  void cut_next() { armed_ = true; }
  int cuts() const { return cuts_; }

 private:
  static sockaddr_in loopback(int port) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    return addr;
  }

  // One client at a time, as the writer's connection is one.
  void serve() {
    for (;;) {
      pollfd fds[] = {{wake_[0], POLLIN, 0}, {listen_fd_, POLLIN, 0}};
      if (poll(fds, 2, -1) < 0 || fds[0].revents != 0) return;
      const int client = accept(listen_fd_, nullptr, nullptr);
      if (client < 0) continue;
      const int server = socket(AF_INET, SOCK_STREAM, 0);
      const sockaddr_in addr = loopback(server_port_);
      if (connect(server, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0) {
        if (!pump(client, server)) return;
      }
      close(client);
      close(server);
    }
  }

  // Relays both ways until a side closes or the cut; false when told to end.
  bool pump(int client, int server) {
    std::string from_server;  // bytes of a message not yet whole
    bool copying = false;     // the server asked for COPY data (CopyInResponse)
    char buf[65536];
    for (;;) {
      pollfd fds[] = {{wake_[0], POLLIN, 0}, {client, POLLIN, 0}, {server, POLLIN, 0}};
      if (poll(fds, 3, -1) < 0) return true;
      if (fds[0].revents != 0) return false;
      if (fds[1].revents != 0) {
        const ssize_t n = read(client, buf, sizeof buf);
        if (n <= 0 || write(server, buf, static_cast<size_t>(n)) != n) return true;
      }
      if (fds[2].revents != 0) {
        const ssize_t n = read(server, buf, sizeof buf);
        if (n <= 0) return true;
        from_server.append(buf, static_cast<size_t>(n));
        // Whole messages: a type byte, then a length that counts itself.
        size_t whole = 0;
        while (from_server.size() - whole >= 5) {
          uint32_t len = 0;
          std::memcpy(&len, from_server.data() + whole + 1, 4);
          const size_t size = 1 + ntohl(len);
          if (from_server.size() - whole < size) break;
          const char type = from_server[whole];
          if (type == 'G') copying = true;
          if (type == 'C' && copying && armed_.exchange(false)) {
            ++cuts_;
            return true;
          }
          if (type == 'C') copying = false;
          whole += size;
        }
        if (whole > 0 && write(client, from_server.data(), whole) != static_cast<ssize_t>(whole)) {
          return true;
        }
        from_server.erase(0, whole);
      }
    }
  }

  int server_port_;
  int listen_fd_ = -1;
  int port_ = 0;
  int wake_[2] = {-1, -1};
  std::atomic<bool> armed_{false};
  std::atomic<int> cuts_{0};
  std::thread thread_;
};

}  // namespace lookout::testing
