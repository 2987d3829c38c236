// PgResultWriter against a real PostgreSQL: rows added on the loop arrive whole (every column)
// and batch after batch in the order they were added; a restart of the server in the middle of
// writing loses no row and writes none twice; a batch whose answer is lost after it committed
// is not written again; rows of days without a partition get theirs; the loop keeps turning
// while a large backlog is written; and past its bound the writer drops the oldest.
#include "store/pg_result_writer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "tests/integration/cluster/cluster_helpers.h"
#include "tests/integration/cluster/result_rows.h"
#include "tests/integration/harness.h"

namespace lookout::testing {
namespace {

const ResultOrigin kWriterOrigin{"fra-1", "fra"};

// Where no server listens: every statement fails at once.
std::string unreachable_dsn() {
  return fmt::format("host=127.0.0.1 port={} user=lookout", free_port());
}

TEST(PgResultWriter, RowsArriveWholeAndInOrder) {
  LOOKOUT_NEED_POSTGRES();
  PostgresServer pg;
  ASSERT_NO_FATAL_FAILURE(prepare_results(pg));
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
  ASSERT_NO_FATAL_FAILURE(prepare_results(pg));
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
  ASSERT_NO_FATAL_FAILURE(prepare_results(pg));
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
  ASSERT_NO_FATAL_FAILURE(prepare_results(pg));
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
  PgConnection c(loop, Secret::plain(unreachable_dsn()), nullptr);
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

// A batch formed waits for on_batch's go: nothing is sent before it, the batch is sent once it
// comes, and is then sent again as before, without asking again. (The server is unreachable:
// each send fails at once.)
TEST(PgResultWriter, ABatchWaitsForItsGo) {
  EventLoop loop;
  PgConnection c(loop, Secret::plain(unreachable_dsn()), nullptr);
  c.start();
  PgResultWriter writer(loop, c, kWriterOrigin, PgResultWriterOptions{Duration{20}, 50, 1000});
  std::vector<FormedBatch> formed;
  std::function<void()> go;
  writer.set_on_batch([&](const FormedBatch& b, std::function<void()> g) {
    formed.push_back(b);
    go = std::move(g);
  });
  std::vector<uint64_t> added;
  writer.set_on_added([&](uint64_t n, const ResultRow&) { added.push_back(n); });
  writer.start();
  for (int i = 0; i < 80; ++i) writer.add(numbered_row(0, i));
  turn_until(
      loop, [&] { return false; }, std::chrono::milliseconds(200));
  ASSERT_EQ(formed.size(), 1u);
  EXPECT_EQ(formed[0].writer, writer.id());
  EXPECT_EQ(formed[0].batch, 1u);
  EXPECT_EQ(formed[0].first, 1u);
  EXPECT_EQ(formed[0].last, 50u);
  EXPECT_EQ(added.size(), 80u);
  EXPECT_EQ(added.back(), 80u);
  EXPECT_EQ(writer.last_error(), "") << "nothing was sent";

  go();
  EXPECT_TRUE(turn_until(
      loop, [&] { return !writer.last_error().empty(); }, std::chrono::seconds(1)));
  turn_until(
      loop, [&] { return false; }, std::chrono::milliseconds(100));
  EXPECT_EQ(formed.size(), 1u) << "the batch goes again without being formed anew";
}

}  // namespace
}  // namespace lookout::testing
