// Monitor sets of cluster nodes: a monitor's digest follows what its entry and [defaults] say
// (not their order, nor a secret's value), and the first difference between two sets is named.
#include "store/monitor_sets.h"

#include <gtest/gtest.h>

#include "tests/unit/config/config_parse.h"

namespace lookout {
namespace {

using test::messages;

std::vector<MonitorDigest> digests_of(const std::string& text,
                                      std::map<std::string, std::string> env = {
                                          {"TOKEN", "Canary-41d7"}}) {
  const auto r = parse_config(text, "/etc/lookout/node.toml", test::fake_env(std::move(env)));
  EXPECT_TRUE(r.ok()) << ::testing::PrintToString(messages(r));
  return r.ok() ? monitor_digests(*r.config) : std::vector<MonitorDigest>{};
}

const char* const kTwo =
    "[defaults]\ninterval = \"30s\"\n"
    "[[monitor]]\nname = \"home\"\ntype = \"http\"\nurl = \"https://a.example/\"\n"
    "[[monitor]]\nname = \"api\"\ntype = \"http\"\nurl = \"https://b.example/\"\n"
    "headers = { Authorization = \"${env:TOKEN}\" }\n";

TEST(MonitorSets, TheSameConfigWrittenInAnotherOrderHasTheSameSetAndHash) {
  const auto a = digests_of(kTwo);
  const auto b = digests_of(
      "[[monitor]]\ntype = \"http\"\nheaders = { Authorization = \"${env:TOKEN}\" }\n"
      "url = \"https://b.example/\"\nname = \"api\"\n"
      "[[monitor]]\nurl = \"https://a.example/\"\ntype = \"http\"\nname = \"home\"\n"
      "[defaults]\ninterval = \"30s\"\n");
  ASSERT_EQ(a.size(), 2U);
  EXPECT_EQ(a[0].name, "api");  // by name
  EXPECT_EQ(a, b);
  EXPECT_EQ(monitors_hash(a), monitors_hash(b));
  EXPECT_EQ(first_difference(a, b, "fra-2"), std::nullopt);
}

TEST(MonitorSets, ASecretCountsByItsReferenceNotItsValue) {
  const auto a = digests_of(kTwo, {{"TOKEN", "Canary-41d7"}});
  const auto b = digests_of(kTwo, {{"TOKEN", "Canary-other"}});
  EXPECT_EQ(a, b);
  for (const auto& m : a) EXPECT_EQ(m.digest.find("Canary"), std::string::npos);
}

TEST(MonitorSets, AChangedKeyOrDefaultNamesTheMonitor) {
  const auto mine = digests_of(kTwo);
  std::string other = kTwo;
  other.replace(other.find("https://b.example/"), 18, "https://c.example/");
  EXPECT_EQ(first_difference(mine, digests_of(other), "fra-2"),
            "monitor \"api\" is configured differently here and on node fra-2 (its [[monitor]] "
            "entry or [defaults] are not the same)");
  std::string slower = kTwo;
  slower.replace(slower.find("30s"), 3, "60s");
  const auto theirs = digests_of(slower);
  EXPECT_NE(monitors_hash(mine), monitors_hash(theirs));
  EXPECT_EQ(first_difference(mine, theirs, "nyc-1"),
            "monitor \"api\" is configured differently here and on node nyc-1 (its [[monitor]] "
            "entry or [defaults] are not the same)");
}

TEST(MonitorSets, AMonitorOneSideLacksIsNamed) {
  const auto mine = digests_of(kTwo);
  auto theirs = mine;
  theirs.push_back({"zeta", "00"});
  EXPECT_EQ(first_difference(mine, theirs, "fra-2"),
            "node fra-2 runs monitor \"zeta\", which this node's config lacks");
  theirs = {mine[1]};
  EXPECT_EQ(first_difference(mine, theirs, "fra-2"),
            "monitor \"api\" is in this node's config and not in node fra-2's");
}

TEST(MonitorSets, StatementsAndAnswers) {
  const std::vector<MonitorDigest> set{{"api", "d1"}, {"home", "d2"}};
  const auto publish = publish_monitor_set("h", set);
  ASSERT_EQ(publish.params.size(), 2U);
  EXPECT_EQ(publish.params[1], R"({"api":"d1","home":"d2"})");
  PgResult answer;
  answer.rows = {{std::string(R"({"home":"d2","api":"d1"})")}};
  EXPECT_EQ(monitor_set(answer), set);
  answer.rows = {{std::string(R"({"home":2})")}};
  EXPECT_EQ(monitor_set(answer), std::nullopt);
  answer.rows = {};
  EXPECT_EQ(monitor_set(answer), std::nullopt);  // no set under that hash
  answer.rows = {{std::string("[")}};
  EXPECT_EQ(monitor_set(answer), std::nullopt);
}

}  // namespace
}  // namespace lookout
