// The status page's summaries of a cluster against a real PostgreSQL: the same runs written to
// a SQLite file through SqliteStore (rolled up and kept as one node keeps them) and to
// PostgreSQL (raw rows from two locations, and the rollup rows and marks a roller leaves) make
// the same summaries whole, read by a reader started over the data; a late run that moved a
// shard's marks back is counted once its shard is read again.
#include "store/pg_summaries.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>

#include "store/lease_plan.h"
#include "store/pg_results.h"
#include "store/rollup.h"
#include "store/sqlite_store.h"
#include "tests/integration/cluster/cluster_helpers.h"
#include "tests/support/temp_dir.h"

namespace lookout::testing {
namespace {

constexpr int64_t kSumMin = 60'000, kSumHour = 3'600'000, kSumDay = 86'400'000;
// 10:30 on a UTC day: the 24 hour window starts on a whole minute.
constexpr int64_t kSumNow = 20'428 * kSumDay + 10 * kSumHour + 30 * kSumMin;
constexpr int64_t kSumGrace = 2 * kSumMin;  // the roller is two minutes behind

class SumClock final : public Clock {
 public:
  MonoTime mono() const override { return std::chrono::steady_clock::now(); }
  WallTime wall() const override { return from_unix_ms(kSumNow); }
};

// Every 17 minutes over 92 days, then every 20 s over the last two: down, degraded, in
// maintenance, without a response, with several samples.
std::vector<ResultRow> sum_runs(const std::string& monitor, int shift) {
  std::vector<ResultRow> out;
  auto add = [&](int64_t t, int k) {
    ResultRow r;
    r.monitor = monitor;
    r.t_ms = t;
    r.outcome = k % 9 == 0 ? Outcome::kDown : k % 7 == 0 ? Outcome::kDegraded : Outcome::kUp;
    if (k % 18 != 0) r.timings.total_us = 20'000 + (k * 7919) % 400'000;
    r.maintenance = k % 31 == 0;
    if (k % 23 == 0) r.samples_us = {1000 + k, 5000 + 3LL * k, 250'000};
    out.push_back(std::move(r));
  };
  int k = shift;
  for (int64_t t = kSumNow - 92 * kSumDay + shift * 1000; t < kSumNow - 2 * kSumDay;
       t += 17 * kSumMin)
    add(t, k++);
  for (int64_t t = kSumNow - 2 * kSumDay + shift * 1000; t < kSumNow; t += 20'000) add(t, k++);
  return out;
}

// A summary as one line, every figure the page shows.
std::string sum_shown(const HistorySummary& s) {
  const auto opt = [](const std::optional<double>& v) {
    return v ? fmt::format("{}", *v) : std::string("-");
  };
  std::string out =
      fmt::format("24h {} 30d {} 90d {} p95 {} from {} |", opt(s.uptime_24h), opt(s.uptime_30d),
                  opt(s.uptime_90d), opt(s.p95_ms_24h), s.first_day_ms);
  for (const DaySummary& d : s.days) out += fmt::format(" {}/{}/{}", d.count, d.uptime, d.p95_ms);
  return out;
}

std::map<std::string, std::string> sum_shown(const SummaryMap& m) {
  std::map<std::string, std::string> out;
  for (const auto& [name, s] : m) out[name] = sum_shown(s);
  return out;
}

class PgSummariesAgainstSqlite : public ::testing::Test {
 protected:
  void SetUp() override {
    LOOKOUT_NEED_POSTGRES();
    server_ = std::make_unique<PostgresServer>();
    conn_ = std::make_unique<PgConnection>(loop_, Secret::plain(server_->dsn()), nullptr);
    conn_->start();
    require_schema(loop_, *conn_);
  }

  // Runs `sql` on the test's connection; fails the test on an error.
  void sum_exec(const std::string& sql) {
    const PgResult r = answer_to(loop_, *conn_, {sql, {}});
    ASSERT_TRUE(r.ok()) << r.error;
  }
  void sum_copy(const std::string& script, std::string data) {
    std::optional<PgResult> answer;
    conn_->copy(script, std::move(data), [&answer](PgResult a) { answer = std::move(a); });
    ASSERT_TRUE(turn_until(
        loop_, [&] { return answer.has_value(); }, std::chrono::seconds(30)));
    ASSERT_TRUE(answer->ok()) << answer->error;
  }

  // The runs to both engines; SQLite rolled up and kept as a node does at kSumNow. Returns the
  // SQLite summaries.
  SummaryMap write(const std::vector<std::vector<ResultRow>>& runs) {
    const std::string path = dir_.file("lookout.db");
    {
      std::string error;
      auto store = SqliteStore::open(path, clock_, error);
      EXPECT_NE(store, nullptr) << error;
      if (store == nullptr) return {};
      store->start();
      for (const auto& rows : runs)
        for (const auto& r : rows) store->add_result(r);
      store->stop();
    }
    sqlite3* db = nullptr;
    sqlite3_open(path.c_str(), &db);
    std::string error;
    for (RollupStats stats{1, 1, 1}; stats.minute_rows + stats.hour_rows + stats.day_rows > 0;) {
      stats = {};
      EXPECT_TRUE(roll_up(db, kSumNow, kSumGrace, stats, error)) << error;
    }
    const RetentionPolicy keep{3 * kSumDay, 3 * kSumDay, 90 * kSumDay, 1825 * kSumDay};
    for (uint64_t deleted = 1; deleted > 0;) {
      deleted = 0;
      EXPECT_TRUE(apply_retention(db, kSumNow, keep, deleted, error)) << error;
    }

    // PostgreSQL: the raw runs, every other from a second location, then the rollup rows and
    // the marks as a roller at kSumNow leaves them.
    std::vector<int64_t> times;
    for (const auto& rows : runs)
      for (const auto& r : rows) times.push_back(r.t_ms);
    sum_exec(make_result_partitions_for(times).sql);
    uint64_t batch = 0;
    for (const auto& rows : runs) {
      std::string data;
      for (size_t i = 0; i < rows.size(); ++i)
        append_result_row(data,
                          i % 2 == 0 ? ResultOrigin{"fra-1", "fra"} : ResultOrigin{"nyc-1", "nyc"},
                          rows[i]);
      sum_copy(result_batch_script("0123456789abcdef0123456789abcdef", ++batch), std::move(data));
    }
    std::string data;
    for (const char* level : {"minute", "hour", "day"}) {
      sqlite3_stmt* st = nullptr;
      sqlite3_prepare_v2(
          db,
          fmt::format("SELECT m.name, r.t_ms, r.count, r.failures, r.degraded, r.maintenance, "
                      "r.min_us, r.max_us, r.sum_us, hex(r.sketch) FROM rollup_{} r JOIN monitors "
                      "m ON m.id = r.monitor_id",
                      level)
              .c_str(),
          -1, &st, nullptr);
      while (sqlite3_step(st) == SQLITE_ROW) {
        data += level;
        for (int c = 0; c < 10; ++c) {
          const auto* v = reinterpret_cast<const char*>(sqlite3_column_text(st, c));
          data += '\t';
          data += v == nullptr ? "\\N" : v;
        }
        data += '\n';
      }
      sqlite3_finalize(st);
    }
    sum_copy(
        "CREATE TEMP TABLE sum_rollups (level text, monitor text, t bigint, count int, failures "
        "int, degraded int, maintenance int, min_us bigint, max_us bigint, sum_us bigint, "
        "sketch text); COPY sum_rollups FROM STDIN",
        std::move(data));
    for (const char* level : {"minute", "hour", "day"}) {
      sum_exec(fmt::format(
          "INSERT INTO rollup_{0} (t, count, failures, degraded, maintenance, min_us, max_us, "
          "sum_us, monitor, sketch) SELECT 'epoch'::timestamptz + t * interval '1 millisecond', "
          "count, failures, degraded, maintenance, min_us, max_us, sum_us, monitor, "
          "decode(sketch, 'hex') FROM sum_rollups WHERE level = '{0}'",
          level));
    }
    const Watermarks wm = read_watermarks(db);
    for (const auto& [level, until] :
         {std::pair{"minute", wm.minute}, std::pair{"hour", wm.hour}, std::pair{"day", wm.day}}) {
      EXPECT_TRUE(until.has_value()) << level;
      sum_exec(fmt::format(
          "INSERT INTO rollup_marks SELECT s, '{}', 'epoch'::timestamptz + {} * interval "
          "'1 millisecond' FROM generate_series(0, 255) s",
          level, until.value_or(0)));
    }
    SummaryBuilder builder;
    builder.rebuild(db, kSumNow, kSumGrace);
    auto out = *builder.summarize(kSumNow);
    sqlite3_close(db);
    return out;
  }

  // A reader started now; turns the loop until it read every shard after `reads` reads.
  std::shared_ptr<const SummaryMap> read_all(PgSummaries& reader, uint64_t reads = 0) {
    EXPECT_TRUE(turn_until(
        loop_, [&] { return reader.ready() && reader.reads() > reads; }, std::chrono::seconds(20)));
    return cache_.get();
  }

  EventLoop loop_;
  SumClock clock_;
  SummaryCache cache_;
  std::unique_ptr<PostgresServer> server_;
  std::unique_ptr<PgConnection> conn_;
  test::TempDir dir_;
};

TEST_F(PgSummariesAgainstSqlite, TheSameRunsMakeTheSameSummariesAndALateRunIsCounted) {
  const std::vector<std::string> names{"api", "web", "db", "idle"};
  const SummaryMap sqlite = write({sum_runs("api", 0), sum_runs("web", 5), sum_runs("db", 11)});
  if (HasFailure()) return;
  ASSERT_EQ(sqlite.size(), 3u);

  PgSummaries reader(loop_, *conn_, clock_, names, cache_);
  reader.start();
  const auto first = read_all(reader);
  EXPECT_EQ(sum_shown(*first), sum_shown(sqlite));
  EXPECT_EQ(first->count("idle"), 0u);
  EXPECT_GT(reader.rows(), 0u);

  // A down run of api from nyc, 100 minutes ago, written after its hour was rolled up: the
  // roller moves the shard's hour and minute marks back to refold it.
  const int64_t late = kSumNow - 100 * kSumMin;
  ResultRow r;
  r.monitor = "api";
  r.t_ms = late;
  r.outcome = Outcome::kDown;
  std::string data;
  append_result_row(data, {"nyc-1", "nyc"}, r);
  sum_copy(result_batch_script("0123456789abcdef0123456789abcdef", 99), std::move(data));
  const int shard = shard_of("api");
  sum_exec(fmt::format(
      "UPDATE rollup_marks SET until = 'epoch'::timestamptz + CASE level WHEN 'hour' THEN {} "
      "ELSE {} END * interval '1 millisecond' WHERE shard = {} AND level <> 'day'",
      align_down(late, kSumHour), align_down(late, kSumMin), shard));
  const uint64_t before = reader.reads();
  const auto second = read_all(reader, before + 1);
  const HistorySummary& was = first->at("api");
  const HistorySummary& now = second->at("api");
  EXPECT_EQ(now.days.back().count, was.days.back().count + 1);
  const double up = was.days.back().uptime * was.days.back().count / 100.0;
  EXPECT_NEAR(now.days.back().uptime, 100.0 * up / (was.days.back().count + 1), 1e-3);
  EXPECT_LT(*now.uptime_24h, *was.uptime_24h);
  EXPECT_LT(*now.uptime_90d, *was.uptime_90d);
  for (const char* other : {"web", "db"})
    EXPECT_EQ(sum_shown(second->at(other)), sum_shown(sqlite.at(other))) << other;
  reader.stop();
}

}  // namespace
}  // namespace lookout::testing
