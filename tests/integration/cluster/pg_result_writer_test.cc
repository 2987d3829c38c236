// PgResultWriter against a real PostgreSQL: rows added on the loop arrive whole (every column)
// and batch after batch in the order they were added; a restart of the server in the middle of
// writing loses no row and writes none twice; a batch whose answer is lost after it committed
// is not written again; rows of days without a partition get theirs; the loop keeps turning
// while a large backlog is written; and past its bound the writer drops the oldest.
#include "store/pg_result_writer.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "tests/integration/cluster/cluster_helpers.h"
#include "tests/integration/harness.h"

namespace lookout::testing {
namespace {

const ResultOrigin kWriterOrigin{"fra-1", "fra"};

// Row i of a run of rows from t0_ms on, one millisecond apart, with a bit of everything.
ResultRow numbered_row(int64_t t0_ms, int i) {
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

// The row as the query in stored_rows() shows it.
std::string shown(const ResultRow& r, const ResultOrigin& o) {
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
std::string stored_rows(const PostgresServer& pg) {
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
std::string out_of_order(const PostgresServer& pg) {
  return pg.sql(
      "SELECT count(*) FROM (SELECT xmin::text::bigint AS x, lag(xmin::text::bigint) OVER "
      "(ORDER BY t) AS before FROM results) AS s WHERE x < before");
}

// A migrated database with today's partition and the next day's.
void prepare(const PostgresServer& pg) {
  ASSERT_TRUE(migrate(pg).ok());
  const PgStatement s = make_result_partitions(1);
  pg.sql(s.sql);
}

int64_t now_ms() { return to_unix_ms(SystemClock().wall()); }

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

TEST(PgResultWriter, RowsArriveWholeAndInOrder) {
  LOOKOUT_NEED_POSTGRES();
  PostgresServer pg;
  ASSERT_NO_FATAL_FAILURE(prepare(pg));
  EventLoop loop;
  PgConnection c(loop, Secret::plain(pg.dsn()), nullptr);
  c.start();
  PgResultWriter writer(loop, c, kWriterOrigin);
  std::vector<uint64_t> reports;
  writer.set_on_committed([&](uint64_t through) { reports.push_back(through); });
  writer.start();

  // 250 rows every 100 ms for 2 s: about eight flushes, so as many batches.
  constexpr int kRows = 5000;
  const int64_t t0 = now_ms();
  std::vector<ResultRow> sent;
  Timer feed(loop);
  feed.start_repeating(Duration{100}, [&] {
    for (int i = 0; i < 250 && sent.size() < kRows; ++i) {
      sent.push_back(numbered_row(t0, static_cast<int>(sent.size())));
      EXPECT_EQ(writer.add(sent.back()), sent.size());
    }
    if (sent.size() == kRows) feed.stop();
  });
  ASSERT_TRUE(turn_until(
      loop, [&] { return writer.committed() == kRows; }, 30s))
      << writer.committed() << " " << writer.last_error();

  std::string want;
  for (const auto& r : sent) want += (want.empty() ? "" : "#") + shown(r, kWriterOrigin);
  EXPECT_EQ(stored_rows(pg), want);
  EXPECT_EQ(out_of_order(pg), "0");
  EXPECT_GT(std::stoi(pg.sql("SELECT count(DISTINCT xmin::text) FROM results")), 4);
  EXPECT_EQ(writer.written(), uint64_t{kRows});
  EXPECT_EQ(writer.waiting(), 0u);
  EXPECT_EQ(writer.last_error(), "");
  ASSERT_FALSE(reports.empty());
  EXPECT_TRUE(std::is_sorted(reports.begin(), reports.end()));
  EXPECT_EQ(reports.back(), uint64_t{kRows});
}

// pg_ctl restart in the middle of writing, twice: the batch in flight fails, or commits with its
// answer lost; either way it goes again, and the database has each row once.
TEST(PgResultWriter, ARestartLosesNoRowAndWritesNoneTwice) {
  LOOKOUT_NEED_POSTGRES();
  PostgresServer pg;
  ASSERT_NO_FATAL_FAILURE(prepare(pg));
  EventLoop loop;
  PgConnection c(loop, Secret::plain(pg.dsn()), nullptr, PgBackoff{Duration{50}, Duration{200}});
  int connects = 0;
  c.set_on_connect([&] { ++connects; });
  c.start();
  PgResultWriter writer(loop, c, kWriterOrigin);
  writer.start();

  // 20 rows every 10 ms for 4 s: 8,000 rows, the server restarted at 1 s and at 2.5 s.
  constexpr int kRows = 8000;
  const int64_t t0 = now_ms();
  int added = 0;
  bool failed = false;
  Timer feed(loop);
  feed.start_repeating(Duration{10}, [&] {
    for (int i = 0; i < 20 && added < kRows; ++i) writer.add(numbered_row(t0, added++));
    failed = failed || !writer.last_error().empty();
    if (added == kRows) feed.stop();
  });
  std::atomic<bool> restarted{false};
  std::thread restarts([&] {
    std::this_thread::sleep_for(1s);
    pg.restart();
    std::this_thread::sleep_for(1500ms);
    pg.restart();
    restarted = true;
  });
  const bool done = turn_until(
      loop, [&] { return restarted && added == kRows && writer.committed() == kRows; }, 60s);
  restarts.join();
  ASSERT_TRUE(done) << writer.committed() << " " << writer.last_error();

  EXPECT_EQ(connects, 3);
  EXPECT_TRUE(failed) << "no batch failed: the restarts missed the writing";
  EXPECT_EQ(pg.sql("SELECT count(*), count(DISTINCT t), min(t) = to_timestamp(" +
                   std::to_string(t0) + " / 1000.0), max(t) = to_timestamp(" +
                   std::to_string(t0 + kRows - 1) + " / 1000.0) FROM results"),
            fmt::format("{}|{}|t|t", kRows, kRows));
  EXPECT_EQ(out_of_order(pg), "0");
  EXPECT_EQ(writer.written(), uint64_t{kRows});
  EXPECT_EQ(writer.dropped(), 0u);
}

// The connection is cut as the answer to a committed batch comes back: the writer cannot know
// whether the batch went in, sends it again, and the batch's mark in result_batches makes the
// database refuse it. The rows are there once.
TEST(PgResultWriter, ABatchWhoseAnswerIsLostIsNotWrittenTwice) {
  LOOKOUT_NEED_POSTGRES();
  PostgresServer pg;
  ASSERT_NO_FATAL_FAILURE(prepare(pg));
  AnswerCutter cutter(pg.port());
  EventLoop loop;
  PgConnection c(loop, Secret::plain(cutter.dsn()), nullptr,
                 PgBackoff{Duration{50}, Duration{200}});
  int connects = 0;
  c.set_on_connect([&] { ++connects; });
  c.start();
  PgResultWriter writer(loop, c, kWriterOrigin);
  writer.start();
  const int64_t t0 = now_ms();
  cutter.cut_next();
  for (int i = 0; i < 100; ++i) writer.add(numbered_row(t0, i));
  ASSERT_TRUE(turn_until(
      loop, [&] { return writer.committed() == 100; }, 20s))
      << writer.committed() << " " << writer.last_error();
  EXPECT_EQ(cutter.cuts(), 1);
  EXPECT_EQ(connects, 2);
  EXPECT_EQ(pg.sql("SELECT count(*), count(DISTINCT t), count(DISTINCT xmin::text) FROM results"),
            "100|100|1");

  for (int i = 100; i < 150; ++i) writer.add(numbered_row(t0, i));
  ASSERT_TRUE(turn_until(
      loop, [&] { return writer.committed() == 150; }, 20s))
      << writer.last_error();
  EXPECT_EQ(pg.sql("SELECT count(*), count(DISTINCT t) FROM results"), "150|150");
  EXPECT_EQ(writer.written(), 150u);
  EXPECT_EQ(pg.sql(fmt::format("SELECT string_agg(batch::text, ',') FROM result_batches WHERE "
                               "writer = '{}'",
                               writer.id())),
            "2")
      << "only the writer's last mark is kept";
}

TEST(PgResultWriter, RowsOfDaysWithoutAPartitionGetTheirs) {
  LOOKOUT_NEED_POSTGRES();
  PostgresServer pg;
  ASSERT_TRUE(migrate(pg).ok());
  EventLoop loop;
  PgConnection c(loop, Secret::plain(pg.dsn()), nullptr);
  c.start();
  PgResultWriter writer(loop, c, kWriterOrigin);
  writer.start();
  const int64_t now = now_ms();
  writer.add(numbered_row(now - 12LL * 86'400'000, 0));
  writer.add(numbered_row(now, 1));
  ASSERT_TRUE(turn_until(
      loop, [&] { return writer.committed() == 2; }, 10s))
      << writer.last_error();
  EXPECT_EQ(pg.sql("SELECT count(*), count(DISTINCT tableoid) FROM results"), "2|2");
  EXPECT_EQ(writer.last_error(), "");
}

// 100,000 rows at once go as ten COPYs of about 1 MB each, while a 2 ms timer of the loop keeps
// firing: a write that held the loop would show one gap between its firings about as long as
// the whole write. The longest is a batch being made (about 10 ms at -O2, 80 ms under ASan).
TEST(PgResultWriter, TheLoopTurnsWhileABacklogIsWritten) {
  LOOKOUT_NEED_POSTGRES();
  PostgresServer pg;
  ASSERT_NO_FATAL_FAILURE(prepare(pg));
  EventLoop loop;
  PgConnection c(loop, Secret::plain(pg.dsn()), nullptr);
  c.start();
  PgResultWriter writer(loop, c, kWriterOrigin);
  writer.start();
  constexpr int kRows = 100'000;
  const int64_t t0 = now_ms();
  for (int i = 0; i < kRows; ++i) writer.add(numbered_row(t0, i));

  using Clock = std::chrono::steady_clock;
  auto last = Clock::now();
  Clock::duration longest{};
  Timer tick(loop);
  tick.start_repeating(Duration{2}, [&] {
    const auto now = Clock::now();
    longest = std::max(longest, now - last);
    last = now;
  });
  const auto start = Clock::now();
  ASSERT_TRUE(turn_until(
      loop, [&] { return writer.committed() == kRows; }, 60s))
      << writer.committed() << " " << writer.last_error();
  const auto took = Clock::now() - start;
  tick.stop();

  EXPECT_EQ(pg.sql("SELECT count(*) FROM results"), std::to_string(kRows));
  EXPECT_LT(longest, took / 4) << "of " << std::chrono::duration<double>(took).count() << " s";
  RecordProperty("seconds", fmt::format("{:.2f}", std::chrono::duration<double>(took).count()));
  RecordProperty("longest_turn_ms",
                 fmt::format("{:.1f}", std::chrono::duration<double, std::milli>(longest).count()));
}

// While PostgreSQL cannot be reached, rows wait up to max_rows; past it, the oldest go, a tenth of
// the bound at a time, the batch that failed among them, and the rows after them keep their
// numbers. (The failure comes at once and the next flush 50 ms later: none is in flight here.)
TEST(PgResultWriter, DropsTheOldestPastItsBound) {
  EventLoop loop;
  PgConnection c(loop,
                 Secret::plain(fmt::format("host=127.0.0.1 port={} user=lookout", free_port())),
                 nullptr);
  c.start();
  PgResultWriter writer(loop, c, kWriterOrigin, PgResultWriterOptions{Duration{50}, 50, 100});
  writer.start();
  for (int i = 0; i < 100; ++i) writer.add(numbered_row(0, i));
  turn_until(
      loop, [&] { return !writer.last_error().empty(); }, 5s);
  EXPECT_EQ(writer.dropped(), 0u);
  for (int i = 100; i < 250; ++i) writer.add(numbered_row(0, i));
  EXPECT_EQ(writer.dropped(), 150u);
  EXPECT_EQ(writer.waiting(), 100u);
  EXPECT_EQ(writer.committed(), 150u) << "rows up to 150 are gone";
  EXPECT_EQ(writer.written(), 0u);
  EXPECT_NE(writer.last_error().find("cannot connect to PostgreSQL"), std::string::npos)
      << writer.last_error();
}

}  // namespace
}  // namespace lookout::testing
