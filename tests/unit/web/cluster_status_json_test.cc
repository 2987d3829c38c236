// Cluster mode's /api/v1/status: each monitor as the cluster decided it with its locations, and
// for the admin the node deciding it; a single node's answer has neither.
#include <gtest/gtest.h>

#include "tests/unit/web/snapshot_fixture.h"
#include "web/cluster_snapshot.h"
#include "web/status_json.h"

namespace lookout {
namespace {

using test::kWebDay;
using test::monitor_view;
using test::snapshot_of;

ClusterStatus two_locations(std::optional<std::string> decided_by) {
  ClusterMonitorStatus home;
  home.state = State::kUp;
  home.since = kWebDay;
  home.last_check = kWebDay + std::chrono::seconds(61);
  home.last_outcome = Outcome::kUp;
  home.latency_us = 12'500;
  home.decided_by = std::move(decided_by);
  home.locations = {{"fra", State::kDown, kWebDay + std::chrono::seconds(60), std::nullopt,
                     "expected status 200, got 503"},
                    {"nyc", State::kUnknown, kWebDay, 42'000, ""}};
  ClusterStatus s;
  s.ok = true;
  s.monitors["home"] = home;
  IncidentRecord open;
  open.id = 7;
  open.monitor = "home";
  s.open_incidents = {open};
  return s;
}

Snapshot clustered(const ClusterStatus& status) {
  Snapshot s = snapshot_of(
      "Acme", {monitor_view("home", "", State::kDown), monitor_view("alone", "", State::kDown)});
  show_cluster_status(status, s);
  return s;
}

TEST(ClusterStatusJson, EachMonitorShowsTheClustersStateAndItsLocations) {
  const auto j = status_json(clustered(two_locations("fra-2")), {}, false);
  const auto& home = j["monitors"][0];
  EXPECT_EQ(home["state"], "up") << "the decided state, not this node's";
  EXPECT_EQ(home["since"], "2026-11-01T00:00:00.000Z");
  EXPECT_EQ(home["last_check"], "2026-11-01T00:01:01.000Z");
  EXPECT_DOUBLE_EQ(home["latency_ms"].get<double>(), 12.5);
  EXPECT_EQ(home["locations"], nlohmann::json::parse(R"({
      "fra": {"state": "down", "last_check": "2026-11-01T00:01:00.000Z", "latency_ms": null,
              "cause": "expected status 200, got 503"},
      "nyc": {"state": "unknown", "last_check": "2026-11-01T00:00:00.000Z", "latency_ms": 42.0,
              "cause": null}})"));
  EXPECT_FALSE(home.contains("decided_by")) << "only for the admin";
  // A monitor the read does not have keeps this node's view, without the cluster's fields.
  EXPECT_EQ(j["monitors"][1]["state"], "down");
  EXPECT_FALSE(j["monitors"][1].contains("locations"));
}

TEST(ClusterStatusJson, TheAdminSeesWhoDecidesAndNullWhileNobodyDoes) {
  const auto deciding = status_json(clustered(two_locations("fra-2")), {}, true);
  EXPECT_EQ(deciding["monitors"][0]["decided_by"], "fra-2");
  const auto nobody = status_json(clustered(two_locations(std::nullopt)), {}, true);
  ASSERT_TRUE(nobody["monitors"][0].contains("decided_by"));
  EXPECT_TRUE(nobody["monitors"][0]["decided_by"].is_null());
  // The one monitor's answer too.
  const Snapshot s = clustered(two_locations("fra-2"));
  EXPECT_EQ(monitor_status_json(*s.monitors[0], {}, true)["decided_by"], "fra-2");
  EXPECT_FALSE(monitor_status_json(*s.monitors[0], {}, false).contains("decided_by"));
}

TEST(ClusterStatusJson, ASingleNodesAnswerHasNoClusterFields) {
  const auto j = status_json(snapshot_of("Acme", {monitor_view("home", "", State::kUp)}), {}, true);
  EXPECT_FALSE(j["monitors"][0].contains("locations"));
  EXPECT_FALSE(j["monitors"][0].contains("decided_by"));
}

TEST(ClusterSnapshot, MaintenanceHereStaysAndTheOpenIncidentsAreTheClusters) {
  Snapshot s = snapshot_of("Acme", {monitor_view("home", "", State::kMaintenance)});
  IncidentRecord local;
  local.id = 3;
  s.open_incidents = {local};
  const auto before = s.monitors[0];
  show_cluster_status(two_locations("fra-2"), s);
  EXPECT_EQ(s.monitors[0]->state, State::kMaintenance);
  EXPECT_EQ(s.monitors[0]->since, std::nullopt);
  EXPECT_EQ(s.monitors[0]->latency_us, 12'500);
  ASSERT_TRUE(s.monitors[0]->cluster.has_value());
  EXPECT_EQ(s.monitors[0]->cluster->locations.size(), 2U);
  EXPECT_FALSE(before->cluster.has_value()) << "the view it was made from is left as it was";
  ASSERT_EQ(s.open_incidents.size(), 1U);
  EXPECT_EQ(s.open_incidents[0].id, 7);
}

}  // namespace
}  // namespace lookout
