// The cluster's page and API picture from the rows of one read: each configured monitor's
// decided state, its locations fresh or unknown by their age on the server's clock, who decides
// it now by the eval leases, and the open incidents, each left out when its monitor is not
// configured.
#include "alerting/cluster_status.h"

#include <gtest/gtest.h>

#include "config/kinds/http_spec.h"
#include "store/lease_plan.h"

namespace lookout {
namespace {

using std::chrono::seconds;

const WallTime kReadAt = from_unix_ms(1'765'000'000'000);

// Run every 10 s with a 5 s timeout in a cluster whose lease is 10 s: a report counts for 35 s.
MonitorConfig status_monitor(const std::string& name,
                             std::optional<std::vector<std::string>> locations = std::nullopt) {
  MonitorConfig m;
  m.name = name;
  m.interval = seconds(10);
  m.timeout = seconds(5);
  m.spec = std::make_shared<HttpSpec>();
  m.locations = std::move(locations);
  return m;
}

LocationReportRow report_row(const std::string& monitor, const std::string& location,
                             const std::string& state, int64_t age_ms) {
  return {{monitor, location, state, 1000, to_unix_ms(kReadAt) - age_ms - 500,
           state == "up" ? std::optional<int64_t>(42'000) : std::nullopt,
           state == "up" ? "" : "timeout at " + location},
          "u",
          0,
          age_ms};
}

StateRow decided_row(const std::string& monitor, const std::string& state) {
  StateRow s;
  s.monitor = monitor;
  s.state = state;
  s.since_ms = 86'400'000;
  s.last_check_ms = to_unix_ms(kReadAt) - 2000;
  s.last_outcome = state == "up" ? Outcome::kUp : Outcome::kDown;
  s.last_latency_us = state == "up" ? std::optional<int64_t>(12'000) : std::nullopt;
  s.last_cause = state == "up" ? "" : "down from fra (1 of 1): timeout at fra";
  return s;
}

LeaseRow eval_lease(const std::string& monitor, const std::string& holder, int64_t remaining_ms) {
  return {LeaseSpace::evaluation().lease(shard_of(monitor)), holder, 3, remaining_ms};
}

TEST(ClusterStatusOf, TheDecidedStateWithItsLastRunAndWhoDecidesIt) {
  ClusterRead read;
  read.states = {decided_row("home", "down")};
  read.eval_leases = {eval_lease("home", "fra-2", 4000)};
  const auto s = cluster_status_of(read, {status_monitor("home")}, seconds(10), kReadAt);
  EXPECT_TRUE(s.ok);
  ASSERT_EQ(s.monitors.count("home"), 1U);
  const ClusterMonitorStatus& home = s.monitors.at("home");
  EXPECT_EQ(home.state, State::kDown);
  EXPECT_EQ(home.since, from_unix_ms(86'400'000));
  EXPECT_EQ(home.last_check, kReadAt - seconds(2));
  EXPECT_EQ(home.last_outcome, Outcome::kDown);
  EXPECT_EQ(home.latency_us, std::nullopt);
  EXPECT_EQ(home.cause, "down from fra (1 of 1): timeout at fra");
  EXPECT_EQ(home.decided_by, "fra-2");
  EXPECT_TRUE(home.locations.empty());
}

TEST(ClusterStatusOf, AMonitorNobodyDecidedYetIsUnknownWithoutSinceOrDecider) {
  ClusterRead read;
  // A lease that ran out, one of the probe space and one of another shard decide nothing here.
  read.eval_leases = {eval_lease("home", "fra-2", 0),
                      {LeaseSpace::probing("fra").lease(shard_of("home")), "fra-1", 1, 5000}};
  read.states = {decided_row("other", "up")};
  const auto s = cluster_status_of(read, {status_monitor("home")}, seconds(10), kReadAt);
  ASSERT_EQ(s.monitors.size(), 1U) << "a monitor not configured is left out";
  const ClusterMonitorStatus& home = s.monitors.at("home");
  EXPECT_EQ(home.state, State::kUnknown);
  EXPECT_EQ(home.since, std::nullopt);
  EXPECT_EQ(home.last_check, std::nullopt);
  EXPECT_EQ(home.decided_by, std::nullopt);
}

TEST(ClusterStatusOf, ALocationWhoseReportIsOlderThanTheFreshnessBoundShowsUnknown) {
  ClusterRead read;
  read.reports = {report_row("home", "nyc", "down", 35'000), report_row("home", "fra", "up", 0),
                  report_row("home", "sin", "down", 35'001)};
  const auto s = cluster_status_of(read, {status_monitor("home")}, seconds(10), kReadAt);
  const auto& locations = s.monitors.at("home").locations;
  ASSERT_EQ(locations.size(), 3U);
  EXPECT_EQ(locations[0].location, "fra") << "in alphabetical order";
  EXPECT_EQ(locations[0].state, State::kUp);
  EXPECT_EQ(locations[0].latency_us, 42'000);
  EXPECT_EQ(locations[0].last_check, kReadAt - std::chrono::milliseconds(500));
  EXPECT_EQ(locations[1].location, "nyc");
  EXPECT_EQ(locations[1].state, State::kDown) << "35 s old is still fresh";
  EXPECT_EQ(locations[1].cause, "timeout at nyc");
  EXPECT_EQ(locations[2].location, "sin");
  EXPECT_EQ(locations[2].state, State::kUnknown);
  EXPECT_EQ(locations[2].cause, "timeout at sin") << "why its last run failed stays";
}

TEST(ClusterStatusOf, OnlyTheLocationsAMonitorNamesAndOnlyConfiguredMonitorsIncidents) {
  ClusterRead read;
  read.reports = {report_row("home", "fra", "up", 0), report_row("home", "ams", "up", 0),
                  report_row("gone", "fra", "up", 0)};
  IncidentRecord open;
  open.id = 7;
  open.monitor = "home";
  IncidentRecord removed = open;
  removed.id = 8;
  removed.monitor = "gone";
  read.open_incidents = {open, removed};
  const auto s = cluster_status_of(read, {status_monitor("home", std::vector<std::string>{"fra"})},
                                   seconds(10), kReadAt);
  ASSERT_EQ(s.monitors.at("home").locations.size(), 1U);
  EXPECT_EQ(s.monitors.at("home").locations[0].location, "fra");
  ASSERT_EQ(s.open_incidents.size(), 1U);
  EXPECT_EQ(s.open_incidents[0].id, 7);
}

// What tells a silent location: each location's newest report of a monitor it runs, stale ones
// too, on this node's clock; a report of a monitor not configured, or from a location the
// monitor does not name, says nothing of the location.
TEST(ClusterStatusOf, EachLocationHeardAtItsNewestReport) {
  ClusterRead read;
  read.reports = {report_row("home", "fra", "up", 2000), report_row("shop", "fra", "up", 500),
                  report_row("home", "sgp", "up", 600'000), report_row("shop", "nyc", "up", 0),
                  report_row("gone", "ams", "up", 0)};
  const auto s = cluster_status_of(
      read, {status_monitor("home"), status_monitor("shop", std::vector<std::string>{"fra"})},
      seconds(10), kReadAt);
  ASSERT_EQ(s.heard.size(), 2U);
  EXPECT_EQ(s.heard.at("fra"), kReadAt - Duration{500});
  EXPECT_EQ(s.heard.at("sgp"), kReadAt - seconds(600));
}

}  // namespace
}  // namespace lookout
