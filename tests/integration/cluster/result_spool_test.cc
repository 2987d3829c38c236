// The local spool against a real PostgreSQL: rows added while the server is stopped wait in the
// SQLite file and all go in, once and in order, when it is back; a process killed with a batch
// in doubt, whether the database took it before its answer was lost or never had it, resumes from
// the file and every row is in results once, whole; a spool that cannot be made or written says so
// and the rows still reach PostgreSQL; and through ten kill -9 of a process writing 2,000 rows a
// second, with the server stopped for some of them, no row is written twice and none is missing
// but the newest, never spooled.
#include "store/result_spool.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <memory>
#include <optional>
#include <random>
#include <thread>

#include "tests/integration/cluster/cluster_helpers.h"
#include "tests/integration/cluster/result_rows.h"
#include "tests/integration/harness.h"
#include "tests/support/temp_dir.h"

namespace lookout::testing {
namespace {

const ResultOrigin kSpoolOrigin{"fra-2", "fra"};

// A query's first row in the spool file, its columns joined by '|', read through a connection of
// the test's own, as the next process would read it.
std::string spool_sql(const std::string& path, const std::string& query) {
  sqlite3* db = nullptr;
  std::string out;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, query.c_str(), -1, &st, nullptr) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
      for (int i = 0; i < sqlite3_column_count(st); ++i) {
        const auto* t = sqlite3_column_text(st, i);
        out +=
            (i > 0 ? "|" : "") + std::string(t != nullptr ? reinterpret_cast<const char*>(t) : "");
      }
    }
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
  return out;
}

std::string spooled_rows(const std::string& path) {
  return spool_sql(path, "SELECT count(*), min(number), max(number) FROM spool_results");
}

// One process's writer on its spool: the connection, the spool with what the last one left, the
// writer resuming it. kill() leaves things as kill -9 would, once the spool has written what it
// was handed: the file as it is, the writer's memory gone.
struct SpooledWriter {
  SpooledWriter(EventLoop& loop, const std::string& dsn, const std::string& path,
                PgBackoff backoff = {Duration{50}, Duration{200}})
      : conn(std::make_unique<PgConnection>(loop, Secret::plain(dsn), nullptr, backoff)) {
    std::string error;
    spool = ResultSpool::open(loop, path, left, error);
    if (!spool) throw std::runtime_error(error);
    writer =
        std::make_unique<PgResultWriter>(loop, *conn, kSpoolOrigin, PgResultWriterOptions{}, left);
    attach_spool(*writer, *spool);
    conn->start();
    spool->start();
    writer->start();
  }
  // Turns the loop until every row up to `n` is in PostgreSQL and none is left in the file.
  bool settled(EventLoop& loop, uint64_t n) {
    return turn_until(
        loop, [&] { return writer->committed() >= n && spool->idle() && spool->rows() == 0; }, 30s);
  }
  void kill(EventLoop& loop) {
    writer.reset();
    ASSERT_TRUE(turn_until(
        loop, [&] { return spool->idle(); }, 10s));
    spool.reset();
    conn.reset();
  }

  ResultBacklog left;
  std::unique_ptr<PgConnection> conn;
  std::unique_ptr<ResultSpool> spool;
  std::unique_ptr<PgResultWriter> writer;
};

// Every row once, and no other: as many distinct times as rows, from t0 to t0 + rows - 1.
std::string each_once(const PostgresServer& pg, int64_t t0) {
  return pg.sql(fmt::format(
      "SELECT count(*), count(DISTINCT t), min(extract(epoch FROM t) * 1000)::bigint - {0}, "
      "max(extract(epoch FROM t) * 1000)::bigint - {0} + 1 FROM results",
      t0));
}

// A migrated server with today's partitions, a folder for the spool, and a loop.
class ResultSpoolOnPostgres : public ::testing::Test {
 protected:
  void SetUp() override {
    LOOKOUT_NEED_POSTGRES();
    pg_server.emplace();
    ASSERT_NO_FATAL_FAILURE(prepare_results(*pg_server));
  }

  std::optional<PostgresServer> pg_server;
  TempDir dir;
  const std::string path = dir.path() + "/lookout.db";
  EventLoop loop;
};

