// The keys of the push channel types (ntfy, pushover, gotify): what each needs, its defaults,
// and that credentials are masked however they are written.
#include <gtest/gtest.h>

#include <map>

#include "config/channels/gotify_spec.h"
#include "config/channels/ntfy_spec.h"
#include "config/channels/pushover_spec.h"
#include "config/config.h"
#include "tests/unit/config/config_parse.h"

namespace lookout {
namespace {

using test::fake_env;
using test::messages;

LoadResult parse(const std::string& channel, std::map<std::string, std::string> env = {}) {
  const std::string text =
      "[server]\npublic_url = \"https://status.test\"\n[[channel]]\nname = \"push\"\n" + channel;
  return parse_config(text, "/etc/lookout/test.toml", fake_env(std::move(env)));
}

std::string errors_of(const LoadResult& r) { return testing::PrintToString(messages(r)); }

TEST(NtfyConfig, UrlIsTheTopicAndTheTokenIsOptionalAndSecret) {
  auto r = parse("type = \"ntfy\"\nurl = \"https://ntfy.test/acme-oncall\"\n");
  ASSERT_TRUE(r.ok()) << errors_of(r);
  const auto& c = r.config->channels.at(0);
  EXPECT_EQ(c.url.reveal(), "https://ntfy.test/acme-oncall");
  EXPECT_FALSE(c.spec_as<NtfySpec>().token);

  r = parse("type = \"ntfy\"\nurl = \"https://ntfy.test/acme-oncall\"\ntoken = \"${env:NTFY}\"\n",
            {{"NTFY", "tk_abcdef123456"}});
  ASSERT_TRUE(r.ok()) << errors_of(r);
  const auto& token = r.config->channels.at(0).spec_as<NtfySpec>().token;
  ASSERT_TRUE(token);
  EXPECT_EQ(token->reveal(), "tk_abcdef123456");
  EXPECT_TRUE(token->is_secret());
  EXPECT_EQ(r.config->redactor->apply("sent tk_abcdef123456"), "sent ***");
}

TEST(NtfyConfig, AnInlineTokenIsMaskedToo) {
  auto r = parse("type = \"ntfy\"\nurl = \"https://ntfy.test/t\"\ntoken = \"tk_inline98765\"\n");
  ASSERT_TRUE(r.ok()) << errors_of(r);
  EXPECT_TRUE(r.config->channels.at(0).spec_as<NtfySpec>().token->is_secret());
  EXPECT_EQ(r.config->redactor->apply("tk_inline98765"), "***");
}

TEST(NtfyConfig, UrlIsRequiredAndMustNameATopic) {
  EXPECT_NE(errors_of(parse("type = \"ntfy\"\n")).find("ntfy channel \\\"push\\\" needs url"),
            std::string::npos);
  for (const std::string url :
       {"https://ntfy.test", "https://ntfy.test/", "https://ntfy.test/?x"}) {
    const auto m = errors_of(parse("type = \"ntfy\"\nurl = \"" + url + "\"\n"));
    EXPECT_NE(m.find("6:7: ntfy url " + url + " must name a topic: https://SERVER/TOPIC"),
              std::string::npos)
        << m;
  }
  const auto m = errors_of(parse("type = \"ntfy\"\nurl = \"ntfy.test/topic\"\n"));
  EXPECT_NE(m.find("must be a URL that starts with https:// or http://"), std::string::npos) << m;
  EXPECT_EQ(m.find("must name a topic"), std::string::npos) << "one error for one mistake: " << m;
}

TEST(PushoverConfig, TokenAndUserAreRequiredSecretsAndUrlDefaultsToPushover) {
  auto r = parse("type = \"pushover\"\ntoken = \"${env:PO_TOKEN}\"\nuser = \"${env:PO_USER}\"\n",
                 {{"PO_TOKEN", "azGDORePK8gMaC0QOYAMyEEuzJnyUi"},
                  {"PO_USER", "uQiRzpo4DXghDmr9QzzfQu27cmVRsG"}});
  ASSERT_TRUE(r.ok()) << errors_of(r);
  const auto& c = r.config->channels.at(0);
  EXPECT_EQ(c.url.reveal(), "https://api.pushover.net");
  const auto& spec = c.spec_as<PushoverSpec>();
  EXPECT_EQ(spec.token.reveal(), "azGDORePK8gMaC0QOYAMyEEuzJnyUi");
  EXPECT_TRUE(spec.token.is_secret());
  EXPECT_TRUE(spec.user.is_secret());
  EXPECT_FALSE(spec.callback);

  const auto m = errors_of(parse("type = \"pushover\"\n"));
  EXPECT_NE(m.find("pushover channel \\\"push\\\" needs token"), std::string::npos) << m;
  EXPECT_NE(m.find("pushover channel \\\"push\\\" needs user"), std::string::npos) << m;
}

TEST(PushoverConfig, UrlAndCallbackMayBeSet) {
  auto r = parse(
      "type = \"pushover\"\nurl = \"http://127.0.0.1:9000\"\ntoken = \"t0kenvalue\"\n"
      "user = \"us3rvalue\"\ncallback = true\n");
  ASSERT_TRUE(r.ok()) << errors_of(r);
  EXPECT_EQ(r.config->channels.at(0).url.reveal(), "http://127.0.0.1:9000");
  EXPECT_TRUE(r.config->channels.at(0).spec_as<PushoverSpec>().callback);
  EXPECT_EQ(r.config->redactor->apply("t0kenvalue us3rvalue"), "*** ***");

  const auto m = errors_of(
      parse("type = \"pushover\"\nurl = \"api.pushover.net\"\ntoken = \"t\"\nuser = \"u\"\n"
            "callback = \"yes\"\n"));
  EXPECT_NE(m.find("6:7: url api.pushover.net must be a URL"), std::string::npos) << m;
  EXPECT_NE(m.find("9:12: callback"), std::string::npos) << m;
}

TEST(GotifyConfig, UrlAndTokenAreRequired) {
  auto r = parse("type = \"gotify\"\nurl = \"https://gotify.test\"\ntoken = \"${env:GOTIFY}\"\n",
                 {{"GOTIFY", "AbCdEf.123"}});
  ASSERT_TRUE(r.ok()) << errors_of(r);
  const auto& c = r.config->channels.at(0);
  EXPECT_EQ(c.url.reveal(), "https://gotify.test");
  EXPECT_EQ(c.spec_as<GotifySpec>().token.reveal(), "AbCdEf.123");
  EXPECT_TRUE(c.spec_as<GotifySpec>().token.is_secret());

  const auto m = errors_of(parse("type = \"gotify\"\n"));
  EXPECT_NE(m.find("gotify channel \\\"push\\\" needs url"), std::string::npos) << m;
  EXPECT_NE(m.find("gotify channel \\\"push\\\" needs token"), std::string::npos) << m;
  const auto unknown = errors_of(
      parse("type = \"gotify\"\nurl = \"https://g.test\"\ntoken = \"t\"\npriority = 5\n"));
  EXPECT_NE(unknown.find("unknown key"), std::string::npos) << unknown;
}

}  // namespace
}  // namespace lookout
