// The latency kind and slo.p95 against a target whose delay the test sets: the monitor goes
// DEGRADED with the p95, the budget and the window in its cause, comes back UP when the slow
// samples leave the window, and keeps every sample (with its phases) in storage.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <chrono>
#include <thread>

#include "tests/integration/harness.h"

namespace lookout::testing {
namespace {

TEST(LatencyProbe, CrossesIntoDegradedAndBack) {
  TempDir dir;
  TargetServer target;
  std::atomic<int> delay_ms{0};
  target.routes().Get("/api", [&](const httplib::Request&, httplib::Response& res) {
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms.load()));
    res.set_content("{}", "application/json");
  });
  target.start();
  const std::string url = fmt::format("http://127.0.0.1:{}/api", target.port());
  Daemon d(dir, fmt::format(R"(
[defaults]
interval = "300ms"
timeout = "300ms"
fail_after = 1
recover_after = 1
public = true
slo.p95 = "100ms"
slo.window = "10s"
slo.min_samples = 5

[[monitor]]
name = "dashboard"
type = "latency"
url = "{0}"
samples = 3

[[monitor]]
name = "home"
type = "http"
url = "{0}"
)",
                            url));
  d.start();
  ASSERT_TRUE(wait_until(
      [&] { return d.monitor("dashboard")["state"] == "up" && d.monitor("home")["state"] == "up"; },
      10'000ms));

  delay_ms = 200;
  // A run that started before this may be judged degraded with a fast first sample.
  const int64_t slow_from_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count() +
                               1;
  ASSERT_TRUE(wait_until([&] { return d.monitor("dashboard")["state"] == "degraded"; }, 10'000ms))
      << d.monitor("dashboard").dump();
  ASSERT_TRUE(wait_until([&] { return d.monitor("home")["state"] == "degraded"; }, 10'000ms))
      << d.monitor("home").dump();
  const std::string metrics = d.metrics();
  const double p95 = metric_value(metrics, "lookout_slo_p95_seconds", "monitor=\"dashboard\"");
  EXPECT_GT(p95, 0.1);
  // The status API shows the window: budget, percentiles, samples.
  const auto slo = d.monitor("dashboard")["slo"];
  EXPECT_EQ(slo["p95_budget_ms"], 100);
  EXPECT_EQ(slo["window"], "10s");
  EXPECT_GT(slo["samples"].get<int>(), 5);
  EXPECT_GT(slo["p95_ms"].get<double>(), 100);
  EXPECT_LE(slo["p50_ms"].get<double>(), slo["p95_ms"].get<double>());
  EXPECT_LE(slo["p95_ms"].get<double>(), slo["p99_ms"].get<double>());
  const std::string page = http_get(d.port(), "/monitor/dashboard").body;
  EXPECT_NE(page.find("<dt>p95 over the last 10s</dt>"), std::string::npos) << page;
  EXPECT_NE(page.find("(budget 100 ms, over)"), std::string::npos);

  // The cause of a degraded run names the p95, the budget and the window.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2(d.db_path().c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_busy_timeout(db, 2000);
  std::string cause;
  ASSERT_TRUE(wait_until(
      [&] {
        sqlite3_stmt* st = nullptr;
        sqlite3_prepare_v2(
            db,
            "SELECT r.cause FROM results r JOIN monitors m ON m.id = r.monitor_id "
            "WHERE m.name = 'dashboard' AND r.outcome = 1 ORDER BY r.t_ms DESC LIMIT 1",
            -1, &st, nullptr);
        if (sqlite3_step(st) == SQLITE_ROW)
          cause = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
        sqlite3_finalize(st);
        return !cause.empty();
      },
      5'000ms));
  EXPECT_NE(cause.find("> 100 ms over the last 10s ("), std::string::npos) << cause;
  const double reported = std::stod(cause.substr(4));
  EXPECT_GE(reported, 200 * 0.99) << cause;

  // Every sample is stored, with its phases, beside the run: a degraded run started after the
  // delay was set has only slow samples.
  std::string detail_text;
  int samples_bytes = 0;
  ASSERT_TRUE(wait_until(
      [&] {
        sqlite3_stmt* st = nullptr;
        sqlite3_prepare_v2(db,
                           "SELECT length(r.samples), r.detail FROM results r JOIN monitors m ON "
                           "m.id = r.monitor_id WHERE m.name = 'dashboard' AND r.outcome = 1 AND "
                           "r.samples IS NOT NULL AND r.t_ms > ? ORDER BY r.t_ms DESC LIMIT 1",
                           -1, &st, nullptr);
        sqlite3_bind_int64(st, 1, slow_from_ms);
        if (sqlite3_step(st) == SQLITE_ROW) {
          samples_bytes = sqlite3_column_int(st, 0);
          detail_text = reinterpret_cast<const char*>(sqlite3_column_text(st, 1));
        }
        sqlite3_finalize(st);
        return !detail_text.empty();
      },
      5'000ms));
  EXPECT_EQ(samples_bytes, 3 * 8);
  const auto detail = nlohmann::json::parse(detail_text);
  ASSERT_EQ(detail["samples"].size(), 3u);
  EXPECT_TRUE(detail["samples"][0]["connect_ms"].is_number());
  for (const auto& sample : detail["samples"]) EXPECT_GE(sample["total_ms"].get<double>(), 200);
  sqlite3_close(db);

  delay_ms = 0;
  ASSERT_TRUE(wait_until([&] { return d.monitor("dashboard")["state"] == "up"; }, 20'000ms))
      << d.monitor("dashboard").dump();
  ASSERT_TRUE(wait_until([&] { return d.monitor("home")["state"] == "up"; }, 20'000ms));
}

TEST(LatencyProbe, ASlowSampleFailsTheRunNamingIt) {
  TempDir dir;
  TargetServer target;
  std::atomic<int> calls{0};
  target.routes().Get("/api", [&](const httplib::Request&, httplib::Response& res) {
    // Every third request is refused with 503.
    res.status = ++calls % 3 == 0 ? 503 : 200;
  });
  target.start();
  dir.write(
      "c.toml",
      fmt::format(
          "[[monitor]]\nname = \"api\"\ntype = \"latency\"\nurl = \"http://127.0.0.1:{}/api\"\n"
          "samples = 5\nreuse = true\n",
          target.port()));
  int code = 0;
  const auto r = probe_json(dir.file("c.toml"), code);
  EXPECT_EQ(code, 1);
  ASSERT_EQ(r.count("api"), 1u);
  EXPECT_EQ(r.at("api")["outcome"], "down");
  EXPECT_EQ(r.at("api")["cause"], "sample 3 of 5: expected status 2xx, got 503");
}

}  // namespace
}  // namespace lookout::testing
