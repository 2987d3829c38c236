#include "web/status_json.h"

#include <gtest/gtest.h>

#include "tests/unit/web/snapshot_fixture.h"

namespace lookout {
namespace {

using test::kWebDay;
using test::monitor_view;
using test::snapshot_of;

// The monitor of that name in a status answer; null when it is not there.
nlohmann::json listed(const nlohmann::json& status, const std::string& name) {
  for (const auto& m : status["monitors"]) {
    if (m["name"] == name) return m;
  }
  return nullptr;
}

TEST(StatusJson, EachStateByItsName) {
  const std::vector<std::pair<State, std::string>> states = {{State::kUp, "up"},
                                                             {State::kDegraded, "degraded"},
                                                             {State::kDown, "down"},
                                                             {State::kMaintenance, "maintenance"},
                                                             {State::kUnknown, "unknown"}};
  std::vector<MonitorView> views;
  views.reserve(states.size());
  for (const auto& [state, name] : states) views.push_back(monitor_view(name, "", state));
  const auto j = status_json(snapshot_of("Acme", views), {}, false);
  EXPECT_EQ(j["title"], "Acme");
  ASSERT_EQ(j["monitors"].size(), states.size());
  for (size_t i = 0; i < states.size(); ++i) {
    EXPECT_EQ(j["monitors"][i]["name"], states[i].second) << "in config order";
    EXPECT_EQ(j["monitors"][i]["state"], states[i].second);
  }
}

TEST(StatusJson, FieldsOfARunAndOfNone) {
  MonitorView down = monitor_view("portal-api", "Portal", State::kDown);
  down.since = kWebDay;
  down.last_check = kWebDay + std::chrono::milliseconds(61'250);
  down.latency_us = 12'345;
  down.cause = "expected status 2xx, got 503";
  MonitorView fresh = monitor_view("new", "", State::kUnknown);
  fresh.type = "dns";
  const auto j = status_json(snapshot_of("Acme", {down, fresh}), {}, false);

  const auto d = listed(j, "portal-api");
  EXPECT_EQ(d["group"], "Portal");
  EXPECT_EQ(d["type"], "http");
  EXPECT_EQ(d["state"], "down");
  EXPECT_EQ(d["since"], "2026-11-01T00:00:00.000Z");
  EXPECT_EQ(d["last_check"], "2026-11-01T00:01:01.250Z");
  EXPECT_DOUBLE_EQ(d["latency_ms"].get<double>(), 12.345);
  EXPECT_EQ(d["cause"], "expected status 2xx, got 503");

  const auto f = listed(j, "new");
  EXPECT_EQ(f["type"], "dns");
  for (const char* key : {"since", "last_check", "latency_ms", "cause"}) {
    EXPECT_TRUE(f[key].is_null()) << key;
  }
  EXPECT_FALSE(f.contains("cert_not_after"));
  EXPECT_FALSE(f.contains("slo"));
}

TEST(StatusJson, HistoryFiguresPerMonitorAndNullWithout) {
  SummaryMap history;
  history["portal-api"].uptime_24h = 99.5;
  history["portal-api"].uptime_30d = 99.95;
  history["portal-api"].uptime_90d = 100.0;
  history["portal-api"].p95_ms_24h = 231.5;
  const auto j = status_json(snapshot_of("Acme", {monitor_view("portal-api", "", State::kUp),
                                                  monitor_view("billing", "", State::kUp)}),
                             history, false);
  const auto api = listed(j, "portal-api");
  EXPECT_EQ(api["uptime_24h"], 99.5);
  EXPECT_EQ(api["uptime_30d"], 99.95);
  EXPECT_EQ(api["uptime_90d"], 100.0);
  EXPECT_EQ(api["p95_ms_24h"], 231.5);
  const auto billing = listed(j, "billing");
  for (const char* key : {"uptime_24h", "uptime_30d", "uptime_90d", "p95_ms_24h"}) {
    EXPECT_TRUE(billing[key].is_null()) << key;
  }
}

TEST(StatusJson, PrivateMonitorsOnlyWhenAsked) {
  const Snapshot s = snapshot_of("Acme", {monitor_view("portal-api", "", State::kUp),
                                          monitor_view("db-main", "", State::kDown, false)});
  const auto open = status_json(s, {}, false);
  EXPECT_EQ(open["monitors"].size(), 1u);
  EXPECT_TRUE(listed(open, "db-main").is_null());
  EXPECT_EQ(open.dump().find("db-main"), std::string::npos);
  const auto admin = status_json(s, {}, true);
  EXPECT_EQ(admin["monitors"].size(), 2u);
  EXPECT_EQ(listed(admin, "db-main")["state"], "down");
}

TEST(StatusJson, CertificateExpiryAndTheSloWindow) {
  MonitorView cert = monitor_view("portal-cert", "", State::kUp);
  cert.cert_not_after = kWebDay + std::chrono::hours(24 * 30);
  MonitorView waiting = monitor_view("portal-slo", "", State::kUp);
  waiting.slo_budget = Duration{500};
  waiting.slo_window = Duration{15 * 60'000};
  MonitorView breached = waiting;
  breached.name = "portal-slow";
  SloJudgement judged;
  judged.samples = 40;
  judged.p50_ms = 210;
  judged.p95_ms = 612;
  judged.p99_ms = 800;
  judged.judged = true;
  judged.breached = true;
  breached.slo = judged;
  const auto j = status_json(snapshot_of("Acme", {cert, waiting, breached}), {}, false);

  EXPECT_EQ(listed(j, "portal-cert")["cert_not_after"], "2026-12-01T00:00:00.000Z");
  EXPECT_EQ(listed(j, "portal-slo")["slo"],
            nlohmann::json::parse(R"({"p95_budget_ms": 500, "window": "15m", "samples": 0,
                                      "p50_ms": null, "p95_ms": null, "p99_ms": null,
                                      "breached": false})"));
  EXPECT_EQ(listed(j, "portal-slow")["slo"],
            nlohmann::json::parse(R"({"p95_budget_ms": 500, "window": "15m", "samples": 40,
                                      "p50_ms": 210.0, "p95_ms": 612.0, "p99_ms": 800.0,
                                      "breached": true})"));
}

TEST(HistoryJson, PointsWithCountsAndPercentiles) {
  Aggregate busy;
  busy.add_run(Outcome::kUp, 100'000, false);
  busy.add_run(Outcome::kDown, std::nullopt, false);
  const int64_t t = to_unix_ms(kWebDay);
  const auto j =
      history_json("portal-api", 86'400'000, 900'000, {{t, busy}, {t + 900'000, Aggregate{}}});
  EXPECT_EQ(j["monitor"], "portal-api");
  EXPECT_EQ(j["window"], "1d");
  EXPECT_EQ(j["step"], "15m");
  ASSERT_EQ(j["points"].size(), 2u);
  const auto& first = j["points"][0];
  EXPECT_EQ(first["t"], "2026-11-01T00:00:00.000Z");
  EXPECT_EQ(first["count"], 2);
  EXPECT_EQ(first["failures"], 1);
  EXPECT_NEAR(first["p95_ms"].get<double>(), 100.0, 1.0) << "within the sketch's 1 %";
  const auto& empty = j["points"][1];
  EXPECT_EQ(empty["t"], "2026-11-01T00:15:00.000Z");
  EXPECT_EQ(empty["count"], 0);
  for (const char* key : {"p50_ms", "p95_ms", "p99_ms"}) EXPECT_TRUE(empty[key].is_null()) << key;
}

}  // namespace
}  // namespace lookout
