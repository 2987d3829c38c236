// Rollups, retention and history reads on a real SQLite file, with "now" passed in.
#include "store/rollup.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <random>

#include "store/history.h"
#include "store/schema.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/store/times.h"

namespace lookout {
namespace {

using test::kBase;
using test::kDay;
using test::kHour;
using test::kMin;

class RollupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(sqlite3_open(dir_.file("t.db").c_str(), &db_), SQLITE_OK);
    std::string error;
    ASSERT_TRUE(migrate(db_, error)) << error;
    exec("INSERT INTO monitors (id, name) VALUES (1, 'a'), (2, 'b')");
  }
  void TearDown() override { sqlite3_close(db_); }
  void exec(const std::string& sql) {
    ASSERT_EQ(sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK) << sql;
  }
  int64_t scalar(const std::string& sql) {
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr);
    int64_t v = -1;
    if (sqlite3_step(st) == SQLITE_ROW) v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
  }
  // A run every `every_ms` from `from` to `to`, latency varying, every 7th down without a
  // response, every 11th degraded. Returns the aggregate of what was written.
  Aggregate add_runs(int64_t monitor, int64_t from, int64_t to, int64_t every_ms,
                     uint32_t seed = 1) {
    std::mt19937 rng(seed);
    Aggregate expected;
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db_,
                       "INSERT INTO results (monitor_id, t_ms, outcome, total_us) VALUES (?,?,?,?)",
                       -1, &st, nullptr);
    exec("BEGIN");
    int i = 0;
    for (int64_t t = from; t < to; t += every_ms, ++i) {
      const bool down = i % 7 == 3;
      const Outcome o = down ? Outcome::kDown : (i % 11 == 5 ? Outcome::kDegraded : Outcome::kUp);
      std::optional<int64_t> latency;
      if (!down) latency = 2'000 + static_cast<int64_t>(rng() % 400'000);
      sqlite3_bind_int64(st, 1, monitor);
      sqlite3_bind_int64(st, 2, t);
      sqlite3_bind_int(st, 3, static_cast<int>(o));
      latency ? sqlite3_bind_int64(st, 4, *latency) : sqlite3_bind_null(st, 4);
      EXPECT_EQ(sqlite3_step(st), SQLITE_DONE);
      sqlite3_reset(st);
      expected.add_run(o, latency, false);
    }
    exec("COMMIT");
    sqlite3_finalize(st);
    return expected;
  }
  RollupStats roll(int64_t now, int64_t grace = 15'000) {
    RollupStats stats;
    std::string error;
    EXPECT_TRUE(roll_up(db_, now, grace, stats, error)) << error;
    return stats;
  }
  std::string dump(const char* table) {
    std::string out;
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db_,
                       fmt::format("SELECT monitor_id, t_ms, count, failures, degraded, min_us, "
                                   "max_us, sum_us, hex(sketch) FROM {} ORDER BY 1, 2",
                                   table)
                           .c_str(),
                       -1, &st, nullptr);
    while (sqlite3_step(st) == SQLITE_ROW) {
      for (int i = 0; i < 9; ++i) {
        const auto* t = sqlite3_column_text(st, i);
        out += t ? reinterpret_cast<const char*>(t) : "null";
        out += i == 8 ? "\n" : "|";
      }
    }
    sqlite3_finalize(st);
    return out;
  }

  test::TempDir dir_;
  sqlite3* db_ = nullptr;
};

void expect_same(const Aggregate& got, const Aggregate& want, const std::string& what) {
  EXPECT_EQ(got.count, want.count) << what;
  EXPECT_EQ(got.failures, want.failures) << what;
  EXPECT_EQ(got.degraded, want.degraded) << what;
  EXPECT_EQ(got.min_us, want.min_us) << what;
  EXPECT_EQ(got.max_us, want.max_us) << what;
  EXPECT_EQ(got.sum_us, want.sum_us) << what;
  EXPECT_EQ(got.sketch, want.sketch) << what;
}

