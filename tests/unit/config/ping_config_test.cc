// The ping kind in the config: its keys and defaults, and every mistake at FILE:LINE:COL.
#include <gtest/gtest.h>

#include "config/config.h"
#include "config/kinds/ping_spec.h"
#include "tests/unit/config/config_parse.h"

namespace lookout {
namespace {

using test::messages;

LoadResult ping_config(const std::string& text) {
  return parse_config(text, "/etc/lookout/p.toml", test::fake_env({{"GW", "gw.internal"}}));
}

TEST(PingConfig, KeysAndDefaults) {
  const auto r = ping_config(R"toml([[monitor]]
name = "gw"
type = "ping"
host = "10.0.0.1"

[[monitor]]
name = "gw6"
type   =   "ping"
host = "2001:DB8::1"
count = 5
expect.max_loss = "20%"
expect.max_rtt = "100ms"

[[monitor]]
name = "named"
type = "ping"
host = "${env:GW}"
expect = { max_loss = "2.5%" }
)toml");
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(messages(r));
  const auto& c = *r.config;
  const auto& gw = c.find("gw")->spec_as<PingSpec>();
  EXPECT_EQ(gw.host, "10.0.0.1");
  EXPECT_EQ(gw.count, 3);
  EXPECT_FALSE(gw.max_loss);
  EXPECT_FALSE(gw.max_rtt);
  EXPECT_EQ(gw.type_at.line, 3);
  EXPECT_EQ(gw.type_at.col, 8);
  EXPECT_EQ(c.find("gw")->host, "10.0.0.1");

  const auto& gw6 = c.find("gw6")->spec_as<PingSpec>();
  EXPECT_EQ(gw6.host, "2001:db8::1");
  EXPECT_EQ(gw6.count, 5);
  EXPECT_EQ(gw6.max_loss, 20.0);
  EXPECT_EQ(gw6.max_rtt, Duration{100});
  EXPECT_EQ(gw6.type_at.line, 8);
  EXPECT_EQ(gw6.type_at.col, 12);

  EXPECT_EQ(c.find("named")->spec_as<PingSpec>().host, "gw.internal");
  EXPECT_EQ(c.find("named")->spec_as<PingSpec>().max_loss, 2.5);
}

TEST(PingConfig, MistakesAreNamedWithTheirPlace) {
  const auto r = ping_config(R"toml([[monitor]]
name = "a"
type = "ping"
port = 80

[[monitor]]
name = "b"
type = "ping"
host = "https://gw/"
count = 0
expect.max_loss = "20"
expect.max_rtt = "0ms"
expect.status = 200

[[monitor]]
name = "c"
type = "ping"
host = "gw"
count = 30
timeout = "5s"
expect.max_loss = "101%"

[[monitor]]
name = "d"
type = "ping"
host = "[::1]"
timeout = "400ms"
expect.max_loss = "-1%"
)toml");
  EXPECT_EQ(
      messages(r),
      (std::vector<std::string>{
          "/etc/lookout/p.toml:1:1: ping monitor \"a\" has no host",
          ("/etc/lookout/p.toml:4:1: unknown key \"port\" in ping monitor \"a\"; did you mean "
           "\"host\"?"),
          ("/etc/lookout/p.toml:9:8: host \"https://gw/\" must be a host name or an IPv4 or IPv6 "
           "address, without scheme, port or brackets"),
          "/etc/lookout/p.toml:10:9: count must be between 1 and 50, not 0",
          ("/etc/lookout/p.toml:11:19: expect.max_loss \"20\" is not a percentage from \"0%\" to "
           "\"100%\""),
          "/etc/lookout/p.toml:12:18: expect.max_rtt must be more than 0ms",
          "/etc/lookout/p.toml:13:8: unknown key \"status\" in expect",
          ("/etc/lookout/p.toml:19:9: ping monitor \"c\": 30 echoes 200ms apart take 5s800ms, "
           "which "
           "leaves less than 100ms of its timeout 5s for the last reply; lower count or raise "
           "timeout"),
          ("/etc/lookout/p.toml:21:19: expect.max_loss \"101%\" is not a percentage from \"0%\" to "
           "\"100%\""),
          ("/etc/lookout/p.toml:26:8: host \"[::1]\" must be a host name or an IPv4 or IPv6 "
           "address, without scheme, port or brackets"),
          ("/etc/lookout/p.toml:27:11: ping monitor \"d\": 3 echoes 200ms apart take 400ms, which "
           "leaves less than 100ms of its timeout 400ms for the last reply; lower count or raise "
           "timeout"),
          ("/etc/lookout/p.toml:28:19: expect.max_loss \"-1%\" is not a percentage from \"0%\" to "
           "\"100%\""),
      }));
}

TEST(PingConfig, PercentagesAreDigitsAndAPointUpTo100) {
  EXPECT_EQ(parse_percent("0%"), 0.0);
  EXPECT_EQ(parse_percent("100%"), 100.0);
  EXPECT_EQ(parse_percent("33.3%"), 33.3);
  for (const char* bad : {"", "%", "5", "5 %", "-1%", "+1%", "1e1%", "inf%", "nan%", ".5%", "5.%",
                          "100.1%", "1.2.3%", "5%%"}) {
    EXPECT_FALSE(parse_percent(bad)) << bad;
  }
}

TEST(PingConfig, SameAsSeesEveryKeyButNotWhereTheMonitorStands) {
  const std::string base = "[[monitor]]\nname = \"m\"\ntype = \"ping\"\nhost = \"10.0.0.1\"\n";
  const auto a = ping_config(base);
  ASSERT_TRUE(a.ok());
  const auto same = [&](const std::string& text) {
    const auto b = ping_config(text);
    EXPECT_TRUE(b.ok()) << text;
    return b.ok() && a.config->monitors[0].same_as(b.config->monitors[0]);
  };
  EXPECT_TRUE(same(base));
  EXPECT_TRUE(same("\n\n# moved down\n" + base));
  EXPECT_FALSE(same(base + "count = 4\n"));
  EXPECT_FALSE(same(base + "expect.max_loss = \"0%\"\n"));
  EXPECT_FALSE(same(base + "expect.max_rtt = \"1s\"\n"));
  EXPECT_FALSE(same("[[monitor]]\nname = \"m\"\ntype = \"ping\"\nhost = \"10.0.0.2\"\n"));
}

}  // namespace
}  // namespace lookout
