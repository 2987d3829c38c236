// /api/v1/status's figures (the store's published summaries) against the history reader over
// the same windows ending at the same moment, through a real SqliteStore on a SQLite file, with the
// wall clock set by the test.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <thread>

#include "core/clock.h"
#include "store/history.h"
#include "store/sqlite_store.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/store/times.h"

namespace lookout {
namespace {

using test::kBase;
using test::kDay;
using test::kHour;
using test::kMin;
using test::kSec;
constexpr int64_t kGrace = 15'000;

// Wall time the test moves while the store thread reads it; monotonic time is real, so the
// store's commit pacing works as in the daemon.
class TestClock final : public Clock {
 public:
  MonoTime mono() const override { return std::chrono::steady_clock::now(); }
  WallTime wall() const override { return from_unix_ms(wall_ms_.load()); }
  void set(int64_t wall_ms) { wall_ms_ = wall_ms; }

 private:
  std::atomic<int64_t> wall_ms_{kBase};
};

class SummaryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    store_ = SqliteStore::open(dir_.file("t.db"), clock_, error);
    ASSERT_NE(store_, nullptr) << error;
    store_->start();
  }
  void TearDown() override { store_.reset(); }

  void run(const std::string& monitor, int64_t t, Outcome o, std::optional<int64_t> latency_us,
           std::vector<int64_t> samples = {}, bool maintenance = false) {
    ResultRow r;
    r.monitor = monitor;
    r.t_ms = t;
    r.outcome = o;
    r.timings.total_us = latency_us;
    r.samples_us = std::move(samples);
    r.maintenance = maintenance;
    store_->add_result(std::move(r));
    ++queued_;
  }
  // Waits until every queued run is committed (and so whatever the store does after a commit).
  void flush() {
    for (int i = 0; i < 2000 && store_->health().rows_written < queued_; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ASSERT_EQ(store_->health().rows_written, queued_);
  }
  // The housekeeping tick at `now`, with the default retention; done once a run queued after
  // it is committed.
  void tick(int64_t now) {
    store_->housekeep({now, kGrace, RetentionPolicy{3 * kDay, 3 * kDay, 90 * kDay, 1825 * kDay}});
    run("probe", now - kSec, Outcome::kUp, 1'000);
    flush();
  }
  // Moves the clock to `now`, where one more run of `monitor` lands, and waits for its commit.
  void at(int64_t now, const std::string& monitor = "probe") {
    clock_.set(now);
    run(monitor, now - kSec, Outcome::kUp, 1'000);
    flush();
  }

  // Every published figure of `monitor` equals what the history reader reads over the same
  // window ending at `now`.
  void expect_agrees(const std::string& monitor, int64_t now) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open_v2(dir_.file("t.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr),
              SQLITE_OK);
    {
      HistoryReader reader(db);
      const auto id = reader.monitor_id(monitor);
      ASSERT_TRUE(id);
      const auto all = store_->summaries().get();
      const auto it = all->find(monitor);
      ASSERT_NE(it, all->end()) << monitor;
      const HistorySummary& s = it->second;
      const std::string at = fmt::format("{} at base + {} ms", monitor, now - kBase);
      const Aggregate day = reader.range(*id, now - kDay, now + 1);
      EXPECT_EQ(s.uptime_24h, day.uptime()) << at << ", " << day.count << " runs in 24 h";
      EXPECT_EQ(s.p95_ms_24h, day.quantile_ms(0.95)) << at;
      EXPECT_EQ(s.uptime_30d, reader.range(*id, now - 30 * kDay, now + 1, false).uptime()) << at;
      EXPECT_EQ(s.uptime_90d, reader.range(*id, now - 90 * kDay, now + 1, false).uptime()) << at;
      const int64_t first_day = now - now % kDay - 89 * kDay;
      EXPECT_EQ(s.first_day_ms, first_day) << at;
      ASSERT_EQ(s.days.size(), 90u) << at;
      for (size_t i = 0; i < s.days.size(); ++i) {
        const int64_t from = first_day + static_cast<int64_t>(i) * kDay;
        const Aggregate a = reader.range(*id, from, std::min(from + kDay, now + 1));
        EXPECT_EQ(s.days[i].count, a.count) << at << ", day " << i;
        EXPECT_EQ(s.days[i].uptime, static_cast<float>(a.uptime().value_or(0)))
            << at << ", day " << i;
        EXPECT_EQ(s.days[i].p95_ms, static_cast<float>(a.quantile_ms(0.95).value_or(-1)))
            << at << ", day " << i;
      }
    }
    sqlite3_close(db);
  }

  test::TempDir dir_;
  TestClock clock_;
  std::unique_ptr<SqliteStore> store_;
  uint64_t queued_ = 0;
};

// The report: after a tick, a stretch of slow and failing runs; the status figures must count
// them at once, as the history API does, not a minute later at the next tick.
TEST_F(SummaryTest, RunsAfterTheTickCountAtOnce) {
  const int64_t t0 = kBase + 10 * kHour + 20 * kSec;
  clock_.set(t0);
  uint64_t runs = 0, down = 0;
  for (int64_t t = t0 - 2 * kHour; t < t0 - 3 * kMin; t += kMin, ++runs) {
    run("web", t, Outcome::kUp, 40'000 + (t / kSec) % 7 * 1'000);
  }
  tick(t0);
  expect_agrees("web", t0);
  // 62 runs in the newest minutes, none of them rolled up: every fourth down, the rest at 404 ms.
  for (int i = 0; i < 62; ++i, ++runs) {
    const int64_t t = t0 + i * 2 * kSec;
    clock_.set(t + kSec);
    const bool fails = i % 4 == 0;
    down += fails ? 1 : 0;
    run("web", t, fails ? Outcome::kDown : Outcome::kUp,
        fails ? std::nullopt : std::optional<int64_t>(404'000));
  }
  const int64_t now = t0 + 62 * 2 * kSec;
  at(now);
  expect_agrees("web", now);
  const auto s = store_->summaries().get()->at("web");
  ASSERT_TRUE(s.uptime_24h);
  EXPECT_DOUBLE_EQ(*s.uptime_24h,
                   100.0 * static_cast<double>(runs - down) / static_cast<double>(runs));
  ASSERT_TRUE(s.p95_ms_24h);
  EXPECT_NEAR(*s.p95_ms_24h, 404.0, 404.0 * 0.01);
  EXPECT_EQ(s.days.back().count, runs);
}

// Latency monitors (several samples per run) and runs in maintenance count as history counts
// them, also while they are only in the newest raw rows.
TEST_F(SummaryTest, SamplesAndMaintenanceInTheNewestRuns) {
  const int64_t t0 = kBase + 3 * kDay + 7 * kHour + 12 * kSec;
  clock_.set(t0);
  for (int64_t t = t0 - 20 * kMin; t < t0 - kMin; t += 10 * kSec) {
    run("dns", t, Outcome::kUp, std::nullopt, {3'000, 4'000 + t % 5'000, 90'000});
  }
  tick(t0);
  for (int i = 0; i < 30; ++i) {
    const int64_t t = t0 + i * kSec;
    run("dns", t, i % 5 == 0 ? Outcome::kDegraded : Outcome::kUp, std::nullopt,
        {2'000, 250'000 + i * 1'000}, i % 7 == 0);
  }
  at(t0 + 31 * kSec);
  expect_agrees("dns", t0 + 31 * kSec);
}

// Between two ticks the start of each window moves too: runs at the old edge leave the 24 h
// figure, and hour rows (minutes and raw rows are gone after 3 days) leave the 30 and 90 day
// ones, exactly when a history query over the window would stop reading them.
class SummaryEdgeTest : public SummaryTest, public ::testing::WithParamInterface<int64_t> {};

TEST_P(SummaryEdgeTest, TheOldEdgeMovesBetweenTicks) {
  const int64_t t0 = kBase + 95 * kDay + GetParam();
  clock_.set(t0);
  for (int64_t t = t0 - 95 * kDay; t < t0 - 3 * kMin; t += 10 * kMin) {
    run("web", t, (t / kMin) % 9 == 0 ? Outcome::kDown : Outcome::kUp,
        20'000 + (t / kMin) % 13 * 3'000);
  }
  // Dense, failing and slow around the 24 h edge, so each run that leaves moves the figures.
  for (int64_t t = t0 - kDay - 5 * kMin; t < t0 - kDay + 5 * kMin; t += 5 * kSec) {
    run("web", t, (t / kSec) % 3 == 0 ? Outcome::kDown : Outcome::kUp, 900'000 + t % 50'000);
    run("api", t, (t / kSec) % 2 == 0 ? Outcome::kDown : Outcome::kUp, 300'000 + t % 70'000);
  }
  for (int64_t t = t0 - 30 * kDay - 2 * kHour; t < t0 - 30 * kDay + 2 * kHour; t += kMin) {
    run("api", t, Outcome::kDown, std::nullopt);
  }
  tick(t0);
  for (const int64_t step : {0, 15, 40, 65, 90, 115, 130}) {
    at(t0 + step * kSec, "api");
    expect_agrees("web", t0 + step * kSec);
    expect_agrees("api", t0 + step * kSec);
  }
}

// Inside an hour; just before an hour (the edge crosses an hour row); just before midnight
// (the edge crosses a day row, and the 90 daily bars move by one); just after midnight (the
// tick's cut lies in the day before).
INSTANTIATE_TEST_SUITE_P(Edges, SummaryEdgeTest,
                         ::testing::Values(10 * kHour + 30 * kMin + 20 * kSec,
                                           10 * kHour + 59 * kMin + 30 * kSec,
                                           23 * kHour + 59 * kMin + 10 * kSec, 5 * kSec));

}  // namespace
}  // namespace lookout
