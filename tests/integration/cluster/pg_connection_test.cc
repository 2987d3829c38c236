// PgConnection against a real PostgreSQL: parameterised statements and scripts in order, COPY
// with its statements as one transaction and data of many chunks, a restart that fails what is
// in flight and is followed by a reconnect, the hosts of a
// multi-host DSN tried in order (a dead port, a host that never answers, a read-only standby
// before the primary with target_session_attrs=read-write), names resolved off the loop, and
// no password in any error.
#include "store/pg_connection.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "tests/integration/cluster/cluster_helpers.h"
#include "tests/integration/harness.h"

namespace lookout::testing {
namespace {

// What the tests hand the connection: answers kept in the order they came.
struct Answers {
  std::vector<PgResult> got;
  PgCallback keep() {
    return [this](PgResult r) { got.push_back(std::move(r)); };
  }
};

std::string only_value(const PgResult& r) {
  if (!r.ok() || r.rows.size() != 1 || r.rows[0].size() != 1 || !r.rows[0][0]) return "?";
  return *r.rows[0][0];
}

TEST(PgConnection, RunsParameterisedStatementsAndScriptsInOrder) {
  LOOKOUT_NEED_POSTGRES();
  PostgresServer pg;
  EventLoop loop;
  PgConnection c(loop, Secret::plain(pg.dsn()), nullptr);
  c.start();
  Answers a;
  c.query("SELECT $1::int + 1, $2::text IS NULL, $3::text", {"41", std::nullopt, "it's"}, a.keep());
  c.query("SELECT * FROM nowhere", {}, a.keep());
  // A script that fails inside BEGIN is rolled back before the next statement runs.
  c.script("BEGIN; CREATE TABLE t (x int); SELECT 1/0; COMMIT;", a.keep());
  c.query("SELECT to_regclass('t') IS NULL", {}, a.keep());
  c.script("CREATE TABLE u (x int); INSERT INTO u VALUES (1), (2); SELECT count(*) FROM u;",
           a.keep());
  for (int i = 0; i < 50; ++i) c.query("SELECT $1::int", {std::to_string(i)}, a.keep());
  ASSERT_TRUE(turn_until(
      loop, [&] { return a.got.size() == 55; }, 20s))
      << a.got.size();

  ASSERT_TRUE(a.got[0].ok()) << a.got[0].error;
  EXPECT_EQ(a.got[0].rows,
            (std::vector<std::vector<std::optional<std::string>>>{{"42", "t", "it's"}}));
  EXPECT_EQ(a.got[1].sqlstate, "42P01");
  EXPECT_EQ(a.got[1].error, fmt::format("PostgreSQL at 127.0.0.1:{}: relation \"nowhere\" does "
                                        "not exist",
                                        pg.port()));
  EXPECT_EQ(a.got[2].sqlstate, "22012") << a.got[2].error;
  EXPECT_EQ(only_value(a.got[3]), "t");
  EXPECT_EQ(only_value(a.got[4]), "2");
  for (int i = 0; i < 50; ++i)
    EXPECT_EQ(only_value(a.got[5 + static_cast<size_t>(i)]), std::to_string(i));
  EXPECT_TRUE(c.connected());
  EXPECT_EQ(c.server(), fmt::format("127.0.0.1:{}", pg.port()));
}

// A COPY goes in with the statements before it or not at all, and the connection carries on
// after one that failed. A COPY FROM STDIN sent without data fails instead of waiting forever.
TEST(PgConnection, CopiesWithItsStatementsAsOneTransaction) {
  LOOKOUT_NEED_POSTGRES();
  PostgresServer pg;
  pg.sql("CREATE TABLE marks (k int PRIMARY KEY); CREATE TABLE rows (x int, s text)");
  EventLoop loop;
  PgConnection c(loop, Secret::plain(pg.dsn()), nullptr);
  c.start();
  Answers a;
  c.copy("INSERT INTO marks VALUES (1); COPY rows (x, s) FROM STDIN", "1\ta\\tb\n2\t\\N\n",
         a.keep());
  // The second row is not a number: the COPY fails and the mark goes with it.
  c.copy("INSERT INTO marks VALUES (2); COPY rows (x, s) FROM STDIN", "3\tc\nfour\td\n", a.keep());
  // The mark is there already: the COPY never starts.
  c.copy("INSERT INTO marks VALUES (1); COPY rows (x, s) FROM STDIN", "5\te\n", a.keep());
  c.query("COPY rows (x, s) FROM STDIN", {}, a.keep());
  c.query("SELECT string_agg(k::text, ',' ORDER BY k) FROM marks", {}, a.keep());
  c.query("SELECT string_agg(x || '=' || coalesce(s, 'null'), ',' ORDER BY x) FROM rows", {},
          a.keep());
  ASSERT_TRUE(turn_until(
      loop, [&] { return a.got.size() == 6; }, 20s));
  EXPECT_TRUE(a.got[0].ok()) << a.got[0].error;
  EXPECT_EQ(a.got[1].sqlstate, "22P02") << a.got[1].error;
  EXPECT_EQ(a.got[2].sqlstate, "23505") << a.got[2].error;
  EXPECT_EQ(a.got[3].sqlstate, "57014") << a.got[3].error;
  EXPECT_NE(a.got[3].error.find("lookout sends COPY data only with PgConnection::copy"),
            std::string::npos)
      << a.got[3].error;
  EXPECT_EQ(only_value(a.got[4]), "1");
  EXPECT_EQ(only_value(a.got[5]), "1=a\tb,2=null");
}

// Data of many chunks, more than one turn's worth, arrives whole and in order.
TEST(PgConnection, CopiesDataOfManyChunks) {
  LOOKOUT_NEED_POSTGRES();
  PostgresServer pg;
  pg.sql("CREATE TABLE rows (x int, s text)");
  EventLoop loop;
  PgConnection c(loop, Secret::plain(pg.dsn()), nullptr);
  c.start();
  std::string data;
  const std::string filler(200, 'x');
  constexpr int kRows = 50'000;  // about 10 MB
  for (int i = 0; i < kRows; ++i) data += fmt::format("{}\t{}\n", i, filler);
  Answers a;
  c.copy("COPY rows (x, s) FROM STDIN", std::move(data), a.keep());
  c.query("SELECT count(*), sum(x), bool_and(s = repeat('x', 200)) FROM rows", {}, a.keep());
  ASSERT_TRUE(turn_until(
      loop, [&] { return a.got.size() == 2; }, 60s));
  ASSERT_TRUE(a.got[0].ok()) << a.got[0].error;
  ASSERT_TRUE(a.got[1].ok()) << a.got[1].error;
  EXPECT_EQ(a.got[1].rows,
            (std::vector<std::vector<std::optional<std::string>>>{
                {std::to_string(kRows), std::to_string(int64_t{kRows} * (kRows - 1) / 2), "t"}}));
}

// pg_ctl restart ends every connection: the statement in flight fails with the server's word,
// and once the server is back the connection is made again by itself.
TEST(PgConnection, SurvivesARestart) {
  LOOKOUT_NEED_POSTGRES();
  PostgresServer pg;
  EventLoop loop;
  int connects = 0;
  PgConnection c(loop, Secret::plain(pg.dsn()), nullptr);
  c.set_on_connect([&] { ++connects; });
  c.start();
  Answers a;
  c.query("SELECT 1", {}, a.keep());
  ASSERT_TRUE(turn_until(
      loop, [&] { return a.got.size() == 1; }, 10s));
  ASSERT_TRUE(a.got[0].ok()) << a.got[0].error;

  c.query("SELECT pg_sleep(30)", {}, a.keep());
  std::thread restart([&] {
    std::this_thread::sleep_for(300ms);
    pg.restart();
  });
  ASSERT_TRUE(turn_until(
      loop, [&] { return a.got.size() == 2; }, 20s));
  restart.join();
  EXPECT_FALSE(a.got[1].ok());
  EXPECT_NE(a.got[1].error.find(fmt::format("127.0.0.1:{}", pg.port())), std::string::npos)
      << a.got[1].error;

  // The caller decides what to retry: here, until the server answers again.
  bool answered = false;
  // The test owns the retry timers: a timer whose callback held the timer would never be freed.
  std::vector<std::unique_ptr<Timer>> retries;
  std::function<void()> ask = [&] {
    c.query("SELECT 2", {}, [&](PgResult r) {
      if (r.ok()) {
        answered = only_value(r) == "2";
      } else {
        retries.push_back(std::make_unique<Timer>(loop));
        retries.back()->start(Duration{100}, [&] { ask(); });
      }
    });
  };
  ask();
  ASSERT_TRUE(turn_until(
      loop, [&] { return answered; }, 20s))
      << c.last_error();
  EXPECT_EQ(connects, 2);
  EXPECT_EQ(c.last_error(), "");
}

TEST(PgConnection, TriesTheNextHostAfterADeadPort) {
  LOOKOUT_NEED_POSTGRES();
  PostgresServer pg;
  const int dead = free_port();
  EventLoop loop;
  PgConnection c(loop,
                 Secret::plain(fmt::format("host=127.0.0.1,127.0.0.1 port={},{} user=lookout "
                                           "dbname=postgres",
                                           dead, pg.port())),
                 nullptr);
  c.start();
  Answers a;
  c.query("SELECT inet_server_port()", {}, a.keep());
  ASSERT_TRUE(turn_until(
      loop, [&] { return a.got.size() == 1; }, 10s));
  EXPECT_EQ(only_value(a.got[0]), std::to_string(pg.port())) << a.got[0].error;
  EXPECT_EQ(c.server(), fmt::format("127.0.0.1:{}", pg.port()));
}

// A host whose server never answers (its packets dropped, or a process that accepts and says
// nothing) gets connect_timeout, then the next host is tried.
TEST(PgConnection, TriesTheNextHostAfterOneThatNeverAnswers) {
  LOOKOUT_NEED_POSTGRES();
  PostgresServer pg;
  RawServer silent(RawServer::Mode::kSilent);
  EventLoop loop;
  PgConnection c(loop,
                 Secret::plain(fmt::format("host=127.0.0.1,127.0.0.1 port={},{} user=lookout "
                                           "dbname=postgres connect_timeout=2",
                                           silent.port(), pg.port())),
                 nullptr);
  const auto start = std::chrono::steady_clock::now();
  c.start();
  Answers a;
  c.query("SELECT inet_server_port()", {}, a.keep());
  ASSERT_TRUE(turn_until(
      loop, [&] { return a.got.size() == 1; }, 15s));
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(only_value(a.got[0]), std::to_string(pg.port())) << a.got[0].error;
  EXPECT_GE(took, 1900ms);
  EXPECT_LT(took, 6s);
}

// A name in the DSN is looked up on the thread pool (libpq would block the loop on it) and
// handed to libpq as hostaddr: localhost may give ::1 first, where nothing listens.
TEST(PgConnection, ResolvesHostNamesOffTheLoop) {
  LOOKOUT_NEED_POSTGRES();
  PostgresServer pg;
  EventLoop loop;
  PgConnection c(
      loop, Secret::plain(fmt::format("postgresql://lookout@localhost:{}/postgres", pg.port())),
      nullptr);
  c.start();
  Answers a;
  c.query("SELECT inet_server_addr()::text", {}, a.keep());
  ASSERT_TRUE(turn_until(
      loop, [&] { return a.got.size() == 1; }, 10s));
  EXPECT_EQ(only_value(a.got[0]), "127.0.0.1/32") << a.got[0].error;
  EXPECT_EQ(c.server(), fmt::format("localhost:{}", pg.port()));
}

// With a streaming standby listed first, target_session_attrs=read-write lands on the primary;
// with the standby alone, the attempt fails saying why.
TEST(PgConnection, ReadWriteFindsThePrimaryBehindAStandby) {
  LOOKOUT_NEED_POSTGRES();
  PostgresServer primary;
  PostgresServer standby(primary);
  ASSERT_EQ(standby.sql("SELECT pg_is_in_recovery()"), "t");
  EventLoop loop;
  PgConnection both(loop,
                    Secret::plain(fmt::format("postgresql://lookout@127.0.0.1:{},127.0.0.1:{}/"
                                              "postgres?target_session_attrs=read-write",
                                              standby.port(), primary.port())),
                    nullptr);
  PgConnection only_standby(
      loop,
      Secret::plain(fmt::format(
          "host=127.0.0.1 port={} user=lookout dbname=postgres target_session_attrs=read-write",
          standby.port())),
      nullptr);
  both.start();
  only_standby.start();
  Answers a, b;
  both.query("SELECT inet_server_port(), pg_is_in_recovery()", {}, a.keep());
  only_standby.query("SELECT 1", {}, b.keep());
  ASSERT_TRUE(turn_until(
      loop, [&] { return a.got.size() == 1 && b.got.size() == 1; }, 15s));
  ASSERT_TRUE(a.got[0].ok()) << a.got[0].error;
  EXPECT_EQ(a.got[0].rows[0][0], std::to_string(primary.port()));
  EXPECT_EQ(a.got[0].rows[0][1], "f");
  EXPECT_FALSE(b.got[0].ok());
  EXPECT_NE(b.got[0].error.find("read-only"), std::string::npos) << b.got[0].error;
  only_standby.stop();
}

// Down between attempts, a statement fails at once with the reason, which names the server and
// never the password; the attempts go on with a growing wait.
TEST(PgConnection, UnreachableFailsAtOnceAndShowsNoPassword) {
  const int dead = free_port();
  const std::string password = "Canary-5b0e-pw";
  auto redactor = std::make_shared<Redactor>();
  redactor->add(password);
  EventLoop loop;
  PgConnection c(loop,
                 Secret(fmt::format("host=127.0.0.1 port={} user=lookout dbname=postgres "
                                    "password={}",
                                    dead, password),
                        true),
                 redactor);
  c.start();
  Answers a;
  c.query("SELECT 1", {}, a.keep());
  ASSERT_TRUE(turn_until(
      loop, [&] { return a.got.size() == 1; }, 10s));
  const auto asked = std::chrono::steady_clock::now();
  c.query("SELECT 1", {}, a.keep());
  ASSERT_TRUE(turn_until(
      loop, [&] { return a.got.size() == 2; }, 10s));
  EXPECT_LT(std::chrono::steady_clock::now() - asked, 200ms);
  for (const auto& r : a.got) {
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.error.rfind(fmt::format("cannot connect to PostgreSQL at 127.0.0.1:{}: ", dead), 0),
              0u)
        << r.error;
    EXPECT_NE(r.error.find("Connection refused"), std::string::npos) << r.error;
    EXPECT_EQ(r.error.find(password), std::string::npos) << r.error;
  }
  EXPECT_FALSE(c.connected());
  EXPECT_EQ(c.last_error(), a.got[0].error);
  c.stop();
}

}  // namespace
}  // namespace lookout::testing
