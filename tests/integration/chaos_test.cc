// kill -9, twenty times, at random moments, while 1,000 monitors run and an incident storm (1,000
// openings during the first ten kills, then 1,000 resolutions during the last ten) is being
// delivered to a webhook in grouped notifications: after every kill the
// database passes integrity_check, every notification the outbox held arrives at least once,
// and no monitor has an incident opened twice.
#include <fmt/ranges.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <csignal>
#include <mutex>
#include <random>
#include <set>

#include "tests/integration/harness.h"

namespace lookout::testing {
namespace {

constexpr int kMonitors = 1000;
constexpr int kKills = 20;

struct Db {
  explicit Db(const std::string& path) {
    sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  }
  ~Db() { sqlite3_close(db); }
  std::vector<std::string> column(const std::string& sql) {
    std::vector<std::string> out;
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK) {
      while (sqlite3_step(st) == SQLITE_ROW) {
        const auto* t = sqlite3_column_text(st, 0);
        out.emplace_back(t != nullptr ? reinterpret_cast<const char*>(t) : "");
      }
    }
    sqlite3_finalize(st);
    return out;
  }
  sqlite3* db = nullptr;
};

// Records every delivery: ids, and which incident each monitor's openings named.
struct Receiver {
  TargetServer server;
  std::mutex mu;
  std::set<std::string> ids;
  std::map<std::string, std::set<int64_t>> opened;  // monitor -> incident ids announced as opened
  size_t deliveries = 0;
  Receiver() {
    server.routes().Post("/hook", [this](const httplib::Request& req, httplib::Response&) {
      const auto j = nlohmann::json::parse(req.body, nullptr, false);
      if (!j.is_object()) return;
      std::lock_guard lock(mu);
      ++deliveries;
      auto one = [this](const nlohmann::json& e) {
        ids.insert(e.value("id", ""));
        if (e.value("event", "") == "incident.opened")
          opened[e["incident"].value("monitor", "")].insert(e["incident"].value("id", 0LL));
      };
      if (j.value("event", "") == "group") {
        for (const auto& e : j["events"]) one(e);
      } else {
        one(j);
      }
    });
    server.start();
  }
};

TEST(Chaos, TwentyKillsDuringAnIncidentStormLoseNoAlertAndOpenNothingTwice) {
  TempDir dir;
  RawServer target(RawServer::Mode::kStatus);
  Receiver hook;

  std::string monitors =
      "[defaults]\ninterval = \"2s\"\ntimeout = \"1500ms\"\nfail_after = 1\nrecover_after = "
      "1\npublic = true\n\n";
  for (int i = 0; i < kMonitors; ++i) {
    monitors += fmt::format(
        "[[monitor]]\nname = \"m{}\"\ntype = \"http\"\nurl = \"http://127.0.0.1:{}/app/{}\"\n\n", i,
        target.port(), i);
  }
  monitors += fmt::format(R"([[channel]]
name = "hook"
type = "webhook"
url = "http://127.0.0.1:{}/hook"

[[route]]
name = "all"
notify = ["hook"]
# Short, so that kills land while groups gather, go and are retried.
group_wait = "1s"
group_interval = "2s"
)",
                          hook.server.port());
  Daemon d(dir, monitors, "public_url = \"http://127.0.0.1:@PORT@\"");
  d.start();
  auto count_state = [&](const char* state) {
    const auto s = d.status();
    int n = 0;
    if (s.is_object()) {
      for (const auto& m : s["monitors"]) n += m["state"] == state ? 1 : 0;
    }
    return n;
  };
  auto count_up = [&] { return count_state("up"); };
  ASSERT_TRUE(wait_until([&] { return count_up() == kMonitors; }, 30'000ms)) << count_up();

  std::mt19937 rng(std::random_device{}());
  std::uniform_int_distribution<int> pause_ms(200, 1500);
  target.status = 503;  // the storm: every monitor goes down
  for (int round = 1; round <= kKills; ++round) {
    std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms(rng)));
    d.process().signal(SIGKILL);
    ASSERT_EQ(d.process().wait(5000ms), 128 + SIGKILL) << "round " << round;
    {
      Db db(d.db_path());
      ASSERT_EQ(db.column("PRAGMA integrity_check"), std::vector<std::string>{"ok"})
          << "round " << round;
    }
    d.start();
    if (round == kKills / 2) {
      // Every monitor down (a kill may have cost some their first failing run), then the
      // second half: the storm of resolutions.
      ASSERT_TRUE(wait_until([&] { return count_state("down") == kMonitors; }, 30'000ms))
          << count_state("down") << " down";
      target.status = 200;
    }
  }

  // Everything the outbox ever held arrives, at least once.
  ASSERT_TRUE(wait_until(
      [&] {
        Db db(d.db_path());
        const auto pending = db.column("SELECT COUNT(*) FROM outbox WHERE status = 'pending'");
        return !pending.empty() && pending.front() == "0" && count_up() == kMonitors;
      },
      120'000ms))
      << count_up() << " up\n"
      << d.metrics();
  Db db(d.db_path());
  EXPECT_EQ(db.column("PRAGMA integrity_check"), std::vector<std::string>{"ok"});
  const auto stored = db.column("SELECT id FROM outbox WHERE channel = 'hook'");
  const auto not_sent = db.column("SELECT id FROM outbox WHERE status != 'sent'");
  EXPECT_TRUE(not_sent.empty()) << not_sent.size() << " rows not sent, e.g. " << not_sent.front();
  std::lock_guard lock(hook.mu);
  size_t missing = 0;
  for (const auto& id : stored) missing += hook.ids.count(id) == 0 ? 1 : 0;
  EXPECT_EQ(missing, 0u) << "of " << stored.size() << " stored notifications";
  EXPECT_GE(stored.size(), static_cast<size_t>(2 * kMonitors));  // an opening and a resolution each

  // One incident per monitor, opened once, across twenty kills.
  const auto per_monitor =
      db.column("SELECT COUNT(*) FROM incidents GROUP BY monitor HAVING COUNT(*) != 1");
  EXPECT_TRUE(per_monitor.empty())
      << per_monitor.size() << " monitors have more than one incident, as "
      << fmt::format(
             "{}",
             fmt::join(
                 db.column("SELECT monitor || ' ' || id || ' ' || started_ms || '-' || "
                           "IFNULL(resolved_ms, 0) || ' ' || cause FROM incidents WHERE monitor IN "
                           "(SELECT monitor FROM incidents GROUP BY monitor HAVING COUNT(*) > 1) "
                           "ORDER BY monitor, id LIMIT 12"),
                 "\n"));
  EXPECT_EQ(db.column("SELECT COUNT(*) FROM incidents WHERE resolved_ms IS NOT NULL"),
            std::vector<std::string>{std::to_string(kMonitors)});
  EXPECT_EQ(hook.opened.size(), static_cast<size_t>(kMonitors));
  for (const auto& [monitor, incidents] : hook.opened) EXPECT_EQ(incidents.size(), 1u) << monitor;
  RecordProperty("deliveries", static_cast<int>(hook.deliveries));
  RecordProperty("notifications", static_cast<int>(stored.size()));
}

}  // namespace
}  // namespace lookout::testing
