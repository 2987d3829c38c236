#include "web/statuspage.h"

#include <gtest/gtest.h>

#include "tests/unit/web/snapshot_fixture.h"

namespace lookout {
namespace {

using test::kWebDay;
using test::monitor_view;
using test::snapshot_of;

PostRecord statuspage_post(int64_t id, PostImpact impact, std::vector<std::string> monitors) {
  PostRecord p;
  p.id = id;
  p.title = "Slow checkout";
  p.impact = impact;
  p.monitors = std::move(monitors);
  p.created_at = kWebDay;
  p.updates = {{PostStatus::kInvestigating, "Looking.", kWebDay},
               {PostStatus::kMonitoring, "A fix is out.", kWebDay + std::chrono::minutes(5)}};
  return p;
}

TEST(Statuspage, ComponentsArePublicMonitorsWithStatuspagesWords) {
  const Snapshot s = snapshot_of(
      "Acme",
      {monitor_view("api", "Core", State::kDown), monitor_view("web", "Core", State::kDegraded),
       monitor_view("docs", "", State::kMaintenance), monitor_view("new", "", State::kUnknown),
       monitor_view("ok", "", State::kUp), monitor_view("db", "", State::kDown, false)});
  const auto j = statuspage_summary({s, "https://status.acme.example", kWebDay});
  EXPECT_EQ(j["page"]["name"], "Acme");
  EXPECT_EQ(j["page"]["url"], "https://status.acme.example");
  ASSERT_EQ(j["components"].size(), 5u) << "the private monitor is left out";
  const std::vector<std::pair<std::string, std::string>> want = {{"api", "major_outage"},
                                                                 {"web", "degraded_performance"},
                                                                 {"docs", "under_maintenance"},
                                                                 {"new", "operational"},
                                                                 {"ok", "operational"}};
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(j["components"][i]["id"], want[i].first);
    EXPECT_EQ(j["components"][i]["name"], want[i].first);
    EXPECT_EQ(j["components"][i]["status"], want[i].second);
    EXPECT_EQ(j["components"][i]["position"], i + 1);
  }
  EXPECT_EQ(j["status"]["indicator"], "major");
  EXPECT_EQ(j["status"]["description"], "Partial System Outage");
  EXPECT_TRUE(j["incidents"].empty());
  EXPECT_TRUE(j["scheduled_maintenances"].empty());
}

TEST(Statuspage, TheIndicatorIsTheWorstOfPostsAndMonitors) {
  Snapshot s = snapshot_of(
      "Acme", {monitor_view("api", "", State::kUp), monitor_view("db", "", State::kDown, false)});
  EXPECT_EQ(statuspage_status({s, "", kWebDay})["status"]["indicator"], "none")
      << "a private monitor down does not show";
  s.posts = std::make_shared<const std::vector<PostRecord>>(
      std::vector<PostRecord>{statuspage_post(1, PostImpact::kCritical, {"db"})});
  EXPECT_EQ(statuspage_status({s, "", kWebDay})["status"]["indicator"], "none")
      << "a post about private monitors only is private";
  s.posts = std::make_shared<const std::vector<PostRecord>>(
      std::vector<PostRecord>{statuspage_post(1, PostImpact::kMinor, {"api", "db"})});
  EXPECT_EQ(statuspage_status({s, "", kWebDay})["status"]["indicator"], "minor");
  Snapshot all_down = snapshot_of("Acme", {monitor_view("api", "", State::kDown)});
  const auto j = statuspage_status({all_down, "", kWebDay});
  EXPECT_EQ(j["status"]["indicator"], "critical");
  EXPECT_EQ(j["status"]["description"], "Major System Outage");
  EXPECT_FALSE(j.contains("components")) << "status.json is the short form";
}

TEST(Statuspage, OpenPublicPostsAreIncidentsWithUpdatesNewestFirst) {
  Snapshot s = snapshot_of("Acme", {monitor_view("api", "", State::kDegraded),
                                    monitor_view("db", "", State::kUp, false)});
  PostRecord resolved = statuspage_post(2, PostImpact::kMajor, {});
  resolved.resolved_at = kWebDay;
  s.posts = std::make_shared<const std::vector<PostRecord>>(
      std::vector<PostRecord>{statuspage_post(1, PostImpact::kMajor, {"api", "db"}), resolved});
  const auto j = statuspage_summary({s, "https://s.example", kWebDay});
  ASSERT_EQ(j["incidents"].size(), 1u) << "resolved posts are not current incidents";
  const auto& inc = j["incidents"][0];
  EXPECT_EQ(inc["id"], "1");
  EXPECT_EQ(inc["name"], "Slow checkout");
  EXPECT_EQ(inc["status"], "monitoring");
  EXPECT_EQ(inc["impact"], "major");
  EXPECT_EQ(inc["shortlink"], "https://s.example/posts/1");
  EXPECT_EQ(inc["monitoring_at"], rfc3339(kWebDay + std::chrono::minutes(5)));
  EXPECT_TRUE(inc["resolved_at"].is_null());
  ASSERT_EQ(inc["incident_updates"].size(), 2u);
  EXPECT_EQ(inc["incident_updates"][0]["status"], "monitoring");
  EXPECT_EQ(inc["incident_updates"][1]["body"], "Looking.");
  ASSERT_EQ(inc["components"].size(), 1u) << "the private monitor is not named";
  EXPECT_EQ(inc["components"][0]["id"], "api");
  EXPECT_EQ(inc["components"][0]["position"], 1);
  EXPECT_EQ(j["status"]["indicator"], "major");
}

TEST(Statuspage, MaintenanceWindowsAreScheduledOrInProgress) {
  Snapshot s = snapshot_of("Acme", {monitor_view("portal-home", "", State::kUp),
                                    monitor_view("secret-db", "", State::kUp, false)});
  MaintenanceRecord soon{3,
                         "Upgrade",
                         "Short pause.",
                         {"portal-*"},
                         kWebDay + std::chrono::hours(1),
                         Duration{3'600'000}};
  MaintenanceRecord now{
      0, "Patching", "", {"portal-*"}, kWebDay - std::chrono::minutes(1), Duration{3'600'000}};
  MaintenanceRecord hidden{4, "DB", "", {"secret-*"}, kWebDay, Duration{3'600'000}};
  s.maintenance = {{"config-1", true, now}, {"3", false, soon}, {"4", false, hidden}};
  const auto j = statuspage_summary({s, "https://s.example", kWebDay});
  ASSERT_EQ(j["scheduled_maintenances"].size(), 2u) << "a window of private monitors is private";
  EXPECT_EQ(j["scheduled_maintenances"][0]["status"], "in_progress");
  EXPECT_EQ(j["scheduled_maintenances"][1]["id"], "3");
  EXPECT_EQ(j["scheduled_maintenances"][1]["status"], "scheduled");
  EXPECT_EQ(j["scheduled_maintenances"][1]["scheduled_for"],
            rfc3339(kWebDay + std::chrono::hours(1)));
  EXPECT_EQ(j["scheduled_maintenances"][1]["scheduled_until"],
            rfc3339(kWebDay + std::chrono::hours(2)));
  EXPECT_EQ(j["scheduled_maintenances"][1]["incident_updates"][0]["body"], "Short pause.");
  EXPECT_EQ(j["scheduled_maintenances"][1]["components"][0]["id"], "portal-home");
}

}  // namespace
}  // namespace lookout