TEST_F(ResultSpoolOnPostgres, RowsWaitInTheFileWhileTheServerIsStoppedAndGoInOnceItIsBack) {
  PostgresServer& pg = *pg_server;
  const std::string deeper = dir.path() + "/spool/lookout.db";
  SpooledWriter node(loop, pg.dsn(), deeper);
  const int64_t t0 = now_ms();
  int added = 0;
  auto add = [&](int n) {
    for (int i = 0; i < n; ++i) node.writer->add(numbered_row(t0, added++));
  };
  add(500);
  ASSERT_TRUE(node.settled(loop, 500)) << node.writer->last_error();

  pg.stop();
  Timer feed(loop);
  feed.start_repeating(Duration{10}, [&] {
    if (added < 2500) add(20);
  });
  ASSERT_TRUE(turn_until(
      loop, [&] { return added == 2500 && node.spool->idle() && node.spool->rows() == 2000; }, 20s))
      << node.spool->rows();
  EXPECT_EQ(spooled_rows(deeper), "2000|501|2500");
  EXPECT_NE(node.writer->last_error(), "");
  EXPECT_EQ(node.writer->committed(), 500u);
  EXPECT_EQ(node.spool->last_error(), "");

  pg.start();
  ASSERT_TRUE(node.settled(loop, 2500)) << node.writer->last_error();
  EXPECT_EQ(each_once(pg, t0), "2500|2500|0|2500");
  EXPECT_EQ(out_of_order(pg), "0");
  EXPECT_EQ(spooled_rows(deeper), "0||");
}

// The proxy loses the answer to the first batch after it committed, and the connection stays
// down (a minute's backoff): the process is killed with the batch in doubt. The next one sends
// it again under the same id and number, the database refuses it by its mark, and the rows after
// it go in with numbers that go on.
TEST_F(ResultSpoolOnPostgres, AKilledProcessResumesABatchInDoubtThatTheDatabaseTook) {
  PostgresServer& pg = *pg_server;
  AnswerCutter cutter(pg.port());
  const int64_t t0 = now_ms();
  std::string first_id;
  {
    SpooledWriter node(loop, cutter.dsn(), path, PgBackoff{Duration{60'000}, Duration{60'000}});
    first_id = node.writer->id();
    cutter.cut_next();
    for (int i = 0; i < 100; ++i) node.writer->add(numbered_row(t0, i));
    ASSERT_TRUE(turn_until(
        loop, [&] { return cutter.cuts() == 1 && !node.writer->last_error().empty(); }, 20s));
    ASSERT_NO_FATAL_FAILURE(node.kill(loop));
  }
  EXPECT_EQ(pg.sql("SELECT count(*) FROM results"), "100") << "the batch committed";
  EXPECT_EQ(spooled_rows(path), "100|1|100");
  EXPECT_EQ(spool_sql(path, "SELECT writer, batch, first_number, last_number FROM spool_batch"),
            first_id + "|1|1|100");

  SpooledWriter node(loop, pg.dsn(), path);
  EXPECT_EQ(node.left.writer, first_id);
  EXPECT_EQ(node.left.batch, 1u);
  EXPECT_EQ(node.left.batch_rows, 100u);
  EXPECT_EQ(node.left.next_number, 101u);
  EXPECT_EQ(node.writer->id(), first_id);
  for (int i = 100; i < 150; ++i) EXPECT_EQ(node.writer->add(numbered_row(t0, i)), uint64_t(i + 1));
  ASSERT_TRUE(node.settled(loop, 150)) << node.writer->last_error();
  EXPECT_EQ(each_once(pg, t0), "150|150|0|150");
  EXPECT_EQ(out_of_order(pg), "0");
  EXPECT_EQ(pg.sql("SELECT count(DISTINCT xmin::text) FROM results"), "2");
  EXPECT_EQ(node.writer->written(), 150u) << "the batch in doubt counts as written";
  EXPECT_EQ(spooled_rows(path), "0||");
}

