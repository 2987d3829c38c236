// The results table's day partitions against a real PostgreSQL: made ahead by the server's
// clock, by several nodes at once and again without harm, each holding exactly its UTC day with
// the table's index; made for the days of rows outside them; and dropped with their rows once
// their day is older than the retention and every shard has rolled it up, the writers' old batch
// marks with them.
#include <gtest/gtest.h>

#include "store/pg_results.h"
#include "tests/integration/cluster/cluster_helpers.h"
#include "tests/integration/harness.h"

namespace lookout::testing {
namespace {

constexpr int64_t kPartitionDayMs = 86'400'000;

// Runs statements on connections of their own, all at once, and waits for every answer.
std::vector<PgResult> run_together(const PostgresServer& pg, const std::vector<PgStatement>& all) {
  EventLoop loop;
  std::vector<std::unique_ptr<PgConnection>> nodes;
  std::vector<PgResult> got;
  for (const auto& s : all) {
    nodes.push_back(std::make_unique<PgConnection>(loop, Secret::plain(pg.dsn()), nullptr));
    nodes.back()->start();
    nodes.back()->query(s.sql, s.params, [&](PgResult r) { got.push_back(std::move(r)); });
  }
  if (!turn_until(
          loop, [&] { return got.size() == all.size(); }, 30s)) {
    got.push_back(PgResult{"no answer", "", {}});
  }
  for (auto& n : nodes) n->stop();
  return got;
}

// The partition that holds `t_ms`: results_YYYYMMDD.
std::string partition_of(int64_t t_ms) {
  std::string day = utc_day(t_ms);
  day.erase(std::remove(day.begin(), day.end(), '-'), day.end());
  return "results_" + day;
}

std::string partitions(const PostgresServer& pg) {
  return pg.sql(
      "SELECT coalesce(string_agg(c.relname, ',' ORDER BY c.relname), '') FROM pg_inherits i "
      "JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'results'::regclass");
}

// A row of the server's time less `ago_ms`, with what results needs and nothing more.
std::string insert_row(const std::string& monitor, int64_t ago_ms) {
  return fmt::format(
      "INSERT INTO results (t, outcome, maintenance, monitor, location, node) VALUES "
      "(clock_timestamp() - {} * interval '1 millisecond', 0, false, '{}', 'fra', 'fra-1');",
      ago_ms, monitor);
}

TEST(ResultPartitions, MadeAheadByTheServersClockByNodesAtOnce) {
  LOOKOUT_NEED_POSTGRES();
  PostgresServer pg;
  ASSERT_TRUE(migrate(pg).ok());
  for (const auto& r : run_together(pg, std::vector<PgStatement>(4, make_result_partitions(3)))) {
    EXPECT_TRUE(r.ok()) << r.error;
  }
  const std::string days = pg.sql(
      "SELECT string_agg('results_' || to_char((clock_timestamp() AT TIME ZONE 'UTC')::date + i, "
      "'YYYYMMDD'), ',' ORDER BY i) FROM generate_series(0, 3) AS i");
  EXPECT_EQ(partitions(pg), days);

  // Each holds its UTC day, from its first millisecond to its last, whatever the session's time
  // zone, with the table's index.
  const std::string today = days.substr(0, days.find(','));
  const std::string day =
      pg.sql("SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD')");
  pg.sql(
      fmt::format("SET TIME ZONE 'America/New_York'; "
                  "INSERT INTO results (t, outcome, maintenance, monitor, location, node) VALUES "
                  "('{0} 00:00:00+00', 0, false, 'a', 'fra', 'fra-1'), "
                  "('{0} 23:59:59.999+00', 0, false, 'b', 'fra', 'fra-1')",
                  day));
  EXPECT_EQ(pg.sql("SELECT string_agg(DISTINCT tableoid::regclass::text, ',') FROM results"),
            today);
  EXPECT_EQ(pg.sql(fmt::format("SELECT indexdef LIKE '%(monitor, t)' FROM pg_indexes WHERE "
                               "tablename = '{}'",
                               today)),
            "t");

  // Again, with the days already there: nothing changes.
  for (const auto& r : run_together(pg, {make_result_partitions(3)}))
    EXPECT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(partitions(pg), days);
  EXPECT_EQ(pg.sql("SELECT count(*) FROM results"), "2");
}

// Rows of days no partition holds yet (a node whose clock is off, rows kept through an outage)
// have them made for their own days.
TEST(ResultPartitions, MadeForTheDaysOfRows) {
  LOOKOUT_NEED_POSTGRES();
  PostgresServer pg;
  ASSERT_TRUE(migrate(pg).ok());
  const int64_t t = to_unix_ms(SystemClock().wall());
  for (const auto& r : run_together(
           pg, {make_result_partitions_for({t - 20 * kPartitionDayMs, t + 9 * kPartitionDayMs})})) {
    EXPECT_TRUE(r.ok()) << r.error;
  }
  EXPECT_EQ(partitions(pg),
            partition_of(t - 20 * kPartitionDayMs) + "," + partition_of(t + 9 * kPartitionDayMs));
}

TEST(ResultPartitions, OldOnesAreDroppedWithTheirRowsOnceEveryShardRolledThemUp) {
  LOOKOUT_NEED_POSTGRES();
  PostgresServer pg;
  ASSERT_TRUE(migrate(pg).ok());
  const int64_t now = to_unix_ms(SystemClock().wall());
  const std::vector<int64_t> ages_days{10, 5, 3, 1, 0};
  std::vector<int64_t> times;
  for (const int64_t d : ages_days) times.push_back(now - d * kPartitionDayMs);
  for (const auto& r : run_together(pg, {make_result_partitions_for(times)})) {
    ASSERT_TRUE(r.ok()) << r.error;
  }
  std::string rows;
  for (const int64_t d : ages_days) rows += insert_row(fmt::format("{}d", d), d * kPartitionDayMs);
  pg.sql(rows);
  pg.sql(
      "INSERT INTO result_batches (writer, batch, written_at) VALUES "
      "('00000000000000000000000000000001', 9, clock_timestamp() - interval '4 days'), "
      "('00000000000000000000000000000002', 3, clock_timestamp() - interval '1 day')");

  const auto drop = [&] {
    for (const auto& r :
         run_together(pg, {drop_old_result_partitions(Duration{3 * kPartitionDayMs})})) {
      EXPECT_TRUE(r.ok()) << r.error;
    }
    const auto held =
        run_together(pg, {held_back_result_partitions(Duration{3 * kPartitionDayMs})});
    return held_back_days(held.at(0));
  };
  const auto minute_marks_at = [&](int64_t t_ms) {
    pg.sql("DELETE FROM rollup_marks");
    pg.sql(fmt::format(
        "INSERT INTO rollup_marks SELECT s, 'minute', 'epoch'::timestamptz + {} * interval '1 "
        "millisecond' FROM generate_series(0, 255) s",
        t_ms));
  };
  // No shard has rolled anything up: every day is kept, and the log can say why.
  auto held = drop();
  ASSERT_TRUE(held.has_value());
  EXPECT_EQ(held->days, 2);
  EXPECT_EQ(held->shards, 0);
  EXPECT_EQ(pg.sql("SELECT count(*) FROM results"), "5");
  // Every shard's minutes folded up to the start of the day of 5 days ago: that day stays.
  const int64_t five_days_ago = now - 5 * kPartitionDayMs;
  minute_marks_at(five_days_ago - five_days_ago % kPartitionDayMs);
  held = drop();
  ASSERT_TRUE(held.has_value());
  EXPECT_EQ(held->days, 1);
  EXPECT_EQ(held->shards, 256);
  EXPECT_EQ(held->folded_ms, five_days_ago - five_days_ago % kPartitionDayMs);
  EXPECT_EQ(pg.sql("SELECT string_agg(monitor, ',' ORDER BY t) FROM results"), "5d,3d,1d,0d");
  minute_marks_at(now);
  held = drop();
  ASSERT_TRUE(held.has_value());
  EXPECT_EQ(held->days, 0);
  // The days of 10 and 5 days ago ended more than 3 days ago; the day of 3 days ago ends later.
  EXPECT_EQ(pg.sql("SELECT string_agg(monitor, ',' ORDER BY t) FROM results"), "3d,1d,0d");
  EXPECT_EQ(partitions(pg),
            partition_of(times[2]) + "," + partition_of(times[3]) + "," + partition_of(times[4]));
  EXPECT_EQ(pg.sql("SELECT string_agg(batch::text, ',') FROM result_batches"), "3");
  EXPECT_EQ(
      pg.sql("SELECT count(*) FROM pg_class WHERE relkind = 'r' AND relname LIKE 'results\\_%'"),
      "3")
      << "dropped, not only detached";
}

}  // namespace
}  // namespace lookout::testing
