// The cluster schema's migrations against a real PostgreSQL: nodes that start together apply
// each migration once, a second run does nothing, a failed migration leaves nothing behind, and
// a database newer than this lookout is refused.
#include "store/pg_schema.h"

#include <gtest/gtest.h>

#include "tests/integration/cluster/cluster_helpers.h"
#include "tests/integration/harness.h"

namespace lookout::testing {
namespace {

// Every version this lookout knows, from 1.
std::vector<int> every_version() {
  std::vector<int> out;
  for (int v = 1; v <= pg_schema_version(); ++v) out.push_back(v);
  return out;
}

TEST(PgSchema, NodesStartingTogetherApplyEachMigrationOnce) {
  LOOKOUT_NEED_POSTGRES();
  PostgresServer pg;
  EventLoop loop;
  // The migrations' lock, held here until all four wait for it: each has read version 0 and
  // sent its first migration, so they race for real.
  PgConnection holder(loop, Secret::plain(pg.dsn()), nullptr);
  holder.start();
  std::optional<PgResult> held;
  holder.query("SELECT pg_advisory_lock($1)", {std::to_string(kPgMigrationLock)},
               [&](PgResult r) { held = std::move(r); });
  ASSERT_TRUE(turn_until(
      loop, [&] { return held.has_value(); }, 10s));
  ASSERT_TRUE(held->ok()) << held->error;

  std::vector<std::unique_ptr<PgConnection>> nodes;
  std::vector<PgMigration> outcomes;
  for (int i = 0; i < 4; ++i) {
    nodes.push_back(std::make_unique<PgConnection>(loop, Secret::plain(pg.dsn()), nullptr));
    nodes.back()->start();
    migrate_pg_schema(*nodes.back(), {"test"},
                      [&](PgMigration m) { outcomes.push_back(std::move(m)); });
  }
  int waiting = 0;
  bool asked = false;
  const auto ask = [&] {
    asked = true;
    holder.query("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted", {},
                 [&](PgResult r) {
                   asked = false;
                   if (r.ok()) waiting = std::stoi(r.rows.at(0).at(0).value_or("0"));
                 });
  };
  ASSERT_TRUE(turn_until(
      loop,
      [&] {
        if (!asked && waiting < 4) ask();
        return waiting == 4;
      },
      20s));
  holder.query("SELECT pg_advisory_unlock($1)", {std::to_string(kPgMigrationLock)}, nullptr);
  ASSERT_TRUE(turn_until(
      loop, [&] { return outcomes.size() == nodes.size(); }, 30s));

  std::vector<int> applied;
  for (const auto& m : outcomes) {
    EXPECT_TRUE(m.ok()) << m.error;
    EXPECT_EQ(m.found, 0);
    EXPECT_EQ(m.now, pg_schema_version());
    applied.insert(applied.end(), m.applied.begin(), m.applied.end());
  }
  std::sort(applied.begin(), applied.end());
  EXPECT_EQ(applied, every_version());
  EXPECT_EQ(pg.sql("SELECT string_agg(version::text, ',' ORDER BY version) FROM lookout_schema"),
            fmt::format("{}", fmt::join(every_version(), ",")));
  EXPECT_EQ(pg.sql("SELECT count(*) FROM lookout_schema WHERE lookout = '" LOOKOUT_VERSION "'"),
            std::to_string(pg_schema_version()));
  EXPECT_EQ(pg.sql("SELECT count(*) FROM unnest(ARRAY['nodes', 'leases', 'results', "
                   "'result_batches']) AS t (name) WHERE to_regclass(name) IS NOT NULL"),
            "4");
}

TEST(PgSchema, ASecondRunDoesNothing) {
  LOOKOUT_NEED_POSTGRES();
  PostgresServer pg;
  const PgMigration first = migrate(pg);
  ASSERT_TRUE(first.ok()) << first.error;
  EXPECT_EQ(first.applied, every_version());
  const PgMigration second = migrate(pg);
  ASSERT_TRUE(second.ok()) << second.error;
  EXPECT_EQ(second.found, pg_schema_version());
  EXPECT_EQ(second.now, pg_schema_version());
  EXPECT_TRUE(second.applied.empty());
}

// A migration runs in one transaction: when one of its statements fails, the version is not
// recorded and none of its tables stays.
TEST(PgSchema, AFailedMigrationLeavesNothing) {
  LOOKOUT_NEED_POSTGRES();
  PostgresServer pg;
  pg.sql("CREATE TABLE leases (x int)");
  const PgMigration m = migrate(pg);
  EXPECT_FALSE(m.ok());
  EXPECT_EQ(m.error.rfind(fmt::format("cannot migrate the schema to version 1: PostgreSQL at "
                                      "127.0.0.1:{}: relation \"leases\" already exists",
                                      pg.port()),
                          0),
            0u)
      << m.error;
  EXPECT_EQ(pg.sql("SELECT to_regclass('lookout_schema') IS NULL AND to_regclass('nodes') IS NULL"),
            "t");
}

TEST(PgSchema, ANewerDatabaseIsRefused) {
  LOOKOUT_NEED_POSTGRES();
  PostgresServer pg;
  ASSERT_TRUE(migrate(pg).ok());
  pg.sql(fmt::format("INSERT INTO lookout_schema (version, lookout) VALUES ({}, '9.9.9')",
                     pg_schema_version() + 1));
  const PgMigration m = migrate(pg);
  EXPECT_FALSE(m.ok());
  EXPECT_EQ(m.error, fmt::format("the database has schema version {}, newer than this lookout "
                                 "knows ({}); upgrade lookout on this node",
                                 pg_schema_version() + 1, pg_schema_version()));
  EXPECT_TRUE(m.applied.empty());
}

// A node that migrates while nodes of the older lookout run would mix versions: the migration
// is refused, naming the live nodes, until they are stopped. Its own row, a node that left and
// one whose lease ran out do not count.
TEST(PgSchema, LiveNodesOfTheOlderSchemaRefuseAMigration) {
  LOOKOUT_NEED_POSTGRES();
  PostgresServer pg;
  const int older = pg_schema_version() - 1;
  for (int v = 1; v <= older; ++v) pg.sql(pg_migration_script(v, {"test"}));
  pg.sql(
      "INSERT INTO nodes (node, location, version, started_at, last_seen, alive, monitors_hash) "
      "VALUES ('fra-1', 'fra', '0.1.0', now(), clock_timestamp(), true, 'h'), "
      "('nyc-1', 'nyc', '0.1.0', now(), clock_timestamp(), true, 'h'), "
      "('test', 'fra', '0.1.0', now(), clock_timestamp(), true, 'h'), "
      "('left-1', 'fra', '0.1.0', now(), clock_timestamp(), false, 'h'), "
      "('stale-1', 'fra', '0.1.0', now(), clock_timestamp() - interval '1 minute', true, 'h')");

  const PgMigration refused = migrate(pg);
  EXPECT_FALSE(refused.ok());
  EXPECT_EQ(refused.error,
            fmt::format("cannot migrate the schema to version {}: PostgreSQL at 127.0.0.1:{}: "
                        "nodes fra-1 (lookout 0.1.0), nyc-1 (lookout 0.1.0) are live on schema "
                        "version {}: stop every node, then start the upgraded ones, the first of "
                        "which migrates the schema (a node killed counts as live until its lease "
                        "of 10s has run out)",
                        pg_schema_version(), pg.port(), older));
  EXPECT_EQ(pg.sql("SELECT max(version) FROM lookout_schema"), std::to_string(older));

  pg.sql("UPDATE nodes SET alive = false WHERE node IN ('fra-1', 'nyc-1')");
  const PgMigration m = migrate(pg);
  ASSERT_TRUE(m.ok()) << m.error;
  EXPECT_EQ(m.found, older);
  EXPECT_EQ(m.applied, std::vector<int>{pg_schema_version()});
}

}  // namespace
}  // namespace lookout::testing