// The server is stopped while a batch is formed: it is recorded and fails, and the process is
// killed. The next one sends the batch under its old number, which the database never had, and
// every row arrives whole, as it was added, through the file.
TEST_F(ResultSpoolOnPostgres, AKilledProcessResumesABatchInDoubtThatNeverWentIn) {
  PostgresServer& pg = *pg_server;
  const int64_t t0 = now_ms();
  std::vector<ResultRow> sent;
  for (int i = 0; i < 300; ++i) sent.push_back(numbered_row(t0, i));
  std::string first_id;
  {
    SpooledWriter node(loop, pg.dsn(), path);
    first_id = node.writer->id();
    for (int i = 0; i < 100; ++i) node.writer->add(sent[static_cast<size_t>(i)]);
    ASSERT_TRUE(turn_until(
        loop, [&] { return node.writer->committed() == 100; }, 20s));
    pg.stop();
    for (int i = 100; i < 300; ++i) node.writer->add(sent[static_cast<size_t>(i)]);
    ASSERT_TRUE(turn_until(
        loop,
        [&] {
          return !node.writer->last_error().empty() && node.spool->idle() &&
                 node.spool->rows() == 200;
        },
        20s));
    ASSERT_NO_FATAL_FAILURE(node.kill(loop));
  }
  EXPECT_EQ(spooled_rows(path), "200|101|300");
  EXPECT_EQ(spool_sql(path, "SELECT writer, batch, first_number, last_number FROM spool_batch"),
            first_id + "|2|101|300");

  pg.start();
  SpooledWriter node(loop, pg.dsn(), path);
  EXPECT_EQ(node.left.batch, 2u);
  EXPECT_EQ(node.left.batch_rows, 200u);
  ASSERT_TRUE(node.settled(loop, 300)) << node.writer->last_error();
  std::string want;
  for (const auto& r : sent) want += (want.empty() ? "" : "#") + shown(r, kSpoolOrigin);
  EXPECT_EQ(stored_rows(pg), want);
  EXPECT_EQ(out_of_order(pg), "0");
  EXPECT_EQ(pg.sql(fmt::format("SELECT batch FROM result_batches WHERE writer = '{}'", first_id)),
            "2");
}

// The database has a newer mark of the old writer than the spool knows (the spool could not
// write while the writer went on): the rows after the batch in doubt go under a new writer id,
// so no new batch meets that mark and is taken for written.
TEST_F(ResultSpoolOnPostgres, BatchesAfterTheOneInDoubtGoUnderANewWriter) {
  PostgresServer& pg = *pg_server;
  const int64_t t0 = now_ms();
  std::string first_id;
  {
    SpooledWriter node(loop, pg.dsn(), path);
    first_id = node.writer->id();
    pg.stop();
    for (int i = 0; i < 100; ++i) node.writer->add(numbered_row(t0, i));
    ASSERT_TRUE(turn_until(
        loop,
        [&] {
          return !node.writer->last_error().empty() && node.spool->idle() &&
                 node.spool->rows() == 100;
        },
        20s));
    ASSERT_NO_FATAL_FAILURE(node.kill(loop));
  }
  pg.start();
  pg.sql(fmt::format("INSERT INTO result_batches (writer, batch) VALUES ('{}', 2), ('{}', 3)",
                     first_id, first_id));
  SpooledWriter node(loop, pg.dsn(), path);
  EXPECT_EQ(node.left.batch, 1u);
  ASSERT_TRUE(node.settled(loop, 100)) << node.writer->last_error();
  EXPECT_NE(node.writer->id(), first_id);
  for (int i = 100; i < 200; ++i) node.writer->add(numbered_row(t0, i));
  ASSERT_TRUE(node.settled(loop, 200)) << node.writer->last_error();
  EXPECT_EQ(each_once(pg, t0), "200|200|0|200");
}

// A spool whose folder cannot be made (its parent is a file: root can write anywhere else) is
// refused at open with the file and the reason; the writer runs without it.
TEST_F(ResultSpoolOnPostgres, ASpoolThatCannotBeMadeIsRefusedClearly) {
  PostgresServer& pg = *pg_server;
  std::ofstream(dir.path() + "/file") << "not a folder";
  ResultBacklog left;
  std::string error;
  EXPECT_EQ(ResultSpool::open(loop, dir.path() + "/file/spool/lookout.db", left, error), nullptr);
  EXPECT_EQ(error, "cannot create the folder of the result spool " + dir.path() +
                       "/file/spool: Not a directory");

  PgConnection c(loop, Secret::plain(pg.dsn()), nullptr);
  c.start();
  PgResultWriter writer(loop, c, kSpoolOrigin, PgResultWriterOptions{}, left);
  writer.start();
  const int64_t t0 = now_ms();
  for (int i = 0; i < 100; ++i) writer.add(numbered_row(t0, i));
  ASSERT_TRUE(turn_until(
      loop, [&] { return writer.committed() == 100; }, 20s));
  EXPECT_EQ(each_once(pg, t0), "100|100|0|100");
}

