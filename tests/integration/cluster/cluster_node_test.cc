// A node of cluster mode against a real PostgreSQL: nodes with the same monitors join and share
// the work; one whose monitors differ from a live node's is refused, naming the monitor; one
// started before its database joins once it answers; a newer schema is refused; a stop hands
// the leases over, leaves and writes the results still waiting, and what the database did not
// take stays in the spool for the next start; a spool that cannot be made ends the start.
#include "daemon/cluster_node.h"

#include <gtest/gtest.h>

#include "store/lease_plan.h"
#include "tests/integration/cluster/cluster_helpers.h"
#include "tests/integration/harness.h"

namespace lookout::testing {
namespace {

const char* const kMonitors =
    "[[monitor]]\nname = \"home\"\ntype = \"http\"\nurl = \"http://127.0.0.1:9/\"\n"
    "[[monitor]]\nname = \"api\"\ntype = \"http\"\nurl = \"http://127.0.0.1:9/api\"\n";

// A node's spool: its own file, by the test's server and the node's name.
std::string spool_of(const PostgresServer& pg, const std::string& node) {
  static const TempDir dir;
  return dir.file(fmt::format("spool-{}-{}.db", pg.port(), node));
}

Config node_config(const PostgresServer& pg, const std::string& node,
                   const std::string& monitors = kMonitors,
                   std::optional<std::string> spool = std::nullopt) {
  const std::string text = fmt::format(
      "[storage]\npath = \"{}\"\n[cluster]\ndsn = \"{}\"\nnode = \"{}\"\nlocation = \"fra\"\n"
      "lease = \"2s\"\n{}",
      spool.value_or(spool_of(pg, node)), pg.dsn(), node, monitors);
  return config_from(text);
}

// A node as `lookout run` keeps one; the nodes of a test share one loop.
struct Node {
  Node(EventLoop& on, const PostgresServer& pg, const std::string& name,
       const std::string& monitors = kMonitors, std::optional<std::string> spool = std::nullopt)
      : loop(on),
        config(node_config(pg, name, monitors, std::move(spool))),
        node(loop, clock, config, "0.1.0") {
    node.start([this](const std::string& e) { error = e; });
  }
  bool ready() {
    return turn_until(
        loop, [&] { return error.has_value(); }, 20s);
  }
  ::testing::AssertionResult joins() {
    if (!ready()) return ::testing::AssertionFailure() << "no answer to the start";
    if (!error->empty()) return ::testing::AssertionFailure() << *error;
    return ::testing::AssertionSuccess();
  }
  EventLoop& loop;
  SystemClock clock;
  Config config;
  ClusterNode node;
  std::optional<std::string> error;
};

TEST(ClusterNode, NodesWithTheSameMonitorsJoinAndShareTheWork) {
  LOOKOUT_NEED_POSTGRES();
  PostgresServer pg;
  EventLoop loop;
  Node a(loop, pg, "fra-1");
  ASSERT_TRUE(a.joins());
  Node b(loop, pg, "fra-2");
  ASSERT_TRUE(b.joins());
  EXPECT_EQ(pg.sql("SELECT count(*) FROM monitor_sets"), "1");
  EXPECT_EQ(pg.sql("SELECT string_agg(node, ',' ORDER BY node) FROM nodes WHERE alive"),
            "fra-1,fra-2");
  // Both loops turn until every probe shard of the location is held, by one node each.
  const auto shared = [&] {
    const size_t on_a = a.node.leases().probing().size();
    const size_t on_b = b.node.leases().probing().size();
    return on_a + on_b == kLeaseShards && on_a > 0 && on_b > 0;
  };
  ASSERT_TRUE(turn_until(loop, shared, 20s));
}

TEST(ClusterNode, ANodeWhoseMonitorsDifferFromALiveNodesIsRefusedNamingTheMonitor) {
  LOOKOUT_NEED_POSTGRES();
  PostgresServer pg;
  EventLoop loop;
  std::optional<Node> a;
  a.emplace(loop, pg, "fra-1");
  ASSERT_TRUE(a->joins());
  std::string changed = kMonitors;
  changed.replace(changed.find("/api"), 4, "/v2");
  Node b(loop, pg, "fra-2", changed);
  ASSERT_TRUE(b.ready());
  EXPECT_EQ(*b.error,
            "monitor \"api\" is configured differently here and on node fra-1 (its [[monitor]] "
            "entry or [defaults] are not the same); every node of a cluster runs the same "
            "monitors: give node fra-2 the same [[monitor]] entries and [defaults] as the live "
            "nodes, or stop them all and start them with the new config");
  EXPECT_FALSE(b.node.joined());
  EXPECT_EQ(pg.sql("SELECT count(*) FROM nodes WHERE node = 'fra-2'"), "0");
  // Killed and restarted at once with the new config: its own row, still alive by the lease,
  // is no live node to agree with.
  a.reset();
  Node again(loop, pg, "fra-1", changed);
  ASSERT_TRUE(again.joins());
}

TEST(ClusterNode, ANodeStartedBeforeItsDatabaseJoinsOnceItAnswers) {
  LOOKOUT_NEED_POSTGRES();
  PostgresServer pg;
  pg.stop();
  EventLoop loop;
  Node a(loop, pg, "fra-1");
  EXPECT_FALSE(turn_until(
      a.loop, [&] { return a.error.has_value(); }, 1500ms));
  pg.start();
  ASSERT_TRUE(a.joins());
  EXPECT_TRUE(a.node.joined());
}

TEST(ClusterNode, ASchemaNewerThanThisLookoutIsRefused) {
  LOOKOUT_NEED_POSTGRES();
  PostgresServer pg;
  ASSERT_TRUE(migrate(pg).ok());
  pg.sql(fmt::format("INSERT INTO lookout_schema (version, lookout) VALUES ({}, '9.9')",
                     pg_schema_version() + 1));
  EventLoop loop;
  Node a(loop, pg, "fra-1");
  ASSERT_TRUE(a.ready());
  EXPECT_EQ(*a.error, pg_newer_schema_error(pg_schema_version() + 1));
}

TEST(ClusterNode, AStopHandsTheLeasesOverLeavesAndWritesTheResultsWaiting) {
  LOOKOUT_NEED_POSTGRES();
  PostgresServer pg;
  EventLoop loop;
  Node a(loop, pg, "fra-1");
  ASSERT_TRUE(a.joins());
  ASSERT_TRUE(turn_until(
      a.loop, [&] { return a.node.leases().probing().size() == kLeaseShards; }, 20s));
  for (int i = 0; i < 100; ++i) {
    ResultRow row;
    row.monitor = "home";
    row.t_ms = 1'800'000'000'000 + i;
    row.outcome = Outcome::kUp;
    a.node.results().add(std::move(row));
  }
  bool stopped = false;
  a.node.stop([&] { stopped = true; });
  ASSERT_TRUE(turn_until(
      a.loop, [&] { return stopped; }, 10s));
  EXPECT_EQ(pg.sql("SELECT count(*) FROM results WHERE node = 'fra-1'"), "100");
  EXPECT_EQ(pg.sql("SELECT alive FROM nodes WHERE node = 'fra-1'"), "f");
  EXPECT_EQ(pg.sql("SELECT count(*) FROM leases WHERE holder IS NOT NULL"), "0");
}

TEST(ClusterNode, ResultsTheDatabaseDidNotTakeBeforeAStopAreWrittenAtTheNextStart) {
  LOOKOUT_NEED_POSTGRES();
  PostgresServer pg;
  EventLoop loop;
  {
    Node a(loop, pg, "fra-1");
    ASSERT_TRUE(a.joins());
    pg.stop();
    for (int i = 0; i < 50; ++i) {
      ResultRow row;
      row.monitor = "api";
      row.t_ms = 1'800'000'000'000 + i;
      row.outcome = Outcome::kDown;
      row.cause = "connection refused";
      a.node.results().add(std::move(row));
    }
    ASSERT_TRUE(turn_until(
        loop, [&] { return a.node.spool_rows() == 50; }, 10s));
    bool stopped = false;
    a.node.stop([&] { stopped = true; });
    // The stop waits a lease (2 s) for the database, then leaves the rows to the spool.
    ASSERT_TRUE(turn_until(
        loop, [&] { return stopped; }, 10s));
  }
  pg.start();
  Node again(loop, pg, "fra-1");
  ASSERT_TRUE(again.joins());
  ASSERT_TRUE(turn_until(
      loop, [&] { return again.node.spool_rows() == 0; }, 20s));
  EXPECT_EQ(pg.sql("SELECT count(*), count(DISTINCT t), min(cause) FROM results WHERE "
                   "monitor = 'api'"),
            "50|50|connection refused");
}

TEST(ClusterNode, ASpoolThatCannotBeMadeEndsTheStartNamingIt) {
  LOOKOUT_NEED_POSTGRES();
  PostgresServer pg;
  EventLoop loop;
  // Its folder would have to be made inside a file.
  const TempDir dir;
  dir.write("plain", "not a folder");
  const std::string file = dir.file("plain");
  Node a(loop, pg, "fra-1", kMonitors, file + "/spool.db");
  ASSERT_TRUE(a.ready());
  EXPECT_NE(a.error->find(file), std::string::npos) << *a.error;
  EXPECT_NE(a.error->find("[storage] path is this node's spool of results"), std::string::npos)
      << *a.error;
  EXPECT_FALSE(a.node.joined());
}

}  // namespace
}  // namespace lookout::testing
