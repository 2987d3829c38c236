// What each node probes and decides, counted from the leases it holds: probe leases only in the
// holder's own location and for monitors probed from there, eval leases for every monitor of
// the shard, nothing for a lease that ran out or was released.
#include "store/cluster_view.h"

#include <gtest/gtest.h>

#include <set>

#include "config/kinds/heartbeat_spec.h"
#include "config/kinds/http_spec.h"
#include "store/lease_plan.h"

namespace lookout {
namespace {

MonitorConfig monitor(const std::string& name, std::optional<std::vector<std::string>> locations,
                      bool heartbeat = false) {
  MonitorConfig m;
  m.name = name;
  m.locations = std::move(locations);
  if (heartbeat) {
    m.spec = std::make_shared<HeartbeatSpec>();
  } else {
    m.spec = std::make_shared<HttpSpec>();
  }
  return m;
}

LeaseRow held(const std::string& name, const std::string& holder, int64_t remaining_ms = 5000) {
  return {name, holder, 1, remaining_ms};
}

TEST(ClusterView, CountsWhatEachNodeProbesAndDecidesFromItsLeases) {
  // Names on shards of their own, found rather than assumed.
  std::vector<MonitorConfig> monitors{
      monitor("home", std::nullopt), monitor("api", std::vector<std::string>{"fra"}),
      monitor("nyc-only", std::vector<std::string>{"nyc"}), monitor("backup", std::nullopt, true)};
  const auto probe_fra = LeaseSpace::probing("fra");
  const auto probe_nyc = LeaseSpace::probing("nyc");
  const auto eval = LeaseSpace::evaluation();
  std::vector<LeaseRow> leases;
  for (const auto& m : monitors) {
    leases.push_back(held(probe_fra.lease(shard_of(m.name)), "fra-1"));
    leases.push_back(held(probe_nyc.lease(shard_of(m.name)), "nyc-1"));
    leases.push_back(held(eval.lease(shard_of(m.name)), "nyc-1"));
  }
  // fra-2 holds a lease of nyc's space, which is not its location's, and one that ran out.
  leases.push_back(held(probe_nyc.lease(shard_of("home")), "fra-2"));
  leases.push_back(held(eval.lease(shard_of("api")), "fra-2", 0));
  std::vector<NodeRow> nodes{{"fra-1", "fra", "0.1.0", true, 100, "h"},
                             {"fra-2", "fra", "0.1.0", true, 100, "h"},
                             {"nyc-1", "nyc", "0.1.0", true, 100, "h"},
                             {"nyc-2", "nyc", "0.1.0", false, 90'000, "h"}};
  // Shards may coincide between names; count what the shards hold.
  std::set<int> shards;
  for (const auto& m : monitors) shards.insert(shard_of(m.name));
  ASSERT_EQ(shards.size(), monitors.size()) << "the test wants four shards";
  const auto v = cluster_nodes(nodes, leases, monitors);
  ASSERT_EQ(v.size(), 4U);
  EXPECT_EQ(v[0].row.node, "fra-1");
  EXPECT_EQ(v[0].probing, 2U);  // home, api: nyc-only is not probed from fra, backup is pinged
  EXPECT_EQ(v[0].deciding, 0U);
  EXPECT_EQ(v[1].probing, 0U);
  EXPECT_EQ(v[1].deciding, 0U);
  EXPECT_EQ(v[2].probing, 2U);  // home, nyc-only
  EXPECT_EQ(v[2].deciding, 4U);
  EXPECT_EQ(v[3].probing, 0U);
  EXPECT_FALSE(v[3].row.alive);
}

}  // namespace
}  // namespace lookout