// Another connection holds the file's write lock: each transaction of the spool fails after its
// busy timeout, the writer's batches go on to PostgreSQL all the same, and once the lock goes the
// spool catches up (the rows PostgreSQL has by then never reach the file).
TEST_F(ResultSpoolOnPostgres, ASpoolThatCannotWriteLetsTheWriterGoOn) {
  PostgresServer& pg = *pg_server;
  SpooledWriter node(loop, pg.dsn(), path);
  sqlite3* locker = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &locker), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(locker, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr), SQLITE_OK);

  const int64_t t0 = now_ms();
  for (int i = 0; i < 100; ++i) node.writer->add(numbered_row(t0, i));
  ASSERT_TRUE(turn_until(
      loop, [&] { return node.writer->committed() == 100; }, 20s))
      << node.writer->last_error();
  EXPECT_EQ(node.spool->last_error(), "database is locked");
  EXPECT_EQ(pg.sql("SELECT count(*) FROM results"), "100");

  sqlite3_exec(locker, "COMMIT", nullptr, nullptr, nullptr);
  sqlite3_close(locker);
  for (int i = 100; i < 150; ++i) node.writer->add(numbered_row(t0, i));
  ASSERT_TRUE(turn_until(
      loop,
      [&] {
        return node.writer->committed() == 150 && node.spool->idle() &&
               node.spool->last_error().empty();
      },
      20s))
      << node.spool->last_error();
  EXPECT_EQ(spooled_rows(path), "0||");
  EXPECT_EQ(node.spool->rows(), 0u);
  EXPECT_EQ(each_once(pg, t0), "150|150|0|150");
}

// A node in a process of its own, as lookout run will be: it resumes the spool, then adds 20 rows
// every 10 ms, row n (its writer's number) made at t0 + n - 1, until it is killed.
[[noreturn]] void run_spooled_node(const std::string& dsn, const std::string& path, int64_t t0) {
  EventLoop loop;
  PgConnection c(loop, Secret::plain(dsn), nullptr, PgBackoff{Duration{50}, Duration{200}});
  ResultBacklog left;
  std::string error;
  auto spool = ResultSpool::open(loop, path, left, error);
  if (!spool) _exit(3);
  uint64_t next = left.next_number;
  PgResultWriter writer(loop, c, kSpoolOrigin, PgResultWriterOptions{}, std::move(left));
  attach_spool(writer, *spool);
  c.start();
  spool->start();
  writer.start();
  Timer feed(loop);
  feed.start_repeating(Duration{10}, [&] {
    for (int i = 0; i < 20; ++i, ++next) {
      if (writer.add(numbered_row(t0, static_cast<int>(next - 1))) != next) _exit(4);
    }
  });
  loop.run();
  _exit(0);
}

TEST_F(ResultSpoolOnPostgres, EveryRowIsWrittenOnceThroughKillsOfTheProcess) {
  PostgresServer& pg = *pg_server;
  const int64_t t0 = now_ms();
  std::mt19937 rng(std::random_device{}());
  std::uniform_int_distribution<int> lifetime_ms(300, 900);
  for (int round = 0; round < 10; ++round) {
    if (round == 4) pg.stop();
    if (round == 7) pg.start();
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) run_spooled_node(pg.dsn(), path, t0);
    // The moment of the kill is the point: anywhere in the node's writing.
    std::this_thread::sleep_for(std::chrono::milliseconds(lifetime_ms(rng)));
    ::kill(pid, SIGKILL);
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status)) << "the node ended by itself with status " << status;
  }

  SpooledWriter node(loop, pg.dsn(), path);
  const uint64_t last = node.left.next_number - 1;
  ASSERT_GT(last, 2000u);
  ASSERT_TRUE(node.settled(loop, last)) << node.writer->last_error();
  EXPECT_EQ(each_once(pg, t0), fmt::format("{0}|{0}|0|{0}", last));
  EXPECT_EQ(out_of_order(pg), "0");
  RecordProperty("rows", std::to_string(last));
}

}  // namespace
}  // namespace lookout::testing
