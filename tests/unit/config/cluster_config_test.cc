// [cluster] and a monitor's `locations`: each key's default, range and error at FILE:LINE:COL,
// and a DSN's password in no message, even when libpq cannot parse the DSN around it.
#include <gtest/gtest.h>
#include <unistd.h>

#include <climits>

#include "config/config.h"
#include "tests/unit/config/config_parse.h"

namespace lookout {
namespace {

using test::messages;

const char* const kFile = "/etc/lookout/cluster.toml";
const char* const kMonitor =
    "[[monitor]]\nname = \"home\"\ntype = \"http\"\nurl = \"https://a.example/\"\n";

LoadResult cluster_config(const std::string& text,
                          std::map<std::string, std::string> env = {
                              {"LOOKOUT_PG", "host=db1 dbname=lookout password=Canary-8f3e"}}) {
  return parse_config(text, kFile, test::fake_env(std::move(env)));
}

bool has(const LoadResult& r, const std::string& message) {
  const auto all = messages(r);
  return std::find(all.begin(), all.end(), message) != all.end();
}

TEST(ClusterConfig, TakesEveryKey) {
  const auto r = cluster_config(
      "[cluster]\ndsn = \"${env:LOOKOUT_PG}\"\nnode = \"fra-1\"\nlocation = \"fra\"\n"
      "quorum = 2\nlease = \"15s\"\nsource_address = \"192.0.2.7\"\n");
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(messages(r));
  ASSERT_TRUE(r.config->cluster);
  const ClusterConfig& c = *r.config->cluster;
  EXPECT_EQ(c.dsn.reveal(), "host=db1 dbname=lookout password=Canary-8f3e");
  EXPECT_TRUE(c.dsn.is_secret());
  EXPECT_EQ(c.node, "fra-1");
  EXPECT_EQ(c.location, "fra");
  EXPECT_EQ(c.quorum, 2);
  EXPECT_EQ(c.lease, Duration{15'000});
  EXPECT_EQ(c.source_address.text(), "192.0.2.7");
  EXPECT_EQ(c.line, 1);
}

TEST(ClusterConfig, DefaultsToTheHostNameTenSecondsAndNoQuorum) {
  const auto r = cluster_config("[cluster]\ndsn = \"${env:LOOKOUT_PG}\"\nlocation = \"fra\"\n");
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(messages(r));
  char host[HOST_NAME_MAX + 1] = {};
  ASSERT_EQ(gethostname(host, sizeof host - 1), 0);
  EXPECT_EQ(r.config->cluster->node, host);
  EXPECT_EQ(r.config->cluster->lease, Duration{10'000});
  EXPECT_FALSE(r.config->cluster->quorum);
  EXPECT_TRUE(r.config->cluster->source_address.empty());
}

TEST(ClusterConfig, WithoutClusterNothingIsSet) {
  const auto r = cluster_config(kMonitor);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r.config->cluster);
}

TEST(ClusterConfig, EachBadValueIsAnErrorAtIt) {
  struct Case {
    std::string keys, error;
  };
  const std::string dsn = "dsn = \"${env:LOOKOUT_PG}\"\n";
  const std::vector<Case> cases{
      {"dsn = \"${env:LOOKOUT_PG}\"\n",
       "/etc/lookout/cluster.toml:1:1: [cluster] needs location: where this node probes from, as "
       "in location = \"fra\""},
      {"location = \"fra\"\n",
       "/etc/lookout/cluster.toml:1:1: [cluster] needs dsn: the PostgreSQL database the nodes "
       "share, as in dsn = \"${env:LOOKOUT_PG}\""},
      {dsn + "location = \"Frankfurt\"\n",
       "/etc/lookout/cluster.toml:3:12: cluster.location \"Frankfurt\" may hold only a-z, 0-9, _ "
       "and - (at most 32)"},
      {dsn + "location = \"fra\"\nnode = \"fra 1\"\n",
       "/etc/lookout/cluster.toml:4:8: cluster.node \"fra 1\" may hold only letters, digits, '.', "
       "'_' and '-' (at most 100)"},
      {dsn + "location = \"fra\"\nquorum = 0\n",
       "/etc/lookout/cluster.toml:4:10: cluster.quorum must be between 1 and 100, not 0"},
      {dsn + "location = \"fra\"\nquorum = \"2\"\n",
       "/etc/lookout/cluster.toml:4:10: cluster.quorum must be an integer, not a string"},
      {dsn + "location = \"fra\"\nlease = \"1s\"\n",
       "/etc/lookout/cluster.toml:4:9: cluster.lease must be between 2s and 10m"},
      {dsn + "location = \"fra\"\nlease = \"11m\"\n",
       "/etc/lookout/cluster.toml:4:9: cluster.lease must be between 2s and 10m"},
      {dsn + "location = \"fra\"\nlease = 10\n",
       "/etc/lookout/cluster.toml:4:9: cluster.lease must be a duration string such as \"30s\", "
       "not an integer"},
      {dsn + "location = \"fra\"\nsource_address = \"fra.example\"\n",
       "/etc/lookout/cluster.toml:4:18: cluster.source_address \"fra.example\" is not an IPv4 or "
       "IPv6 address"},
      {dsn + "location = \"fra\"\nleases = \"10s\"\n",
       "/etc/lookout/cluster.toml:4:1: unknown key \"leases\" in [cluster]; did you mean "
       "\"lease\"?"},
      {"dsn = \"host=db1 sslmode\"\nlocation = \"fra\"\n",
       "/etc/lookout/cluster.toml:2:7: cluster.dsn is not a libpq connection string or URI: "
       "missing \"=\" after \"***\" in connection info string"},
      {"dsn = \"host=db1 hots=db2\"\nlocation = \"fra\"\n",
       "/etc/lookout/cluster.toml:2:7: cluster.dsn is not a libpq connection string or URI: "
       "invalid connection option \"hots\""},
  };
  for (const auto& c : cases) {
    const auto r = cluster_config("[cluster]\n" + c.keys);
    EXPECT_FALSE(r.ok()) << c.keys;
    EXPECT_TRUE(has(r, c.error)) << c.keys << ::testing::PrintToString(messages(r));
  }
}

TEST(ClusterConfig, AnIPv6SourceAddressIsTaken) {
  const auto r = cluster_config(
      "[cluster]\ndsn = \"${env:LOOKOUT_PG}\"\nlocation = \"fra\"\nsource_address = "
      "\"2001:db8::7\"\n");
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(messages(r));
  EXPECT_EQ(r.config->cluster->source_address.text(), "2001:db8::7");
}

TEST(ClusterConfig, TheDsnCannotBeANumberOrAnUnsetVariable) {
  auto r = cluster_config("[cluster]\ndsn = 5\nlocation = \"fra\"\n");
  EXPECT_TRUE(has(r, "/etc/lookout/cluster.toml:2:7: cluster.dsn must be a string, not an integer"))
      << ::testing::PrintToString(messages(r));
  r = cluster_config("[cluster]\ndsn = \"${env:LOOKOUT_PG}\"\nlocation = \"fra\"\n", {});
  EXPECT_TRUE(has(r,
                  "/etc/lookout/cluster.toml:2:7: cluster.dsn: environment variable LOOKOUT_PG is "
                  "not set"))
      << ::testing::PrintToString(messages(r));
}

// The password of a DSN that came whole from one variable is masked on its own, in any free
// text, and a DSN libpq cannot parse shows none of what surrounds the problem.
TEST(ClusterConfig, TheDsnPasswordIsInNoMessage) {
  auto r = cluster_config(
      "[cluster]\ndsn = \"${env:LOOKOUT_PG}\"\nlocation = \"fra\"\n",
      {{"LOOKOUT_PG",
        "postgresql://lookout:Canary-8f3e@db1,db2/lookout?target_session_attrs=read-write"}});
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(messages(r));
  EXPECT_EQ(r.config->redactor->apply("FATAL: password Canary-8f3e refused"),
            "FATAL: password *** refused");
  EXPECT_EQ(fmt::format("{}", r.config->cluster->dsn), "***");

  for (const std::string bad :
       {"host=db1 password=Canary-8f3e sslmode", "host=db1 password='Canary-8f3e",
        "postgresql://lookout:Canary-8f3e@[db1/x", "postgresql://lookout:Canary%zz8f3e@db1/x",
        "host=db1 Canary-8f3e"}) {
    r = cluster_config("[cluster]\ndsn = \"${env:LOOKOUT_PG}\"\nlocation = \"fra\"\n",
                       {{"LOOKOUT_PG", bad}});
    ASSERT_FALSE(r.ok()) << bad;
    for (const auto& m : messages(r)) {
      EXPECT_EQ(m.find("Canary"), std::string::npos) << m;
      EXPECT_EQ(m.find("8f3e"), std::string::npos) << m;
    }
  }
}

TEST(ClusterConfig, AMonitorTakesItsLocations) {
  const auto r = cluster_config(
      "[cluster]\ndsn = \"${env:LOOKOUT_PG}\"\nlocation = \"fra\"\n" + std::string(kMonitor) +
      "locations = [\"fra\", \"nyc\"]\n[[monitor]]\nname = \"api\"\ntype = \"http\"\nurl = "
      "\"https://b.example/\"\n");
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(messages(r));
  EXPECT_EQ(r.config->find("home")->locations, (std::vector<std::string>{"fra", "nyc"}));
  EXPECT_FALSE(r.config->find("api")->locations);
}

TEST(ClusterConfig, LocationsComeFromDefaultsAndChangeTheMonitor) {
  const auto r = cluster_config(
      "[cluster]\ndsn = \"${env:LOOKOUT_PG}\"\nlocation = \"fra\"\n"
      "[defaults]\nlocations = \"nyc\"\n" +
      std::string(kMonitor));
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(messages(r));
  const MonitorConfig& m = *r.config->find("home");
  EXPECT_EQ(m.locations, (std::vector<std::string>{"nyc"}));
  MonitorConfig moved = m;
  moved.locations = std::vector<std::string>{"fra"};
  EXPECT_FALSE(m.same_as(moved));
}

TEST(ClusterConfig, BadLocationsAreErrorsAtTheName) {
  struct Case {
    std::string value, error;
  };
  const std::vector<Case> cases{
      {"[]",
       "/etc/lookout/cluster.toml:8:13: locations is empty; leave it out to probe from every "
       "location that has a live node"},
      {"[\"fra\", \"NYC\"]",
       "/etc/lookout/cluster.toml:8:21: location \"NYC\" may hold only a-z, 0-9, _ and - (at most "
       "32), like cluster.location"},
      {"[\"fra\", \"fra\"]", "/etc/lookout/cluster.toml:8:21: location \"fra\" is listed twice"},
      {"5",
       "/etc/lookout/cluster.toml:8:13: locations must be a string or an array of strings, not an "
       "integer"},
  };
  for (const auto& c : cases) {
    const auto r = cluster_config("[cluster]\ndsn = \"${env:LOOKOUT_PG}\"\nlocation = \"fra\"\n" +
                                  std::string(kMonitor) + "locations = " + c.value + "\n");
    EXPECT_FALSE(r.ok()) << c.value;
    EXPECT_TRUE(has(r, c.error)) << c.value << ::testing::PrintToString(messages(r));
  }
}

TEST(ClusterConfig, LocationsWithoutClusterAreAWarning) {
  // Not std::string + literal: GCC 12's -O2 reports a false out-of-bounds copy in it.
  const auto r = cluster_config(fmt::format("{}locations = [\"fra\"]\n", kMonitor));
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(messages(r));
  EXPECT_TRUE(has(r,
                  "/etc/lookout/cluster.toml:5:13: warning: locations applies only in cluster mode "
                  "([cluster]); without it every monitor is probed from here"))
      << ::testing::PrintToString(messages(r));
}

}  // namespace
}  // namespace lookout
