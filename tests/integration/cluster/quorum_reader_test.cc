// The deciding node's quorum against a real PostgreSQL: a gained shard's monitors carry on from
// their stored state (a takeover changes nothing by itself), the locations' reports decide them,
// a report counts by when the database wrote it whatever its run times say, a report whose
// transaction commits seconds after it was stamped still counts, and a shard lost drops its
// monitors.
#include "alerting/quorum_reader.h"

#include <gtest/gtest.h>

#include "store/lease_plan.h"
#include "tests/integration/cluster/cluster_helpers.h"
#include "tests/integration/harness.h"

namespace lookout::testing {
namespace {

// A location's report of home, written `ago` before the server's clock, about a run at `run_ms`.
void put_report(const PostgresServer& pg, const std::string& location, const std::string& state,
                const std::string& ago = "0 s", int64_t run_ms = 1'765'000'000'000) {
  pg.sql(fmt::format(
      "INSERT INTO location_states (monitor, location, state, since, recent, last_check, cause, "
      "shard, reported_at) VALUES ('home', '{0}', '{1}', 'epoch'::timestamptz, '{2}', "
      "'epoch'::timestamptz + {3} * interval '1 millisecond', '{4}', {5}, clock_timestamp() - "
      "interval '{6}') ON CONFLICT (monitor, location) DO UPDATE SET state = excluded.state, "
      "recent = excluded.recent, cause = excluded.cause, reported_at = excluded.reported_at",
      location, state, state == "up" ? "uu" : "dd", run_ms,
      state == "up" ? "" : "timeout at " + location, shard_of("home"), ago));
}

struct Deciding {
  explicit Deciding(const PostgresServer& pg)
      : config(home_config(pg)),
        conn(loop, Secret::plain(pg.dsn()), nullptr),
        reader(
            loop, conn, clock, config, [this] { return held; },
            [this](const MonitorConfig& m, const QuorumDecision& d) {
              changes.push_back(m.name + " " + to_string(d.after) + ": " + d.cause);
            },
            Duration{100}) {
    conn.start();
    require_schema(loop, conn);
  }
  SystemClock clock;
  EventLoop loop;
  Config config;
  PgConnection conn;
  std::map<int, int64_t> held{{shard_of("home"), 1}};
  std::vector<std::string> changes;
  QuorumReader reader;
};

TEST(QuorumReader, AGainedShardCarriesOnFromItsStoredStateAndTheReportsDecide) {
  LOOKOUT_NEED_POSTGRES();
  PostgresServer pg;
  Deciding d(pg);
  pg.sql(fmt::format(
      "INSERT INTO monitor_states (monitor, state, since, recent, last_cause, shard, decided_by) "
      "VALUES ('home', 'down', 'epoch'::timestamptz + interval '1 day', '', "
      "'down from fra, nyc (2 of 2): timeout at fra', {}, 'fra-2')",
      shard_of("home")));
  put_report(pg, "fra", "down");
  put_report(pg, "nyc", "down");
  d.reader.start();
  ASSERT_TRUE(turn_until(
      d.loop,
      [&] {
        const auto* q = d.reader.quorum("home");
        return q != nullptr && q->view(d.clock.wall(), Duration{5000}).size() == 2;
      },
      10s))
      << d.reader.last_error();
  // Down before the takeover, down after: nothing changes over a few more reads (a tick every
  // 100 ms), as nothing should.
  turn_until(
      d.loop, [&] { return !d.changes.empty(); }, 300ms);
  EXPECT_TRUE(d.changes.empty()) << ::testing::PrintToString(d.changes);
  EXPECT_EQ(d.reader.quorum("home")->state(), State::kDown);
  EXPECT_EQ(d.reader.quorum("home")->since(), from_unix_ms(86'400'000));

  // Both locations up again: up, once.
  put_report(pg, "fra", "up");
  put_report(pg, "nyc", "up");
  ASSERT_TRUE(turn_until(
      d.loop, [&] { return !d.changes.empty(); }, 10s));
  EXPECT_EQ(d.changes, std::vector<std::string>{"home up: "});

  // The shard goes: its monitor is no longer decided here.
  d.held.clear();
  ASSERT_TRUE(turn_until(
      d.loop, [&] { return d.reader.quorum("home") == nullptr; }, 10s));
}

TEST(QuorumReader, AReportCountsByWhenTheDatabaseWroteItNotByItsRunTime) {
  LOOKOUT_NEED_POSTGRES();
  PostgresServer pg;
  Deciding d(pg);
  // fra's node runs ten minutes behind, yet its report was just written: it counts. nyc's was
  // written a minute ago: stale, whatever its run time.
  put_report(pg, "fra", "down", "0 s", 1'765'000'000'000 - 600'000);
  put_report(pg, "nyc", "up", "60 s");
  d.reader.start();
  ASSERT_TRUE(turn_until(
      d.loop, [&] { return !d.changes.empty(); }, 10s))
      << d.reader.last_error();
  // One fresh location, down: down from fra (1 of 1); nyc is not read (written before the
  // freshness bound) and so not counted.
  EXPECT_EQ(d.changes,
            std::vector<std::string>{"home down: down from fra (1 of 1): timeout at fra"});
}

TEST(QuorumReader, AReportWhoseTransactionCommitsLateStillCounts) {
  LOOKOUT_NEED_POSTGRES();
  PostgresServer pg;
  Deciding d(pg);
  put_report(pg, "fra", "up");
  put_report(pg, "nyc", "up");
  d.reader.start();
  ASSERT_TRUE(turn_until(
      d.loop, [&] { return !d.changes.empty(); }, 10s))
      << d.reader.last_error();
  ASSERT_EQ(d.changes, std::vector<std::string>{"home up: "});
  // Both locations say down in a transaction that commits 2.5 s after it stamped the reports:
  // older by then than a window of a few reads, yet fresh (the bound is 5 s here), and read
  // because the reads ask for what transactions still running at the last read wrote.
  PgConnection slow(d.loop, Secret::plain(pg.dsn()), nullptr);
  slow.start();
  std::optional<PgResult> committed;
  slow.script(
      "BEGIN; UPDATE location_states SET state = 'down', recent = 'dd', cause = 'timeout at ' || "
      "location, reported_at = clock_timestamp() WHERE monitor = 'home'; SELECT pg_sleep(2.5); "
      "COMMIT;",
      [&](const PgResult& r) { committed = r; });
  ASSERT_TRUE(turn_until(
      d.loop, [&] { return d.changes.size() > 1; }, 10s))
      << d.reader.last_error();
  ASSERT_TRUE(committed.has_value());
  EXPECT_TRUE(committed->ok()) << committed->error;
  EXPECT_EQ(d.changes.back().rfind("home down: down from fra, nyc (2 of 2)", 0), 0U)
      << d.changes.back();
}

}  // namespace
}  // namespace lookout::testing
