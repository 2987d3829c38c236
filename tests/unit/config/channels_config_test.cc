// The keys of the on-call, chat and push channel types: pagerduty, opsgenie and alertmanager
// take a key or a URL with provider defaults; slack, teams and discord take only their webhook
// URL, which is their credential; telegram and matrix take a token and where to post; ntfy,
// pushover and gotify have their own defaults. Credentials are masked however they are written.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <map>

#include "config/channels/alertmanager_spec.h"
#include "config/channels/gotify_spec.h"
#include "config/channels/matrix_spec.h"
#include "config/channels/ntfy_spec.h"
#include "config/channels/opsgenie_spec.h"
#include "config/channels/pagerduty_spec.h"
#include "config/channels/pushover_spec.h"
#include "config/channels/telegram_spec.h"
#include "config/config.h"
#include "tests/unit/config/config_parse.h"

namespace lookout {
namespace {

using test::fake_env;
using test::messages;

LoadResult parse_channel(const std::string& keys, std::map<std::string, std::string> env = {}) {
  return parse_config("[server]\npublic_url = \"https://status.test\"\n[[channel]]\n" + keys,
                      "/etc/lookout/test.toml", fake_env(std::move(env)));
}

std::string all(const LoadResult& r) { return testing::PrintToString(messages(r)); }

TEST(ChatChannelsConfig, AWebhookUrlIsASecretHoweverItIsWritten) {
  for (const std::string type : {"slack", "teams", "discord"}) {
    const std::string url = fmt::format("https://hooks.test/services/T0/B0/{}-s3cret", type);
    auto r =
        parse_channel(fmt::format("name = \"chat\"\ntype = \"{}\"\nurl = \"{}\"\n", type, url));
    ASSERT_TRUE(r.ok()) << all(r);
    const ChannelConfig& c = r.config->channels.at(0);
    EXPECT_EQ(c.type, type);
    EXPECT_EQ(c.url.reveal(), url);
    EXPECT_TRUE(c.url.is_secret()) << type;
    EXPECT_EQ(c.spec, nullptr);
    EXPECT_EQ(r.config->redactor->apply("posting to " + url), "posting to ***");
    ASSERT_EQ(r.inline_secrets.size(), 1u) << type;
    EXPECT_EQ(r.inline_secrets[0].line, 6);

    r = parse_channel("name = \"chat\"\ntype = \"" + type + "\"\nurl = \"${env:HOOK}\"\n",
                      {{"HOOK", url}});
    ASSERT_TRUE(r.ok()) << all(r);
    EXPECT_TRUE(r.config->channels.at(0).url.is_secret());
    EXPECT_TRUE(r.inline_secrets.empty());
  }
}

TEST(ChatChannelsConfig, AWebhookUrlIsRequiredAndWellFormed) {
  auto r = parse_channel("name = \"chat\"\ntype = \"slack\"\n");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(all(r).find("test.toml:3:1: slack channel \\\"chat\\\" needs url"), std::string::npos)
      << all(r);
  r = parse_channel(
      "name = \"chat\"\ntype = \"discord\"\nurl = \"discord.com/api/webhooks/1/t\"\n");
  ASSERT_FALSE(r.ok());
  // The value is a credential: the error names the key, not what it holds.
  EXPECT_NE(all(r).find("test.toml:6:7: url *** must be a URL that starts with https:// or "
                        "http:// and names a host"),
            std::string::npos)
      << all(r);
  r = parse_channel(
      "name = \"chat\"\ntype = \"teams\"\nurl = \"https://x.test/\"\ntoken = \"t\"\n");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(all(r).find("test.toml:7:1:"), std::string::npos) << all(r);
  EXPECT_NE(all(r).find("token"), std::string::npos) << all(r);
}

TEST(TelegramConfig, TokenChatAndTheBotApisUrlByDefault) {
  auto r = parse_channel(
      "name = \"tg\"\ntype = \"telegram\"\nbot_token = \"${env:TG_TOKEN}\"\n"
      "chat_id = -1001234567890\n",
      {{"TG_TOKEN", "123456:AAE-token"}});
  ASSERT_TRUE(r.ok()) << all(r);
  const ChannelConfig& c = r.config->channels.at(0);
  EXPECT_EQ(c.url.reveal(), "https://api.telegram.org");
  const auto& spec = c.spec_as<TelegramSpec>();
  EXPECT_EQ(spec.bot_token.reveal(), "123456:AAE-token");
  EXPECT_TRUE(spec.bot_token.is_secret());
  EXPECT_EQ(spec.chat_id.reveal(), "-1001234567890");
  EXPECT_EQ(r.config->redactor->apply("/bot123456:AAE-token/sendMessage"), "/bot***/sendMessage");

  r = parse_channel(
      "name = \"tg\"\ntype = \"telegram\"\nurl = \"http://127.0.0.1:8081/\"\n"
      "bot_token = \"123456:inline-token\"\nchat_id = \"@acme_ops\"\n");
  ASSERT_TRUE(r.ok()) << all(r);
  EXPECT_EQ(r.config->channels.at(0).url.reveal(), "http://127.0.0.1:8081/");
  EXPECT_TRUE(r.config->channels.at(0).spec_as<TelegramSpec>().bot_token.is_secret());
  EXPECT_EQ(r.config->channels.at(0).spec_as<TelegramSpec>().chat_id.reveal(), "@acme_ops");
  EXPECT_EQ(r.config->redactor->apply("123456:inline-token"), "***");
  ASSERT_EQ(r.inline_secrets.size(), 1u);

  r = parse_channel(
      "name = \"tg\"\ntype = \"telegram\"\nbot_token = \"x\"\nchat_id = \"${env:C}\"\n",
      {{"C", "-42"}});
  ASSERT_TRUE(r.ok()) << all(r);
  EXPECT_EQ(r.config->channels.at(0).spec_as<TelegramSpec>().chat_id.reveal(), "-42");
}

TEST(TelegramConfig, MissingKeysAndAMalformedChat) {
  auto r = parse_channel("name = \"tg\"\ntype = \"telegram\"\n");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(all(r).find("telegram channel \\\"tg\\\" needs bot_token"), std::string::npos)
      << all(r);
  EXPECT_NE(all(r).find("telegram channel \\\"tg\\\" needs chat_id"), std::string::npos) << all(r);
  r = parse_channel("name = \"tg\"\ntype = \"telegram\"\nbot_token = \"x\"\nchat_id = \"ops\"\n");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(all(r).find("test.toml:7:11: chat_id ops must be a chat's number (-1001234567890) "
                        "or @channelname"),
            std::string::npos)
      << all(r);
  r = parse_channel(
      "name = \"tg\"\ntype = \"telegram\"\nbot_token = \"x\"\nchat_id = 1\n"
      "url = \"api.telegram.org\"\n");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(all(r).find("test.toml:8:7: url api.telegram.org must be a URL"), std::string::npos)
      << all(r);
}

TEST(MatrixConfig, HomeserverTokenAndRoom) {
  auto r = parse_channel(
      "name = \"mx\"\ntype = \"matrix\"\nurl = \"https://matrix.test\"\n"
      "access_token = \"${env:MX_TOKEN}\"\nroom_id = \"!abc:matrix.test\"\n",
      {{"MX_TOKEN", "syt_secret_token"}});
  ASSERT_TRUE(r.ok()) << all(r);
  const ChannelConfig& c = r.config->channels.at(0);
  EXPECT_EQ(c.url.reveal(), "https://matrix.test");
  const auto& spec = c.spec_as<MatrixSpec>();
  EXPECT_EQ(spec.access_token.reveal(), "syt_secret_token");
  EXPECT_TRUE(spec.access_token.is_secret());
  EXPECT_EQ(spec.room_id.reveal(), "!abc:matrix.test");
  EXPECT_EQ(r.config->redactor->apply("Bearer syt_secret_token"), "Bearer ***");
}

TEST(MatrixConfig, TheHomeserverAndTheRoomsIdAreRequired) {
  auto r = parse_channel("name = \"mx\"\ntype = \"matrix\"\naccess_token = \"t0k3n\"\n");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(all(r).find("matrix channel \\\"mx\\\" needs url"), std::string::npos) << all(r);
  EXPECT_NE(all(r).find("matrix channel \\\"mx\\\" needs room_id"), std::string::npos) << all(r);
  r = parse_channel(
      "name = \"mx\"\ntype = \"matrix\"\nurl = \"https://matrix.test\"\n"
      "access_token = \"t0k3n\"\nroom_id = \"#ops:matrix.test\"\n");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(all(r).find("test.toml:8:11: room_id #ops:matrix.test must be a room id "
                        "(\\\"!abc:example.org\\\", in the room's settings under Advanced), not "
                        "an alias"),
            std::string::npos)
      << all(r);
}

TEST(ChatChannelsConfig, EveryChatTypeIsKnown) {
  const auto kinds = channel_kinds();
  for (const char* type : {"slack", "teams", "discord", "telegram", "matrix"})
    EXPECT_NE(std::find(kinds.begin(), kinds.end(), type), kinds.end()) << type;
  auto r = parse_channel("name = \"x\"\ntype = \"slak\"\n");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(all(r).find("slack, teams, discord, telegram, matrix, ntfy, pushover or gotify"),
            std::string::npos)
      << all(r);
}

// The push tests name their channel "push" and give the rest.
LoadResult parse_push(const std::string& keys, std::map<std::string, std::string> env = {}) {
  return parse_channel("name = \"push\"\n" + keys, std::move(env));
}

TEST(NtfyConfig, UrlIsTheTopicAndTheTokenIsOptionalAndSecret) {
  auto r = parse_push("type = \"ntfy\"\nurl = \"https://ntfy.test/acme-oncall\"\n");
  ASSERT_TRUE(r.ok()) << all(r);
  const auto& c = r.config->channels.at(0);
  EXPECT_EQ(c.url.reveal(), "https://ntfy.test/acme-oncall");
  EXPECT_FALSE(c.spec_as<NtfySpec>().token);

  r = parse_push(
      "type = \"ntfy\"\nurl = \"https://ntfy.test/acme-oncall\"\ntoken = \"${env:NTFY}\"\n",
      {{"NTFY", "tk_abcdef123456"}});
  ASSERT_TRUE(r.ok()) << all(r);
  const auto& token = r.config->channels.at(0).spec_as<NtfySpec>().token;
  ASSERT_TRUE(token);
  EXPECT_EQ(token->reveal(), "tk_abcdef123456");
  EXPECT_TRUE(token->is_secret());
  EXPECT_EQ(r.config->redactor->apply("sent tk_abcdef123456"), "sent ***");
}

TEST(NtfyConfig, AnInlineTokenIsMaskedToo) {
  auto r =
      parse_push("type = \"ntfy\"\nurl = \"https://ntfy.test/t\"\ntoken = \"tk_inline98765\"\n");
  ASSERT_TRUE(r.ok()) << all(r);
  EXPECT_TRUE(r.config->channels.at(0).spec_as<NtfySpec>().token->is_secret());
  EXPECT_EQ(r.config->redactor->apply("tk_inline98765"), "***");
}

TEST(NtfyConfig, UrlIsRequiredAndMustNameATopic) {
  EXPECT_NE(all(parse_push("type = \"ntfy\"\n")).find("ntfy channel \\\"push\\\" needs url"),
            std::string::npos);
  for (const std::string url :
       {"https://ntfy.test", "https://ntfy.test/", "https://ntfy.test/?x"}) {
    const auto m = all(parse_push("type = \"ntfy\"\nurl = \"" + url + "\"\n"));
    EXPECT_NE(m.find("6:7: ntfy url " + url + " must name a topic: https://SERVER/TOPIC"),
              std::string::npos)
        << m;
  }
  const auto m = all(parse_push("type = \"ntfy\"\nurl = \"ntfy.test/topic\"\n"));
  EXPECT_NE(m.find("must be a URL that starts with https:// or http://"), std::string::npos) << m;
  EXPECT_EQ(m.find("must name a topic"), std::string::npos) << "one error for one mistake: " << m;
}

TEST(PushoverConfig, TokenAndUserAreRequiredSecretsAndUrlDefaultsToPushover) {
  auto r =
      parse_push("type = \"pushover\"\ntoken = \"${env:PO_TOKEN}\"\nuser = \"${env:PO_USER}\"\n",
                 {{"PO_TOKEN", "azGDORePK8gMaC0QOYAMyEEuzJnyUi"},
                  {"PO_USER", "uQiRzpo4DXghDmr9QzzfQu27cmVRsG"}});
  ASSERT_TRUE(r.ok()) << all(r);
  const auto& c = r.config->channels.at(0);
  EXPECT_EQ(c.url.reveal(), "https://api.pushover.net");
  const auto& spec = c.spec_as<PushoverSpec>();
  EXPECT_EQ(spec.token.reveal(), "azGDORePK8gMaC0QOYAMyEEuzJnyUi");
  EXPECT_TRUE(spec.token.is_secret());
  EXPECT_TRUE(spec.user.is_secret());
  EXPECT_FALSE(spec.callback);

  const auto m = all(parse_push("type = \"pushover\"\n"));
  EXPECT_NE(m.find("pushover channel \\\"push\\\" needs token"), std::string::npos) << m;
  EXPECT_NE(m.find("pushover channel \\\"push\\\" needs user"), std::string::npos) << m;
}

TEST(PushoverConfig, UrlAndCallbackMayBeSet) {
  auto r = parse_push(
      "type = \"pushover\"\nurl = \"http://127.0.0.1:9000\"\ntoken = \"t0kenvalue\"\n"
      "user = \"us3rvalue\"\ncallback = true\n");
  ASSERT_TRUE(r.ok()) << all(r);
  EXPECT_EQ(r.config->channels.at(0).url.reveal(), "http://127.0.0.1:9000");
  EXPECT_TRUE(r.config->channels.at(0).spec_as<PushoverSpec>().callback);
  EXPECT_EQ(r.config->redactor->apply("t0kenvalue us3rvalue"), "*** ***");

  const auto m = all(
      parse_push("type = \"pushover\"\nurl = \"api.pushover.net\"\ntoken = \"t\"\nuser = \"u\"\n"
                 "callback = \"yes\"\n"));
  EXPECT_NE(m.find("6:7: url api.pushover.net must be a URL"), std::string::npos) << m;
  EXPECT_NE(m.find("9:12: callback"), std::string::npos) << m;
}

TEST(GotifyConfig, UrlAndTokenAreRequired) {
  auto r =
      parse_push("type = \"gotify\"\nurl = \"https://gotify.test\"\ntoken = \"${env:GOTIFY}\"\n",
                 {{"GOTIFY", "AbCdEf.123"}});
  ASSERT_TRUE(r.ok()) << all(r);
  const auto& c = r.config->channels.at(0);
  EXPECT_EQ(c.url.reveal(), "https://gotify.test");
  EXPECT_EQ(c.spec_as<GotifySpec>().token.reveal(), "AbCdEf.123");
  EXPECT_TRUE(c.spec_as<GotifySpec>().token.is_secret());

  const auto m = all(parse_push("type = \"gotify\"\n"));
  EXPECT_NE(m.find("gotify channel \\\"push\\\" needs url"), std::string::npos) << m;
  EXPECT_NE(m.find("gotify channel \\\"push\\\" needs token"), std::string::npos) << m;
  const auto unknown =
      all(parse_push("type = \"gotify\"\nurl = \"https://g.test\"\ntoken = \"t\"\npriority = 5\n"));
  EXPECT_NE(unknown.find("unknown key"), std::string::npos) << unknown;
}

// The on-call tests write whole [[channel]] tables.
LoadResult parse_channels(const std::string& channels,
                          std::map<std::string, std::string> env = {}) {
  const std::string text = R"([server]
public_url = "https://status.test"
)" + channels;
  return parse_config(text, "/etc/lookout/test.toml", fake_env(std::move(env)));
}

TEST(PagerDutyConfig, TakesARoutingKeyAndDefaultsToPagerDutysEventsApi) {
  const auto r = parse_channels(R"([[channel]]
name = "pd"
type = "pagerduty"
routing_key = "${env:PD_KEY}"
webhook_secret = "whsec-1234"
)",
                                {{"PD_KEY", "R0ut1ngK3yOfTh1rtyTw0Charact3rs0"}});
  ASSERT_TRUE(r.ok()) << all(r);
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
  const auto m = all(r);
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
  ASSERT_TRUE(r.ok()) << all(r);
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
  ASSERT_TRUE(d.ok()) << all(d);
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
  const auto m = all(r);
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
  ASSERT_TRUE(r.ok()) << all(r);
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
  const auto m = all(r);
  EXPECT_NE(m.find("test.toml:3:1: alertmanager channel \\\"am\\\" needs url"), std::string::npos)
      << m;
  EXPECT_NE(m.find("test.toml:3:1: alertmanager channel \\\"am\\\" needs username and password "
                   "together"),
            std::string::npos)
      << m;
}

