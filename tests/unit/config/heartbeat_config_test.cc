// The heartbeat kind in the config: period, grace and max_runtime take any duration of at least
// 1s; a smaller one is an error at the value, FILE:LINE:COL.
#include <gtest/gtest.h>

#include "config/config.h"
#include "config/kinds/heartbeat_spec.h"
#include "tests/unit/config/config_parse.h"

namespace lookout {
namespace {

using test::messages;

LoadResult heartbeat_config(const std::string& keys) {
  return parse_config("[[monitor]]\nname = \"backup\"\ntype = \"heartbeat\"\n" + keys,
                      "/etc/lookout/hb.toml", test::fake_env({}));
}

TEST(HeartbeatConfig, TakesDurationsOfOneSecondOrMore) {
  const auto r = heartbeat_config("period = \"1s\"\ngrace = \"1s\"\nmax_runtime = \"2h\"\n");
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(messages(r));
  const auto& s = r.config->find("backup")->spec_as<HeartbeatSpec>();
  EXPECT_EQ(s.period, Duration{1000});
  EXPECT_EQ(s.grace, Duration{1000});
  EXPECT_EQ(s.max_runtime, Duration{7'200'000});
}

TEST(HeartbeatConfig, LessThanOneSecondIsAnErrorAtTheValue) {
  struct Case {
    std::string keys, error;
  };
  const std::vector<Case> cases{
      {"period = \"1h\"\ngrace = \"999ms\"\n",
       "/etc/lookout/hb.toml:5:9: grace must be at least 1s"},
      {"period = \"1h\"\ngrace = \"0s\"\n", "/etc/lookout/hb.toml:5:9: grace must be at least 1s"},
      {"period = \"1h\"\nmax_runtime = \"500ms\"\n",
       "/etc/lookout/hb.toml:5:15: max_runtime must be at least 1s"},
      {"period = \"1h\"\nmax_runtime = \"0s\"\n",
       "/etc/lookout/hb.toml:5:15: max_runtime must be at least 1s"},
      {"period = \"10ms\"\n", "/etc/lookout/hb.toml:4:10: period must be at least 1s"},
  };
  for (const auto& c : cases) {
    const auto r = heartbeat_config(c.keys);
    EXPECT_FALSE(r.ok()) << c.keys;
    const auto all = messages(r);
    EXPECT_NE(std::find(all.begin(), all.end(), c.error), all.end())
        << c.keys << ::testing::PrintToString(all);
  }
}

}  // namespace
}  // namespace lookout
