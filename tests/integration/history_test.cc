// A target answers after delays the test sets; the history API's p95 must match the exact p95
// of the recorded samples within the sketch's 1 % accuracy, uptime must count down runs, and
// /api/v1/status must agree with the history about the same runs.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <tuple>

#include "tests/integration/harness.h"

namespace lookout::testing {
namespace {

TEST(History, P95MatchesTheExactP95OfTheRecordedSamples) {
  TempDir dir;
  TargetServer target;
  std::atomic<int> n{0};
  target.routes().Get("/delay", [&](const httplib::Request&, httplib::Response& res) {
    // 5, 10, ... 120 ms, then again: a spread the p95 must find.
    const int i = n++;
    std::this_thread::sleep_for(Ms(5 + (i * 37) % 24 * 5));
    res.set_content("ok", "text/plain");
  });
  target.routes().Get("/flaky", [&](const httplib::Request&, httplib::Response& res) {
    static std::atomic<int> k{0};
    res.status = (k++ % 4 == 0) ? 500 : 200;
  });
  // Slower with every run and failing every third: each new run moves both the uptime and the
  // p95, so figures that leave out the newest runs cannot match by chance.
  std::atomic<int> rising{0};
  target.routes().Get("/rising", [&](const httplib::Request&, httplib::Response& res) {
    const int i = rising++;
    std::this_thread::sleep_for(Ms(5 + 20 * (i % 40)));
    res.status = i % 3 == 0 ? 500 : 200;
  });
  target.start();
  Daemon d(
      dir,
      fmt::format(
          "[defaults]\ninterval = \"200ms\"\ntimeout = \"180ms\"\npublic = true\n"
          "[[monitor]]\nname = \"delays\"\ntype = \"http\"\nurl = \"http://127.0.0.1:{0}/delay\"\n"
          "[[monitor]]\nname = \"flaky\"\ntype = \"http\"\nurl = \"http://127.0.0.1:{0}/flaky\"\n"
          "[[monitor]]\nname = \"rising\"\ntype = \"http\"\nurl = \"http://127.0.0.1:{0}/rising\"\n"
          "interval = \"2s\"\ntimeout = \"1s\"\n",
          target.port()));
  d.start();
  ASSERT_TRUE(wait_until([&] { return n.load() >= 45; }, 30'000ms));

  const auto answer = http_get(d.port(), "/api/v1/monitors/delays/history?window=1h&step=1h");
  ASSERT_EQ(answer.status, 200) << answer.body;
  const auto j = nlohmann::json::parse(answer.body);
  EXPECT_EQ(j["step"], "1h");

  // The recorded samples, straight from the database, per returned bucket.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2(d.db_path().c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  uint64_t compared = 0;
  for (const auto& p : j["points"]) {
    if (p["count"] == 0) continue;
    std::tm tm{};
    strptime(p["t"].get<std::string>().c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
    const int64_t t = static_cast<int64_t>(timegm(&tm)) * 1000;
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(
        db,
        "SELECT total_us FROM (SELECT r.total_us, r.t_ms FROM results r JOIN monitors m ON m.id = "
        "r.monitor_id "
        "WHERE m.name = 'delays' AND r.t_ms >= ? AND r.t_ms < ? ORDER BY r.t_ms LIMIT ?) "
        "WHERE total_us IS NOT NULL",
        -1, &st, nullptr);
    sqlite3_bind_int64(st, 1, t);
    sqlite3_bind_int64(st, 2, t + 3'600'000);
    // Runs of one monitor never overlap, so rows land in start-time order: the API saw the
    // first `count` of them.
    sqlite3_bind_int64(st, 3, p["count"].get<int64_t>());
    std::vector<double> samples;
    while (sqlite3_step(st) == SQLITE_ROW)
      samples.push_back(static_cast<double>(sqlite3_column_int64(st, 0)) / 1000.0);
    sqlite3_finalize(st);
    if (samples.empty()) continue;
    std::sort(samples.begin(), samples.end());
    for (const auto& [q, key] :
         {std::pair{0.5, "p50_ms"}, std::pair{0.95, "p95_ms"}, std::pair{0.99, "p99_ms"}}) {
      const double exact =
          samples[static_cast<size_t>(q * static_cast<double>(samples.size() - 1))];
      EXPECT_NEAR(p[key].get<double>(), exact, exact * 0.01 + 1e-9)
          << key << " over " << samples.size() << " samples";
    }
    compared += samples.size();
  }
  sqlite3_close(db);
  EXPECT_GE(compared, 35u);

  const auto flaky = nlohmann::json::parse(
      http_get(d.port(), "/api/v1/monitors/flaky/history?window=1h&step=1h").body);
  uint64_t count = 0, failures = 0;
  for (const auto& p : flaky["points"]) {
    count += p["count"].get<uint64_t>();
    failures += p["failures"].get<uint64_t>();
  }
  EXPECT_GT(count, 20u);
  EXPECT_GT(failures, 0u);
  EXPECT_LT(failures, count);

  // Bad requests say why; unknown and private monitors look the same.
  const auto bad = http_get(d.port(), "/api/v1/monitors/delays/history?window=7d&step=1m");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(nlohmann::json::parse(bad.body)["error"].get<std::string>().find("the most is 10000"),
            std::string::npos);
  EXPECT_EQ(http_get(d.port(), "/api/v1/monitors/nope/history").status, 404);
  // Without a step: about a hundredth of the window.
  const auto dflt =
      nlohmann::json::parse(http_get(d.port(), "/api/v1/monitors/delays/history?window=24h").body);
  EXPECT_EQ(dflt["step"], "14m");
  EXPECT_GE(dflt["points"].size(), 100u);

  // /api/v1/status counts the same runs as the history: the newest too, long before the next
  // housekeeping tick (at start, 10 s later, then every minute). Its answer may be a second
  // old, so it is asked first and compared with a history asked right after it, until one
  // pair has no run committed in between.
  auto history_of_rising = [&] {
    uint64_t count = 0, failures = 0;
    std::vector<nlohmann::json> points;
    const auto answer = nlohmann::json::parse(
        http_get(d.port(), "/api/v1/monitors/rising/history?window=1h&step=1h").body);
    for (const auto& p : answer["points"]) {
      count += p["count"].get<uint64_t>();
      failures += p["failures"].get<uint64_t>();
      if (p["count"] != 0) points.push_back(p);
    }
    return std::tuple{count, failures, points};
  };
  ASSERT_TRUE(wait_until([&] { return std::get<0>(history_of_rising()) >= 9; }, 30'000ms));
  std::string last;
  const bool agreed = wait_until(
      [&] {
        const nlohmann::json status = d.monitor("rising");
        const auto [count, failures, points] = history_of_rising();
        last = fmt::format("status {} and {} runs, {} failed, in {}", status.dump(), count,
                           failures, nlohmann::json(points).dump());
        if (count == 0 || status["uptime_24h"].is_null()) return false;
        const double uptime =
            100.0 * static_cast<double>(count - failures) / static_cast<double>(count);
        // Within one hour bucket the history's p95 is the 24 h one (all runs are minutes old).
        return status["uptime_24h"].get<double>() == uptime &&
               (points.size() != 1 || status["p95_ms_24h"] == points[0]["p95_ms"]);
      },
      10'000ms, 100ms);
  EXPECT_TRUE(agreed) << last;
}

}  // namespace
}  // namespace lookout::testing
