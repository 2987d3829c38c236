// [subscriptions]: the email channel that sends subscribers' mails, and the form's rate limit.
// What is wrong is said at FILE:LINE:COL of the value.
#include <gtest/gtest.h>

#include "config/config.h"
#include "tests/unit/config/config_parse.h"

namespace lookout {
namespace {

using test::fake_env;
using test::messages;

// Lines 1-13; [subscriptions] goes on line 14.
constexpr char kSubcfgBase[] = R"([server]
public_url = "https://status.test"
title = "Acme status"
[[channel]]
name = "ops-email"
type = "email"
smtp_url = "smtp://mail.test:587"
from = "status@acme.test"
to = ["oncall@acme.test"]
[[channel]]
name = "ops-webhook"
type = "webhook"
url = "https://hooks.test/lookout"
)";

LoadResult subcfg_parse(const std::string& tail) {
  return parse_config(kSubcfgBase + tail, "/etc/lookout/test.toml", fake_env({{"CH", "x"}}));
}

std::string subcfg_all(const LoadResult& r) { return testing::PrintToString(messages(r)); }

// The one error of `r` (warnings aside), as the CLI prints it.
std::string subcfg_error(const LoadResult& r) {
  std::vector<std::string> errors;
  for (const auto& e : r.errors)
    if (!e.warning) errors.push_back(e.str());
  EXPECT_EQ(errors.size(), 1u) << subcfg_all(r);
  return errors.empty() ? "" : errors.front();
}

TEST(SubscriptionsConfig, OffUnlessConfigured) {
  const auto r = subcfg_parse("");
  ASSERT_TRUE(r.ok()) << subcfg_all(r);
  EXPECT_FALSE(r.config->subscriptions);
}

TEST(SubscriptionsConfig, AnEmailChannelAndTheDefaultRateLimit) {
  const auto r = subcfg_parse("[subscriptions]\nchannel = \"ops-email\"\n");
  ASSERT_TRUE(r.ok()) << subcfg_all(r);
  ASSERT_TRUE(r.config->subscriptions);
  EXPECT_EQ(r.config->subscriptions->channel, "ops-email");
  EXPECT_EQ(r.config->subscriptions->rate_limit, 10);
  EXPECT_EQ(r.config->subscriptions->rate_window, Duration{60'000});
}

TEST(SubscriptionsConfig, ARateLimitIsCountPerUnit) {
  struct Case {
    std::string rate;
    int limit;
    int64_t window_ms;
  };
  for (const Case& c : {Case{"3/s", 3, 1'000}, Case{"5/m", 5, 60'000},
                        Case{"100/h", 100, 3'600'000}, Case{"999999/m", 999'999, 60'000}}) {
    const auto r =
        subcfg_parse("[subscriptions]\nchannel = \"ops-email\"\nrate_limit = \"" + c.rate + "\"\n");
    ASSERT_TRUE(r.ok()) << c.rate << subcfg_all(r);
    EXPECT_EQ(r.config->subscriptions->rate_limit, c.limit) << c.rate;
    EXPECT_EQ(r.config->subscriptions->rate_window, Duration{c.window_ms}) << c.rate;
  }
  // An inline table, before the first table, is the same table.
  const auto r =
      parse_config("subscriptions = { channel = \"ops-email\", rate_limit = \"2/h\" }\n" +
                       std::string(kSubcfgBase),
                   "/etc/lookout/test.toml", fake_env({}));
  ASSERT_TRUE(r.ok()) << subcfg_all(r);
  EXPECT_EQ(r.config->subscriptions->rate_limit, 2);
  EXPECT_EQ(r.config->subscriptions->rate_window, Duration{3'600'000});
}

TEST(SubscriptionsConfig, AMalformedRateLimitIsAnErrorAtItsValue) {
  for (const std::string rate : {"0/m", "10", "10/d", "ten/m", "-1/m", "1000000/m", "10 / m"}) {
    const auto r =
        subcfg_parse("[subscriptions]\nchannel = \"ops-email\"\nrate_limit = \"" + rate + "\"\n");
    ASSERT_FALSE(r.ok()) << rate;
    EXPECT_FALSE(r.config);
    EXPECT_EQ(subcfg_error(r), "/etc/lookout/test.toml:16:14: subscriptions.rate_limit \"" + rate +
                                   "\" is not COUNT/UNIT, as in \"10/m\" (units s, m, h)");
  }
  const auto r = subcfg_parse("[subscriptions]\nchannel = \"ops-email\"\nrate_limit = 10\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(subcfg_error(r).rfind("/etc/lookout/test.toml:16:14: ", 0), 0u) << subcfg_all(r);
  EXPECT_NE(subcfg_error(r).find("rate_limit"), std::string::npos) << subcfg_all(r);
}

TEST(SubscriptionsConfig, TheChannelIsRequired) {
  const auto r = subcfg_parse("[subscriptions]\nrate_limit = \"5/m\"\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(subcfg_error(r),
            "/etc/lookout/test.toml:14:1: [subscriptions] has no channel; name an email channel "
            "that sends the mails");
}

TEST(SubscriptionsConfig, AnUnknownChannelIsSaidWithTheNearestEmailChannel) {
  auto r = subcfg_parse("[subscriptions]\nchannel = \"ops-emial\"\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(subcfg_error(r),
            "/etc/lookout/test.toml:15:11: subscriptions.channel names unknown channel "
            "\"ops-emial\"; did you mean \"ops-email\"?");
  // Only email channels are suggested: the nearest name here is a webhook's.
  r = subcfg_parse("[subscriptions]\nchannel = \"ops-webhok\"\n");
  ASSERT_FALSE(r.ok());
  const std::string e = subcfg_error(r);
  EXPECT_EQ(e.rfind("/etc/lookout/test.toml:15:11: subscriptions.channel names unknown channel "
                    "\"ops-webhok\"",
                    0),
            0u)
      << e;
  EXPECT_EQ(e.find("ops-webhook"), std::string::npos) << e;
}

TEST(SubscriptionsConfig, TheChannelMustBeAnEmailChannel) {
  const auto r = subcfg_parse("[subscriptions]\nchannel = \"ops-webhook\"\n");
  ASSERT_FALSE(r.ok());
  EXPECT_FALSE(r.config);
  EXPECT_EQ(subcfg_error(r),
            "/etc/lookout/test.toml:15:11: subscriptions.channel \"ops-webhook\" is a webhook "
            "channel; subscribers get mail, so name an email channel");
}

TEST(SubscriptionsConfig, TheChannelIsWrittenInTheFile) {
  auto r = subcfg_parse("[subscriptions]\nchannel = 3\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(subcfg_error(r).rfind("/etc/lookout/test.toml:15:11: ", 0), 0u) << subcfg_all(r);
  r = subcfg_parse("[subscriptions]\nchannel = \"${env:CH}\"\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(subcfg_error(r).rfind("/etc/lookout/test.toml:15:11: subscriptions.channel cannot "
                                  "come from ${env:...}",
                                  0),
            0u)
      << subcfg_all(r);
}

TEST(SubscriptionsConfig, UnknownKeysAndAValueThatIsNoTable) {
  auto r = subcfg_parse("[subscriptions]\nchannel = \"ops-email\"\nrate_limt = \"5/m\"\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(subcfg_error(r),
            "/etc/lookout/test.toml:16:1: unknown key \"rate_limt\" in [subscriptions]; did you "
            "mean \"rate_limit\"?");
  r = subcfg_parse("[subscriptions]\nchannel = \"ops-email\"\nto = \"ann@a.test\"\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(subcfg_error(r).rfind(
                "/etc/lookout/test.toml:16:1: unknown key \"to\" in [subscriptions]", 0),
            0u)
      << subcfg_all(r);
  // Top-level keys go before the first table.
  r = parse_config("subscriptions = \"ops-email\"\n" + std::string(kSubcfgBase),
                   "/etc/lookout/test.toml", fake_env({}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(subcfg_error(r), "/etc/lookout/test.toml:1:17: [subscriptions] must be a table");
}

}  // namespace
}  // namespace lookout
