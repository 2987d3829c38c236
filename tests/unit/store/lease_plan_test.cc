// The shards and shares of cluster mode without a server: the hash and the dealing are pinned
// (nodes of different versions must agree on them), every shard has exactly one live node,
// shares stay within their stated bound for 1 to 5 nodes, a join or a leave moves at most half
// as many shards again as must move, and a node's plan renews its share and hands the rest over.
#include "store/lease_plan.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

namespace lookout {
namespace {

// Values computed by a separate implementation of FNV-1a 64 and MurmurHash3's fmix64.
TEST(LeasePlan, TheHashIsPinned) {
  EXPECT_EQ(stable_hash(""), 0xefd01f60ba992926ULL);
  EXPECT_EQ(stable_hash("portal-home"), 0x596941377d24603bULL);
  EXPECT_EQ(stable_hash("portal-dns"), 0x0002eaee27f478eeULL);
  EXPECT_EQ(shard_of("portal-home"), 59);
  EXPECT_EQ(shard_of("portal-dns"), 238);
  EXPECT_EQ(shard_of("a"), 91);
}

TEST(LeasePlan, NamesSpreadOverEveryShard) {
  std::vector<int> count(kLeaseShards, 0);
  for (int i = 0; i < 25'600; ++i)
    ++count[static_cast<size_t>(shard_of("monitor-" + std::to_string(i)))];
  // 100 a shard on average; a binomial's spread is 10, so six spreads either side.
  EXPECT_GE(*std::min_element(count.begin(), count.end()), 40);
  EXPECT_LE(*std::max_element(count.begin(), count.end()), 160);
}

TEST(LeasePlan, LeaseNamesAndTheirShards) {
  const LeaseSpace fra = LeaseSpace::probing("fra");
  const LeaseSpace eval = LeaseSpace::evaluation();
  EXPECT_EQ(fra.lease(7), "probe/fra/7");
  EXPECT_EQ(eval.lease(0), "eval/0");
  EXPECT_EQ(eval.lease(255), "eval/255");
  for (int shard = 0; shard < kLeaseShards; ++shard) {
    EXPECT_EQ(fra.shard(fra.lease(shard)), shard);
    EXPECT_EQ(eval.shard(eval.lease(shard)), shard);
  }
  for (const char* other : {"probe/nyc/7", "eval/7", "probe/fra/", "probe/fra/07", "probe/fra/256",
                            "probe/fra/-1", "probe/fra/7x", "probe/fra/7/1", "probe/fr/7"}) {
    EXPECT_EQ(fra.shard(other), std::nullopt) << other;
  }
  EXPECT_EQ(eval.shard("probe/fra/7"), std::nullopt);
}

// The dealing itself is pinned too: a change would have two versions of lookout disagree on
// who holds what during a rolling upgrade.
TEST(LeasePlan, TheDealingIsPinned) {
  const auto owners = LeaseSpace::probing("fra").deal({"fra-1", "fra-2", "fra-3"});
  ASSERT_EQ(owners.size(), 256u);
  EXPECT_EQ(std::vector<std::string>(owners.begin(), owners.begin() + 8),
            (std::vector<std::string>{"fra-2", "fra-3", "fra-1", "fra-1", "fra-1", "fra-3", "fra-1",
                                      "fra-1"}));
}

TEST(LeasePlan, EveryShardHasOneOfTheNodesWhateverTheirOrder) {
  const LeaseSpace space = LeaseSpace::probing("fra");
  EXPECT_TRUE(space.deal({}).empty());
  const auto one = space.deal({"fra-1"});
  EXPECT_EQ(one, std::vector<std::string>(kLeaseShards, "fra-1"));
  const auto owners = space.deal({"fra-1", "fra-2", "fra-3", "fra-4"});
  ASSERT_EQ(owners.size(), static_cast<size_t>(kLeaseShards));
  for (const auto& o : owners) {
    EXPECT_TRUE(o == "fra-1" || o == "fra-2" || o == "fra-3" || o == "fra-4") << o;
  }
  EXPECT_EQ(space.deal({"fra-4", "fra-2", "fra-1", "fra-3", "fra-2"}), owners);
  EXPECT_EQ(space.deal({"fra-1", "fra-2", "fra-3", "fra-4"}), owners);
  // Another space deals its shards independently.
  EXPECT_NE(LeaseSpace::evaluation().deal({"fra-1", "fra-2", "fra-3", "fra-4"}), owners);
}

std::map<std::string, int> loads(const std::vector<std::string>& owners) {
  std::map<std::string, int> out;
  for (const auto& o : owners) ++out[o];
  return out;
}

int moved(const std::vector<std::string>& before, const std::vector<std::string>& after) {
  int n = 0;
  for (size_t i = 0; i < before.size(); ++i) n += before[i] != after[i] ? 1 : 0;
  return n;
}

// Node names of 100 made-up clusters of up to 6 nodes.
std::vector<std::string> cluster(int k, int nodes) {
  std::vector<std::string> out;
  for (int i = 1; i <= nodes; ++i)
    out.push_back("node" + std::to_string(k) + "-" + std::to_string(i));
  return out;
}

TEST(LeasePlan, SharesStayWithinTheirBoundForOneToFiveNodes) {
  for (const LeaseSpace& space : {LeaseSpace::probing("fra"), LeaseSpace::evaluation()}) {
    for (int k = 0; k < 100; ++k) {
      for (int n = 1; n <= 5; ++n) {
        const int most = (kLeaseShards + n - 1) / n;
        const int least = kLeaseShards - (n - 1) * most;
        const auto per_node = loads(space.deal(cluster(k, n)));
        ASSERT_EQ(per_node.size(), static_cast<size_t>(n));
        for (const auto& [node, count] : per_node) {
          EXPECT_GE(count, least) << node << " of " << n;
          EXPECT_LE(count, most) << node << " of " << n;
        }
      }
    }
  }
  // Within 6 % of a fair share for 1 to 5 nodes: 256; 128; 84..86; 64; 48..52.
  EXPECT_EQ(kLeaseShards - 4 * ((kLeaseShards + 4) / 5), 48);
}

// What must move on a join is the newcomer's share, on a leave the leaver's; what else moves is
// pushed on by the changed bound. Over 100 clusters and both kinds of space it stays within half
// of what must move (the worst seen is a quarter).
TEST(LeasePlan, AJoinOrALeaveMovesLittleMoreThanItMust) {
  for (const LeaseSpace& space : {LeaseSpace::probing("fra"), LeaseSpace::evaluation()}) {
    for (int k = 0; k < 100; ++k) {
      for (int n = 1; n <= 4; ++n) {
        const auto names = cluster(k, n + 1);
        const auto before = space.deal({names.begin(), names.begin() + n});
        const auto after = space.deal(names);
        const int joined = loads(after)[names.back()];
        EXPECT_LE(2 * moved(before, after), 3 * joined) << k << ": " << n << " + 1";
        const auto without_first = space.deal({names.begin() + 1, names.end()});
        const int left = loads(after)[names.front()];
        EXPECT_LE(2 * moved(after, without_first), 3 * left) << k << ": " << n + 1 << " - 1";
      }
    }
  }
}

TEST(LeasePlan, ANodeRenewsItsShareAndHandsTheRestOver) {
  const LeaseSpace fra = LeaseSpace::probing("fra");
  const std::vector<std::string> live{"fra-1", "fra-2", "fra-3"};
  const auto owners = fra.deal(live);

  std::set<std::string> every;
  for (const auto& node : live) {
    const LeasePlan plan = plan_leases(fra, node, live, {});
    EXPECT_TRUE(plan.release.empty());
    for (const auto& name : plan.acquire) {
      EXPECT_EQ(owners[static_cast<size_t>(*fra.shard(name))], node) << name;
      EXPECT_TRUE(every.insert(name).second) << name << " in two shares";
    }
  }
  EXPECT_EQ(every.size(), static_cast<size_t>(kLeaseShards));

  // fra-1 held every lease alone; fra-2 and fra-3 came: it keeps its share, hands the rest over,
  // and leaves other spaces' leases alone.
  std::vector<std::string> held = plan_leases(fra, "fra-1", {"fra-1"}, {}).acquire;
  ASSERT_EQ(held.size(), static_cast<size_t>(kLeaseShards));
  held.emplace_back("eval/3");
  held.emplace_back("probe/nyc/3");
  const LeasePlan plan = plan_leases(fra, "fra-1", live, held);
  EXPECT_EQ(plan.acquire, plan_leases(fra, "fra-1", live, {}).acquire);
  EXPECT_EQ(plan.acquire.size() + plan.release.size(), static_cast<size_t>(kLeaseShards));
  for (const auto& name : plan.release) {
    EXPECT_NE(owners[static_cast<size_t>(*fra.shard(name))], "fra-1") << name;
  }
}

// A dead node is no longer live: its shards are in the others' shares at once, and the others
// keep theirs.
TEST(LeasePlan, ADeadNodesShardsFallToTheOthers) {
  const LeaseSpace eval = LeaseSpace::evaluation();
  const auto before = eval.deal({"fra-1", "fra-2", "nyc-1"});
  const std::vector<std::string> live{"fra-1", "nyc-1"};
  std::set<std::string> taken;
  for (const auto& node : live) {
    for (const auto& name : plan_leases(eval, node, live, {}).acquire) taken.insert(name);
  }
  EXPECT_EQ(taken.size(), static_cast<size_t>(kLeaseShards));
  for (int shard = 0; shard < kLeaseShards; ++shard) {
    if (before[static_cast<size_t>(shard)] == "fra-2") {
      EXPECT_TRUE(taken.count(eval.lease(shard))) << shard;
    }
  }
}

// A node that is not live itself (its row went stale: the others count it dead) aims for
// nothing and hands over what it still holds.
TEST(LeasePlan, ANodeThatIsNotLiveAimsForNothing) {
  const LeaseSpace fra = LeaseSpace::probing("fra");
  const LeasePlan plan = plan_leases(fra, "fra-3", {"fra-1", "fra-2"}, {"probe/fra/1", "eval/1"});
  EXPECT_TRUE(plan.acquire.empty());
  EXPECT_EQ(plan.release, std::vector<std::string>{"probe/fra/1"});
  const LeasePlan alone = plan_leases(fra, "fra-3", {}, {"probe/fra/1"});
  EXPECT_TRUE(alone.acquire.empty());
  EXPECT_EQ(alone.release, std::vector<std::string>{"probe/fra/1"});
}

}  // namespace
}  // namespace lookout