TEST_F(RollupTest, CompleteMinutesOnlyAfterTheGrace) {
  add_runs(1, kBase, kBase + 3 * kMin + 30'000, 10'000);
  // 14 s after minute 3 began: with 15 s of grace, minute 2 is not complete yet.
  roll(kBase + 3 * kMin + 14'000);
  EXPECT_EQ(scalar("SELECT count(*) FROM rollup_minute"), 2);
  EXPECT_EQ(scalar("SELECT value FROM meta WHERE key = 'rollup_minute_until'"), kBase + 2 * kMin);
  roll(kBase + 3 * kMin + 15'000);
  EXPECT_EQ(scalar("SELECT count(*) FROM rollup_minute"), 3);
  EXPECT_EQ(scalar("SELECT sum(count) FROM rollup_minute"), 18);
  EXPECT_EQ(scalar("SELECT count FROM rollup_minute WHERE t_ms = " + std::to_string(kBase)), 6);
}

TEST_F(RollupTest, HoursAndDaysAcrossBoundariesMergeExactly) {
  const Aggregate day1 = add_runs(1, kBase, kBase + kDay, 5 * kMin, 1);
  const Aggregate day2 = add_runs(1, kBase + kDay, kBase + 2 * kDay, 5 * kMin, 2);
  add_runs(2, kBase + kDay - kHour, kBase + kDay + kHour, kMin, 3);  // straddles midnight
  const auto stats = roll(kBase + 2 * kDay + kHour);
  EXPECT_GT(stats.minute_rows, 0u);
  EXPECT_EQ(scalar("SELECT count(*) FROM rollup_day WHERE monitor_id = 1"), 2);
  EXPECT_EQ(scalar("SELECT count(*) FROM rollup_hour WHERE monitor_id = 1"), 48);
  EXPECT_EQ(scalar("SELECT count(*) FROM rollup_day WHERE monitor_id = 2"), 2);
  EXPECT_EQ(scalar("SELECT sum(count) FROM rollup_day WHERE monitor_id = 2"), 120);
  HistoryReader reader(db_);
  // A day read from one day row equals the aggregate of its raw runs, sketch and all.
  expect_same(reader.range(1, kBase, kBase + kDay), day1, "day 1");
  expect_same(reader.range(1, kBase + kDay, kBase + 2 * kDay), day2, "day 2");
  Aggregate both = day1;
  both.merge(day2);
  expect_same(reader.range(1, kBase, kBase + 2 * kDay), both, "two days");
}

TEST_F(RollupTest, ARerunAfterACrashGivesTheSameRows) {
  add_runs(1, kBase, kBase + 3 * kHour, kMin);
  add_runs(2, kBase, kBase + 3 * kHour, 30'000, 7);
  roll(kBase + 3 * kHour + kMin);
  const std::string minutes = dump("rollup_minute"), hours = dump("rollup_hour");
  // As if the process died after writing rows but before the watermark moved.
  exec("DELETE FROM meta WHERE key LIKE 'rollup_%'");
  exec("DELETE FROM rollup_hour WHERE t_ms > " + std::to_string(kBase + kHour));
  roll(kBase + 3 * kHour + kMin);
  EXPECT_EQ(dump("rollup_minute"), minutes);
  EXPECT_EQ(dump("rollup_hour"), hours);
}

TEST_F(RollupTest, AnyRangeReadsTheSameAsItsRawRows) {
  add_runs(1, kBase, kBase + 2 * kDay, 45'000, 4);
  roll(kBase + 2 * kDay - 2 * kHour);  // hours folded up to here; minutes and raw after
  HistoryReader reader(db_);
  std::mt19937_64 rng(8);
  for (int i = 0; i < 60; ++i) {
    int64_t from = kBase + static_cast<int64_t>(rng() % (2 * kDay));
    int64_t to = kBase + static_cast<int64_t>(rng() % (2 * kDay));
    if (from > to) std::swap(from, to);
    // The truth: raw rows in the range, aggregated directly.
    Aggregate want;
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(
        db_,
        "SELECT outcome, total_us FROM results WHERE monitor_id = 1 AND t_ms >= ? AND t_ms < ?", -1,
        &st, nullptr);
    sqlite3_bind_int64(st, 1, from);
    sqlite3_bind_int64(st, 2, to);
    while (sqlite3_step(st) == SQLITE_ROW) {
      std::optional<int64_t> l;
      if (sqlite3_column_type(st, 1) != SQLITE_NULL) l = sqlite3_column_int64(st, 1);
      want.add_run(static_cast<Outcome>(sqlite3_column_int(st, 0)), l, false);
    }
    sqlite3_finalize(st);
    expect_same(reader.range(1, from, to), want, fmt::format("[{}, {})", from - kBase, to - kBase));
  }
}

TEST_F(RollupTest, RetentionKeepsWhatTheNextLevelHasNotFolded) {
  const Aggregate all = add_runs(1, kBase, kBase + 5 * kDay, 10 * kMin);
  const RetentionPolicy policy{kDay, 2 * kDay, 3 * kDay, 400 * kDay};
  uint64_t deleted = 0;
  std::string error;
  // Before any rollup nothing may go, however old.
  ASSERT_TRUE(apply_retention(db_, kBase + 5 * kDay, policy, deleted, error)) << error;
  EXPECT_EQ(deleted, 0u);
  roll(kBase + 5 * kDay);
  for (int i = 0; i < 10; ++i)
    ASSERT_TRUE(apply_retention(db_, kBase + 5 * kDay, policy, deleted, error));
  EXPECT_GE(scalar("SELECT min(t_ms) FROM results"), kBase + 4 * kDay);
  EXPECT_GE(scalar("SELECT min(t_ms) FROM rollup_minute"), kBase + 3 * kDay);
  EXPECT_GE(scalar("SELECT min(t_ms) FROM rollup_hour"), kBase + 2 * kDay);
  EXPECT_EQ(scalar("SELECT min(t_ms) FROM rollup_day"), kBase);
  // The history still counts every run, from the coarser levels.
  HistoryReader reader(db_);
  const Aggregate got = reader.range(1, kBase, kBase + 5 * kDay);
  EXPECT_EQ(got.count, all.count);
  EXPECT_EQ(got.failures, all.failures);
  EXPECT_EQ(*got.quantile_ms(0.95), *all.quantile_ms(0.95));
  // Days go after keep_days.
  ASSERT_TRUE(apply_retention(db_, kBase + 402 * kDay, policy, deleted, error));
  EXPECT_EQ(
      scalar("SELECT count(*) FROM rollup_day WHERE t_ms < " + std::to_string(kBase + 2 * kDay)),
      0);
}

TEST_F(RollupTest, SeriesAlignsBucketsInUtcAndSummariesCountDownRuns) {
  add_runs(1, kBase, kBase + 6 * kHour, kMin);
  roll(kBase + 6 * kHour + kMin);
  HistoryReader reader(db_);
  const auto points = reader.series(1, kBase + 30 * kMin, kBase + 6 * kHour - 1, kHour);
  ASSERT_EQ(points.size(), 6u);
  EXPECT_EQ(points[0].t_ms, kBase);
  EXPECT_EQ(points[5].t_ms, kBase + 5 * kHour);
  for (const auto& p : points) EXPECT_EQ(p.agg.count, 60u);
  SummaryBuilder builder;
  builder.rebuild(db_, kBase + 6 * kHour, 15'000);
  const auto summaries = builder.summarize(kBase + 6 * kHour);
  ASSERT_EQ(summaries->count("a"), 1u);
  EXPECT_EQ(summaries->count("b"), 0u);
  const auto& a = summaries->at("a");
  const Aggregate all = reader.range(1, kBase, kBase + 6 * kHour);
  EXPECT_DOUBLE_EQ(*a.uptime_24h, *all.uptime());
  EXPECT_NEAR(*a.uptime_24h, 100.0 * (360 - 51) / 360, 1e-9);  // runs 3, 10, ..., 353 were down: 51
  EXPECT_DOUBLE_EQ(*a.uptime_90d, *a.uptime_24h);
  EXPECT_DOUBLE_EQ(*a.p95_ms_24h, *all.quantile_ms(0.95));
}

}  // namespace
}  // namespace lookout
