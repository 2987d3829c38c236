// The roller of cluster mode against a real PostgreSQL: runs written by the results writer
// from two locations are rolled up into minutes, hours and days that count every run once;
// rolling again from the start gives the very same rows; a result written late, into minutes
// rolled up already, moves the marks back and is counted, also when its batch commits while a
// step of its shard waits for the shard's lock; a roller whose eval lease moved
// writes nothing, and the node that took the lease carries on to the same rows; rollups past
// their retention go only once the next level has folded them.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <libpq-fe.h>

#include "store/lease_plan.h"
#include "store/pg_result_writer.h"
#include "store/pg_results.h"
#include "store/pg_roller.h"
#include "tests/integration/cluster/cluster_helpers.h"
#include "tests/integration/cluster/result_rows.h"
#include "tests/integration/harness.h"

namespace lookout::testing {
namespace {

// Runs a script on `conn` and turns `loop` until its answer.
PgResult rollup_test_script(EventLoop& loop, PgConnection& conn, const std::string& sql) {
  std::optional<PgResult> r;
  conn.script(sql, [&](PgResult a) { r = std::move(a); });
  if (!turn_until(
          loop, [&] { return r.has_value(); }, std::chrono::seconds(20))) {
    throw std::runtime_error("no answer to " + sql);
  }
  return std::move(*r);
}

const int64_t kRollT0 = 1'765'000'800'000;  // a whole hour, UTC (2025-12-06T06:00Z)
const int64_t kRollDay = kRollT0 - kRollT0 % 86'400'000;

class PgRollerRolls : public ::testing::Test {
 protected:
  void SetUp() override {
    LOOKOUT_NEED_POSTGRES();
    server_ = std::make_unique<PostgresServer>();
    require_schema(loop, *server_);
    pg().sql(make_result_partitions_for({kRollT0}).sql);
    fra_ = std::make_unique<LeaseNode>(loop, *server_, "fra-1", Duration{600'000});
  }

  const PostgresServer& pg() const { return *server_; }

  // Through the real results writer, as a node writes them.
  void write(const ResultOrigin& origin, const std::vector<ResultRow>& rows) {
    PgResultWriter writer(loop, fra_->conn, origin, PgResultWriterOptions{Duration{20}});
    writer.start();
    for (const auto& r : rows) writer.add(r);
    ASSERT_TRUE(turn_until(
        loop, [&] { return writer.committed() == rows.size(); }, std::chrono::seconds(20)))
        << writer.last_error();
  }

  // A roller of `node` for `monitors`, deciding the shards whose eval leases `node` holds.
  std::unique_ptr<PgRoller> roller(LeaseNode& node, const std::vector<std::string>& monitors) {
    PgRollerOptions o;
    o.every = Duration{50};
    o.soon = Duration{5};
    o.grace_ms = 10'000;
    auto r = std::make_unique<PgRoller>(
        loop, node.conn, monitors,
        [&node] {
          std::map<int, int64_t> held;
          for (const auto& h : node.held) {
            if (const auto s = LeaseSpace::evaluation().shard(h.name)) held[*s] = h.epoch;
          }
          return held;
        },
        [&node](int shard) -> std::optional<LeaseFence> {
          const std::string lease = LeaseSpace::evaluation().lease(shard);
          for (const auto& h : node.held) {
            if (h.name == lease) return LeaseFence{lease, node.registry.node(), h.epoch};
          }
          return std::nullopt;
        },
        o);
    return r;
  }

  // Runs `r` until the day of kRollT0 is folded for `monitor`'s shard.
  void roll_day(PgRoller& r, const std::string& monitor) {
    r.start();
    const std::string done = fmt::format(
        "SELECT count(*) FROM rollup_marks WHERE shard = {} AND until >= "
        "'epoch'::timestamptz + {} * interval '1 millisecond'",
        shard_of(monitor), kRollDay + 86'400'000);
    EXPECT_TRUE(turn_until(
        loop, [&] { return pg().sql(done) == "3"; }, std::chrono::seconds(20)))
        << pg().sql(
               "SELECT string_agg(shard || ' ' || level || ' ' || until, ', ') FROM "
               "rollup_marks");
    r.stop();
  }

  // Every row of a rollup table of `monitor`, whole.
  std::string rows_of(const char* table, const std::string& monitor) {
    return pg().sql(fmt::format(
        "SELECT string_agg(concat_ws(' ', t, count, failures, degraded, maintenance, min_us, "
        "max_us, sum_us, encode(sketch, 'hex')), '#' ORDER BY t) FROM {} WHERE monitor = '{}'",
        table, monitor));
  }
  std::string runs_in(const char* table, const std::string& monitor) {
    return pg().sql(fmt::format("SELECT sum(count + maintenance) FROM {} WHERE monitor = '{}'",
                                table, monitor));
  }

  void hold_eval(LeaseNode& node, const std::string& monitor) {
    ASSERT_FALSE(node.acquire({LeaseSpace::evaluation().lease(shard_of(monitor))}).empty());
  }

  EventLoop loop;
  std::unique_ptr<PostgresServer> server_;
  std::unique_ptr<LeaseNode> fra_;
};

TEST_F(PgRollerRolls, EveryRunCountsOnceAndRollingAgainGivesTheSameRows) {
  write({"fra-1", "fra"}, varied_runs("api", kRollT0, 0, 240, false));
  write({"nyc-1", "nyc"}, varied_runs("api", kRollT0, 7, 240, false));
  ASSERT_NO_FATAL_FAILURE(hold_eval(*fra_, "api"));
  auto r = roller(*fra_, {"api"});
  roll_day(*r, "api");
  for (const char* table : {"rollup_minute", "rollup_hour", "rollup_day"}) {
    EXPECT_EQ(runs_in(table, "api"), "480") << table;
  }
  EXPECT_EQ(pg().sql("SELECT count(*) FROM rollup_minute WHERE monitor = 'api'"), "120");
  EXPECT_EQ(pg().sql("SELECT count(*) FROM rollup_hour WHERE monitor = 'api'"), "2");
  EXPECT_EQ(r->stats().refused, 0u);
  EXPECT_EQ(r->stats().source_rows, 480u + 120u + 2u) << "raw runs, minute rows, hour rows";

  const std::string minutes = rows_of("rollup_minute", "api");
  const std::string days = rows_of("rollup_day", "api");
  // Every mark back to the start of the day: the same buckets folded again, whole.
  pg().sql(fmt::format(
      "UPDATE rollup_marks SET until = 'epoch'::timestamptz + {} * interval '1 millisecond'",
      kRollDay));
  pg().sql("UPDATE rollup_minute SET count = 0");
  roll_day(*r, "api");
  EXPECT_EQ(rows_of("rollup_minute", "api"), minutes);
  EXPECT_EQ(rows_of("rollup_day", "api"), days);
}

TEST_F(PgRollerRolls, ALateResultMovesTheMarksBackAndIsCounted) {
  write({"fra-1", "fra"}, varied_runs("api", kRollT0, 0, 240, false));
  ASSERT_NO_FATAL_FAILURE(hold_eval(*fra_, "api"));
  auto r = roller(*fra_, {"api"});
  roll_day(*r, "api");
  ASSERT_EQ(runs_in("rollup_day", "api"), "240");

  // A node cut off from the database writes a run of ten minutes in, long rolled up.
  ResultRow late;
  late.monitor = "api";
  late.t_ms = kRollT0 + 10 * 60'000 + 15'000;
  late.outcome = Outcome::kDown;
  write({"nyc-1", "nyc"}, {late});
  const std::string shard = std::to_string(shard_of("api"));
  EXPECT_EQ(pg().sql("SELECT string_agg(level || ' ' || " +
                     std::string("floor(extract(epoch FROM until) * 1000)::bigint") +
                     ", ',' ORDER BY level) FROM rollup_marks WHERE shard = " + shard),
            fmt::format("day {},hour {},minute {}", kRollDay, kRollT0, kRollT0 + 10 * 60'000));

  roll_day(*r, "api");
  EXPECT_EQ(runs_in("rollup_minute", "api"), "241");
  EXPECT_EQ(runs_in("rollup_hour", "api"), "241");
  EXPECT_EQ(runs_in("rollup_day", "api"), "241");
  EXPECT_EQ(pg().sql(fmt::format(
                "SELECT failures FROM rollup_minute WHERE monitor = 'api' AND t = 'epoch'::"
                "timestamptz + {} * interval '1 millisecond'",
                kRollT0 + 10 * 60'000)),
            "1");
}

TEST_F(PgRollerRolls, ARollerWhoseLeaseMovedWritesNothingAndTheNewHolderCarriesOn) {
  write({"fra-1", "fra"}, varied_runs("api", kRollT0, 0, 240, false));
  ASSERT_NO_FATAL_FAILURE(hold_eval(*fra_, "api"));
  const std::string lease = LeaseSpace::evaluation().lease(shard_of("api"));
  const int shard = shard_of("api");
  // fra folds part of the day: its first minutes, then stops.
  auto first = roller(*fra_, {"api"});
  first->start();
  ASSERT_TRUE(turn_until(
      loop, [&] { return first->stats().steps >= 1; }, std::chrono::seconds(20)));
  first->stop();
  const LeaseFence old{lease, "fra-1", fra_->lease(lease).epoch};

  // The lease moves to nyc-1.
  fra_->release({fra_->lease(lease)});
  LeaseNode nyc(loop, *server_, "nyc-1", Duration{600'000});
  ASSERT_NO_FATAL_FAILURE(hold_eval(nyc, "api"));
  // fra's next step, under its old epoch, is refused and moves no mark.
  const PgResult marks = rollup_test_script(loop, nyc.conn, read_rollup_marks({{shard, {"api"}}}));
  const auto read = rollup_marks_of(marks);
  ASSERT_TRUE(read.has_value()) << marks.error;
  const auto step = next_roll_step(read->shards.at(shard), read->now_ms);
  ASSERT_TRUE(step.has_value());
  const PgResult source = answer_to(loop, nyc.conn, read_roll_source(*step, {"api"}));
  uint64_t rows = 0;
  const auto buckets = fold_roll_source(*step, source, rows);
  ASSERT_TRUE(buckets.has_value());
  std::optional<PgResult> refused;
  fra_->conn.script(write_roll_step(old, shard, *step, {"api"}, rows, *buckets),
                    [&](PgResult a) { refused = std::move(a); });
  ASSERT_TRUE(turn_until(
      loop, [&] { return refused.has_value(); }, std::chrono::seconds(20)));
  EXPECT_EQ(roll_step_written(*refused), false) << refused->error;
  EXPECT_EQ(
      rollup_marks_of(rollup_test_script(loop, nyc.conn, read_rollup_marks({{shard, {"api"}}})))
          ->shards.at(shard)
          .minute,
      step->from);

  auto second = roller(nyc, {"api"});
  roll_day(*second, "api");
  EXPECT_EQ(runs_in("rollup_minute", "api"), "240");
  EXPECT_EQ(runs_in("rollup_day", "api"), "240");
  EXPECT_EQ(pg().sql("SELECT count(*) FROM rollup_minute WHERE monitor = 'api'"), "120");
}

TEST_F(PgRollerRolls, ABatchThatCommitsWhileAStepWaitsForTheShardIsFoldedAgain) {
  write({"fra-1", "fra"}, varied_runs("api", kRollT0, 0, 240, false));
  ASSERT_NO_FATAL_FAILURE(hold_eval(*fra_, "api"));
  auto r = roller(*fra_, {"api"});
  roll_day(*r, "api");
  const int shard = shard_of("api");
  // The first half hour to fold again, as a late batch leaves the marks.
  pg().sql(fmt::format(
      "UPDATE rollup_marks SET until = 'epoch'::timestamptz + CASE level WHEN 'day' THEN {} "
      "ELSE {} END * interval '1 millisecond' WHERE shard = {}",
      kRollDay, kRollT0, shard));
  // A batch of another node, in its transaction: the shard's lock shared, its marks (not past
  // its run, so unchanged), its row; it commits only once the roller's step waits for the lock.
  PGconn* batch = PQconnectdb(pg().dsn().c_str());
  ASSERT_EQ(PQstatus(batch), CONNECTION_OK) << PQerrorMessage(batch);
  const int64_t late = kRollT0 + 10 * 60'000 + 15'000;
  PGresult* open = PQexec(
      batch,
      ("BEGIN;\n" + rollup_marks_back({{shard, late}}) +
       fmt::format("INSERT INTO results (t, outcome, maintenance, monitor, location, node) VALUES "
                   "('epoch'::timestamptz + {} * interval '1 millisecond', 2, false, 'api', "
                   "'nyc', 'nyc-1')",
                   late))
          .c_str());
  EXPECT_EQ(PQresultStatus(open), PGRES_COMMAND_OK) << PQerrorMessage(batch);
  PQclear(open);

  r->start();
  EXPECT_TRUE(turn_until(
      loop,
      [&] {
        return pg().sql(
                   "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                   "AND query LIKE '%pg_advisory_xact_lock(%'") == "1";
      },
      std::chrono::seconds(20)))
      << "the step waits for the batch";
  PQclear(PQexec(batch, "COMMIT"));
  PQfinish(batch);
  // The step read the chunk without the batch's row: it writes nothing, and the next pass
  // folds the chunk again with it.
  const std::string folded = fmt::format(
      "SELECT count(*) FROM rollup_marks WHERE shard = {} AND until >= 'epoch'::timestamptz + {} "
      "* interval '1 millisecond'",
      shard, kRollDay + 86'400'000);
  EXPECT_TRUE(turn_until(
      loop, [&] { return r->stats().refused >= 1 && pg().sql(folded) == "3"; },
      std::chrono::seconds(20)))
      << r->stats().refused;
  r->stop();
  EXPECT_EQ(runs_in("rollup_minute", "api"), "241");
  EXPECT_EQ(runs_in("rollup_day", "api"), "241");
}

TEST_F(PgRollerRolls, RollupsPastRetentionGoOnlyOnceTheNextLevelFoldedThem) {
  // Minute, hour and day rows of a monitor a year back, and marks of 255 shards: nothing goes.
  const int64_t old = kRollDay - 400LL * 86'400'000;
  for (const char* table : {"rollup_minute", "rollup_hour", "rollup_day"}) {
    pg().sql(fmt::format(
        "INSERT INTO {} (t, count, failures, degraded, maintenance, sum_us, monitor, sketch) "
        "VALUES ('epoch'::timestamptz + {} * interval '1 millisecond', 1, 0, 0, 0, 0, 'api', "
        "'\\x')",
        table, old));
  }
  const auto marks_at = [&](int shards, int64_t until) {
    pg().sql("DELETE FROM rollup_marks");
    pg().sql(fmt::format(
        "INSERT INTO rollup_marks SELECT s, l, 'epoch'::timestamptz + {} * interval '1 "
        "millisecond' FROM generate_series(0, {}) s, unnest(ARRAY['minute', 'hour', 'day']) l",
        until, shards - 1));
  };
  const auto remaining = [&] {
    return pg().sql(
        "SELECT (SELECT count(*) FROM rollup_minute) || ' ' || (SELECT count(*) FROM "
        "rollup_hour) || ' ' || (SELECT count(*) FROM rollup_day)");
  };
  // Minutes and hours kept 30 days, days 300: past them all.
  const PgStatement del =
      delete_old_rollups(30LL * 86'400'000, 30LL * 86'400'000, 300LL * 86'400'000, kRollupDeletes);
  marks_at(255, kRollDay);
  EXPECT_EQ(rollups_deleted(answer_to(loop, fra_->conn, del)), 1) << "the day only";
  EXPECT_EQ(remaining(), "1 1 0");
  // Every shard's marks before the rows: the next level has not folded them.
  marks_at(256, old);
  EXPECT_EQ(rollups_deleted(answer_to(loop, fra_->conn, del)), 0);
  marks_at(256, kRollDay);
  EXPECT_EQ(rollups_deleted(answer_to(loop, fra_->conn, del)), 2);
  EXPECT_EQ(remaining(), "0 0 0");
}

}  // namespace
}  // namespace lookout::testing
