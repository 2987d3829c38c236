// The node registry against a real PostgreSQL: a node joins, renews every lease/5 while its
// loop turns (its started_at kept), shows dead once its loop stops for longer than the lease,
// alive again when it turns, and not alive at once when it leaves. Alive is judged by the
// server's clock.
#include "store/node_presence.h"

#include <gtest/gtest.h>

#include <thread>

#include "store/node_registry.h"
#include "store/pg_schema.h"
#include "tests/integration/cluster/cluster_helpers.h"
#include "tests/integration/harness.h"

namespace lookout::testing {
namespace {

const Duration kLease{2000};

// A connection on a loop of its own, with the schema in place.
struct Reader {
  explicit Reader(const PostgresServer& pg) : conn(loop, Secret::plain(pg.dsn()), nullptr) {
    conn.start();
    require_schema(loop, conn);
  }
  std::vector<NodeRow> nodes() {
    const PgStatement s = NodeRegistry::list(kLease);
    std::optional<PgResult> r;
    conn.query(s.sql, s.params, [&](PgResult a) { r = std::move(a); });
    if (!turn_until(
            loop, [&] { return r.has_value(); }, 10s))
      throw std::runtime_error("no list");
    auto rows = NodeRegistry::nodes(*r);
    if (!rows) throw std::runtime_error("the list failed: " + r->error);
    return *rows;
  }
  EventLoop loop;
  PgConnection conn;
};

TEST(NodePresence, JoinsRenewsWhileItsLoopTurnsAndLeaves) {
  LOOKOUT_NEED_POSTGRES();
  PostgresServer pg;
  Reader reader(pg);
  EventLoop loop;
  PgConnection conn(loop, Secret::plain(pg.dsn()), nullptr);
  conn.start();
  NodePresence presence(loop, conn, NodeRegistry({"fra-1", "fra", "0.1.0", "h1"}, kLease));
  presence.start();
  ASSERT_TRUE(turn_until(
      loop, [&] { return presence.present(); }, 10s))
      << presence.last_error();
  auto nodes = reader.nodes();
  ASSERT_EQ(nodes.size(), 1u);
  EXPECT_EQ(nodes[0].node, "fra-1");
  EXPECT_EQ(nodes[0].location, "fra");
  EXPECT_EQ(nodes[0].version, "0.1.0");
  EXPECT_EQ(nodes[0].monitors_hash, "h1");
  EXPECT_TRUE(nodes[0].alive);
  const std::string started = pg.sql("SELECT started_at FROM nodes");

  // Renewed every 400 ms: after 1.5 s of turning, last seen well within a renewal.
  turn_until(
      loop, [] { return false; }, 1500ms);
  nodes = reader.nodes();
  EXPECT_TRUE(nodes.at(0).alive);
  EXPECT_LT(nodes.at(0).last_seen_ago_ms, 600);
  EXPECT_EQ(pg.sql("SELECT started_at FROM nodes"), started);

  // A loop that does not turn renews nothing: dead once the lease ran out...
  std::this_thread::sleep_for(kLease + 300ms);
  nodes = reader.nodes();
  EXPECT_FALSE(nodes.at(0).alive);
  EXPECT_GE(nodes.at(0).last_seen_ago_ms, kLease.count());
  // ...and alive again as soon as it turns.
  turn_until(
      loop, [] { return false; }, 600ms);
  EXPECT_TRUE(reader.nodes().at(0).alive);

  std::optional<bool> left;
  presence.stop([&](bool ok) { left = ok; });
  ASSERT_TRUE(turn_until(
      loop, [&] { return left.has_value(); }, 10s));
  EXPECT_TRUE(*left);
  nodes = reader.nodes();
  EXPECT_FALSE(nodes.at(0).alive);
  EXPECT_LT(nodes.at(0).last_seen_ago_ms, 1000);
  // Stopped means stopped: no renewal brings it back.
  turn_until(
      loop, [] { return false; }, 600ms);
  EXPECT_FALSE(reader.nodes().at(0).alive);
}

// The server's clock alone decides: a row last seen just within the lease by that clock is
// alive, one just past it is not, whatever the clock of the node that reads.
TEST(NodePresence, AliveMeansLastSeenWithinTheLeaseOfTheServersClock) {
  LOOKOUT_NEED_POSTGRES();
  PostgresServer pg;
  Reader reader(pg);
  pg.sql(
      "INSERT INTO nodes VALUES "
      "('fra-1', 'fra', '0.1.0', clock_timestamp(), clock_timestamp() - interval '1500 ms', true, "
      "'h'), "
      "('fra-2', 'fra', '0.1.0', clock_timestamp(), clock_timestamp() - interval '2500 ms', true, "
      "'h'), "
      "('nyc-1', 'nyc', '0.1.0', clock_timestamp(), clock_timestamp(), false, 'h')");
  const auto nodes = reader.nodes();
  ASSERT_EQ(nodes.size(), 3u);
  EXPECT_EQ(nodes[0].node, "fra-1");
  EXPECT_TRUE(nodes[0].alive);
  EXPECT_EQ(nodes[1].node, "fra-2");
  EXPECT_FALSE(nodes[1].alive);
  EXPECT_GE(nodes[1].last_seen_ago_ms, 2500);
  EXPECT_EQ(nodes[2].node, "nyc-1");
  EXPECT_FALSE(nodes[2].alive);
}

// A node whose row went away (a database restored from an older backup) is back at its next
// renewal, and a node that starts under the name of a dead one takes the row over.
TEST(NodePresence, ARenewalBringsALostRowBack) {
  LOOKOUT_NEED_POSTGRES();
  PostgresServer pg;
  Reader reader(pg);
  pg.sql(
      "INSERT INTO nodes VALUES ('fra-1', 'ams', '0.0.9', clock_timestamp() - interval '1 "
      "day', clock_timestamp() - interval '1 hour', true, 'old')");
  EventLoop loop;
  PgConnection conn(loop, Secret::plain(pg.dsn()), nullptr);
  conn.start();
  NodePresence presence(loop, conn, NodeRegistry({"fra-1", "fra", "0.1.0", "h2"}, kLease));
  presence.start();
  ASSERT_TRUE(turn_until(
      loop, [&] { return presence.present(); }, 10s))
      << presence.last_error();
  auto nodes = reader.nodes();
  ASSERT_EQ(nodes.size(), 1u);
  EXPECT_TRUE(nodes[0].alive);
  EXPECT_EQ(nodes[0].location, "fra");
  EXPECT_EQ(nodes[0].monitors_hash, "h2");
  EXPECT_EQ(pg.sql("SELECT started_at > clock_timestamp() - interval '1 minute' FROM nodes"), "t");

  pg.sql("DELETE FROM nodes");
  turn_until(
      loop, [] { return false; }, 1s);
  EXPECT_EQ(pg.sql("SELECT count(*) FROM nodes WHERE alive"), "1");
}

}  // namespace
}  // namespace lookout::testing