TEST(OnCallChannelsConfig, AnOnPostRouteToATypeThatTakesNoPostsIsAWarningAtTheName) {
  const auto r = parse_channels(R"([[channel]]
name = "pd"
type = "pagerduty"
routing_key = "R0ut1ngK3yOfTh1rtyTw0Charact3rs0"
[[channel]]
name = "og"
type = "opsgenie"
api_key = "k"
[[channel]]
name = "am"
type = "alertmanager"
url = "http://127.0.0.1:9093"
[[route]]
name = "posts"
notify = ["pd", "og",
          "am"]
on_post = true
escalate = [ { after = "5m", notify = ["og"] } ]
[[route]]
name = "pages"
notify = ["og", "am"]
)");
  ASSERT_TRUE(r.ok()) << all(r);
  EXPECT_EQ(messages(r),
            (std::vector<std::string>{
                "/etc/lookout/test.toml:17:17: warning: route \"posts\" has on_post = true, but "
                "channel \"og\" is of type opsgenie, which takes no posts: they are not sent to "
                "it",
                "/etc/lookout/test.toml:18:11: warning: route \"posts\" has on_post = true, but "
                "channel \"am\" is of type alertmanager, which takes no posts: they are not sent "
                "to it"}));
  EXPECT_TRUE(channel_takes_posts("pagerduty"));
  EXPECT_TRUE(channel_takes_posts("webhook"));
  EXPECT_FALSE(channel_takes_posts("opsgenie"));
  EXPECT_FALSE(channel_takes_posts("alertmanager"));
}

TEST(OnCallChannelsConfig, UnknownKeysAreReportedWithASuggestion) {
  const auto r = parse_channels(R"([[channel]]
name = "pd"
type = "pagerduty"
routing_key = "R0ut1ngK3y"
routingkey = "x"
)");
  ASSERT_FALSE(r.ok());
  const auto m = all(r);
  EXPECT_NE(m.find("routingkey"), std::string::npos) << m;
  EXPECT_NE(m.find("did you mean \\\"routing_key\\\""), std::string::npos) << m;
}

}  // namespace
}  // namespace lookout
