// The keys of the on-call channel types (pagerduty, opsgenie, alertmanager): defaults,
// credentials masked however written, and every error at FILE:LINE:COL.
#include <gtest/gtest.h>

#include "config/channels/alertmanager_spec.h"
#include "config/channels/opsgenie_spec.h"
#include "config/channels/pagerduty_spec.h"
#include "config/config.h"
#include "tests/unit/config/config_parse.h"

namespace lookout {
namespace {

using test::fake_env;
using test::messages;

LoadResult parse_channels(const std::string& channels,
                          std::map<std::string, std::string> env = {}) {
  const std::string text = R"([server]
public_url = "https://status.test"
)" + channels;
  return parse_config(text, "/etc/lookout/test.toml", fake_env(std::move(env)));
}

std::string errors_of(const LoadResult& r) { return testing::PrintToString(messages(r)); }

TEST(PagerDutyConfig, TakesARoutingKeyAndDefaultsToPagerDutysEventsApi) {
  const auto r = parse_channels(R"([[channel]]
name = "pd"
type = "pagerduty"
routing_key = "${env:PD_KEY}"
webhook_secret = "whsec-1234"
)",
                                {{"PD_KEY", "R0ut1ngK3yOfTh1rtyTw0Charact3rs0"}});
  ASSERT_TRUE(r.ok()) << errors_of(r);
  const auto& c = r.config->channels.at(0);
  EXPECT_EQ(c.url.reveal(), "https://events.pagerduty.com");
  const auto& spec = c.spec_as<PagerDutySpec>();
  EXPECT_EQ(spec.routing_key.reveal(), "R0ut1ngK3yOfTh1rtyTw0Charact3rs0");
  EXPECT_TRUE(spec.routing_key.is_secret());
  ASSERT_TRUE(spec.webhook_secret);
  EXPECT_TRUE(spec.webhook_secret->is_secret()) << "inline, and still masked";
  EXPECT_EQ(r.config->redactor->apply("hook whsec-1234"), "hook ***");
}

TEST(PagerDutyConfig, NeedsARoutingKeyAndAUrlThatNamesAHost) {
  const auto r = parse_channels(R"([[channel]]
name = "pd"
type = "pagerduty"
url = "events.pagerduty.com"
)");
  ASSERT_FALSE(r.ok());
  const auto m = errors_of(r);
  EXPECT_NE(m.find("test.toml:3:1: pagerduty channel \\\"pd\\\" needs routing_key"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("test.toml:6:7: url events.pagerduty.com must be a URL that starts with "
                   "https:// or http:// and names a host"),
            std::string::npos)
      << m;
}

TEST(OpsgenieConfig, TakesAnApiKeyAndResponders) {
  const auto r = parse_channels(R"([[channel]]
name = "og"
type = "opsgenie"
url = "https://api.eu.opsgenie.com"
api_key = "${env:OG_KEY}"
responders = ["team:platform", "user:ana@acme.test", "escalation:night", "schedule:primary"]
)",
                                {{"OG_KEY", "eb243592-faa2-4ba2-a551q-1afdf565c889"}});
  ASSERT_TRUE(r.ok()) << errors_of(r);
  const auto& c = r.config->channels.at(0);
  EXPECT_EQ(c.url.reveal(), "https://api.eu.opsgenie.com");
  const auto& spec = c.spec_as<OpsgenieSpec>();
  EXPECT_TRUE(spec.api_key.is_secret());
  ASSERT_EQ(spec.responders.size(), 4u);
  EXPECT_EQ(spec.responders[0].type, "team");
  EXPECT_EQ(spec.responders[0].name, "platform");
  EXPECT_EQ(spec.responders[1].type, "user");
  EXPECT_EQ(spec.responders[1].name, "ana@acme.test");
  EXPECT_EQ(spec.responders[3].type, "schedule");

  const auto d = parse_channels(R"([[channel]]
name = "og"
type = "opsgenie"
api_key = "${env:OG_KEY}"
)",
                                {{"OG_KEY", "k3y-0f-opsgenie"}});
  ASSERT_TRUE(d.ok()) << errors_of(d);
  EXPECT_EQ(d.config->channels.at(0).url.reveal(), "https://api.opsgenie.com");
  EXPECT_TRUE(d.config->channels.at(0).spec_as<OpsgenieSpec>().responders.empty());
}

TEST(OpsgenieConfig, NeedsAnApiKeyAndKnownResponderTypes) {
  const auto r = parse_channels(R"([[channel]]
name = "og"
type = "opsgenie"
responders = ["platform", "team:", "squad:core"]
)");
  ASSERT_FALSE(r.ok());
  const auto m = errors_of(r);
  EXPECT_NE(m.find("test.toml:3:1: opsgenie channel \\\"og\\\" needs api_key"), std::string::npos)
      << m;
  for (const std::string bad : {"6:15: responder \\\"platform\\\"", "6:27: responder \\\"team:\\\"",
                                "6:36: responder \\\"squad:core\\\""}) {
    EXPECT_NE(m.find(bad + " is not team:NAME, user:USERNAME, escalation:NAME or schedule:NAME"),
              std::string::npos)
        << bad << "\n"
        << m;
  }
}

TEST(AlertmanagerConfig, TakesAUrlAndOptionalBasicAuth) {
  const auto r = parse_channels(R"([[channel]]
name = "am"
type = "alertmanager"
url = "http://alertmanager.internal:9093"
[[channel]]
name = "am-auth"
type = "alertmanager"
url = "https://am.acme.test"
username = "lookout"
password = "${env:AM_PASS}"
)",
                                {{"AM_PASS", "am-pass-1"}});
  ASSERT_TRUE(r.ok()) << errors_of(r);
  const auto& plain = r.config->channels.at(0);
  EXPECT_EQ(plain.url.reveal(), "http://alertmanager.internal:9093");
  EXPECT_FALSE(plain.spec_as<AlertmanagerSpec>().username);
  const auto& authed = r.config->channels.at(1).spec_as<AlertmanagerSpec>();
  EXPECT_EQ(authed.username->reveal(), "lookout");
  EXPECT_EQ(authed.password->reveal(), "am-pass-1");
  EXPECT_TRUE(authed.password->is_secret());
}

TEST(AlertmanagerConfig, NeedsAUrlAndBothHalvesOfBasicAuth) {
  const auto r = parse_channels(R"([[channel]]
name = "am"
type = "alertmanager"
username = "lookout"
)");
  ASSERT_FALSE(r.ok());
  const auto m = errors_of(r);
  EXPECT_NE(m.find("test.toml:3:1: alertmanager channel \\\"am\\\" needs url"), std::string::npos)
      << m;
  EXPECT_NE(m.find("test.toml:3:1: alertmanager channel \\\"am\\\" needs username and password "
                   "together"),
            std::string::npos)
      << m;
}

TEST(OnCallChannelsConfig, UnknownKeysAreReportedWithASuggestion) {
  const auto r = parse_channels(R"([[channel]]
name = "pd"
type = "pagerduty"
routing_key = "R0ut1ngK3y"
routingkey = "x"
)");
  ASSERT_FALSE(r.ok());
  const auto m = errors_of(r);
  EXPECT_NE(m.find("routingkey"), std::string::npos) << m;
  EXPECT_NE(m.find("did you mean \\\"routing_key\\\""), std::string::npos) << m;
}

}  // namespace
}  // namespace lookout
