#include "alerting/channels/sms.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "config/channels/sms_spec.h"
#include "tests/support/outbox_rows.h"

namespace lookout {
namespace {

using test::incident_row;
using test::storm;

ChannelConfig sms_config(const std::string& provider, SmsSpec spec = {}) {
  ChannelConfig c;
  c.name = "oncall-sms";
  c.type = "sms";
  spec.provider = provider;
  spec.from = "+15550199";
  c.spec = std::make_shared<SmsSpec>(std::move(spec));
  c.to = {"+15550100"};
  return c;
}

TEST(SmsChannel, TextIsShortAndSplitsAtMostOnce) {
  const auto one = sms_messages(incident_row("incident.opened", "503"));
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0], "DOWN portal-home 503 since 02:00Z ack: https://status.test/ack/42.1.abc");
  // The cause is cut to 60 characters; a long name still overflows one message.
  EXPECT_EQ(sms_messages(incident_row("incident.opened", std::string(300, 'x'))),
            std::vector<std::string>{"DOWN portal-home " + std::string(57, 'x') +
                                     "... since 02:00Z ack: https://status.test/ack/42.1.abc"});
  const auto two =
      sms_messages(incident_row("incident.opened", std::string(300, 'x'), std::string(150, 'm')));
  ASSERT_EQ(two.size(), 2u);
  EXPECT_EQ(two[0].size(), 160u);
  EXPECT_LE(two[1].size(), 160u);
  const auto three = sms_messages(incident_row("incident.opened", "x", std::string(400, 'm')));
  ASSERT_EQ(three.size(), 2u) << "split at most once";
  EXPECT_EQ(three[1].substr(157), "...");
}

TEST(SmsChannel, ResolutionsAndAcksCarryNoAckLink) {
  EXPECT_EQ(sms_messages(incident_row("incident.resolved", "503")),
            std::vector<std::string>{"RESOLVED portal-home 503 since 02:00Z"});
  EXPECT_EQ(sms_messages(incident_row("incident.acknowledged", "503")),
            std::vector<std::string>{"ACK DOWN portal-home 503 since 02:00Z"});
  EXPECT_EQ(sms_messages(test::test_row()),
            std::vector<std::string>{"TEST lookout: this channel delivers"});
}

TEST(SmsChannel, APostSaysItsTitleStatusUpdateAndPage) {
  EXPECT_EQ(sms_messages(test::post_row()),
            std::vector<std::string>{"POST [major] Database failover: investigating - Replicas "
                                     "lag behind. Failing over. https://status.test/posts/7"});
  EXPECT_EQ(sms_messages(test::post_row("incident.post_updated", "resolved", "")),
            std::vector<std::string>{
                "POST RESOLVED [major] Database failover https://status.test/posts/7"});
  // A long update is cut to 60, a long title to 100; the text splits between words.
  const auto cut = sms_messages(test::post_row("incident.posted", "identified",
                                               std::string(100, 'y') + " " + std::string(9, 'z')));
  ASSERT_EQ(cut.size(), 1u);
  EXPECT_NE(cut[0].find(" - " + std::string(57, 'y') + "... https://status.test/posts/7"),
            std::string::npos)
      << cut[0];
  OutboxRow long_title = test::post_row();
  auto j = nlohmann::json::parse(long_title.payload);
  j["title"] = std::string(150, 't');
  long_title.payload = j.dump();
  const auto two = sms_messages(long_title);
  ASSERT_EQ(two.size(), 2u);
  EXPECT_EQ(two[0].size(), 137u);
  EXPECT_EQ(two[1], "https://status.test/posts/7");
}

TEST(SmsChannel, ABatchOfOneIsTheSingleText) {
  const auto one = storm(1);
  EXPECT_EQ(sms_messages(one, "https://status.test"), sms_messages(one.front()));
}

TEST(SmsChannel, GroupedTextFitsTwoMessagesAndEndsWithThePage) {
  const auto parts = sms_messages(storm(500), "https://status.test");
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_LE(parts[0].size(), 160u);
  EXPECT_LE(parts[1].size(), 160u);
  EXPECT_EQ(parts[0].rfind("499 DOWN, 1 RESOLVED: api-000 api-001", 0), 0u) << parts[0];
  EXPECT_EQ(parts[0].substr(parts[0].size() - 8, 5), " api-")
      << "split between names, not inside one: " << parts[0];
  EXPECT_EQ(parts[1].rfind("api-", 0), 0u) << parts[1];
  EXPECT_NE(parts[1].find(" more https://status.test/"), std::string::npos) << parts[1];
  EXPECT_EQ(parts[1].substr(parts[1].size() - 20), "https://status.test/");
  const auto few = sms_messages(storm(2), "https://status.test");
  ASSERT_EQ(few.size(), 1u);
  EXPECT_EQ(few[0], "1 DOWN, 1 RESOLVED: api-000 api-001 https://status.test/");
}

TEST(SmsChannel, TwilioIsAFormPostWithBasicAuth) {
  SmsSpec spec;
  spec.account = Secret::plain("AC123");
  spec.token = Secret("tw-token", true);
  ChannelConfig c = sms_config("twilio", spec);
  c.url = Secret::plain("https://api.twilio.test//");
  const HttpPost r = sms_request(c, "+15550100", "DOWN portal-home: a&b=c ~ü");
  EXPECT_EQ(r.url, "https://api.twilio.test/2010-04-01/Accounts/AC123/Messages.json");
  ASSERT_TRUE(r.basic_auth);
  EXPECT_EQ(r.basic_auth->user, "AC123");
  EXPECT_EQ(r.basic_auth->password, "tw-token");
  EXPECT_EQ(r.headers, std::vector<std::string>{"Content-Type: application/x-www-form-urlencoded"});
  EXPECT_EQ(r.body,
            "To=%2B15550100&From=%2B15550199&Body=DOWN%20portal-home%3A%20a%26b%3Dc%20~%C3%BC");
}

TEST(SmsChannel, GenericPostsTheDefaultJsonWithABearerToken) {
  SmsSpec spec;
  spec.token = Secret("gen-token", true);
  ChannelConfig c = sms_config("generic", spec);
  c.url = Secret::plain("https://sms.test/send");
  const HttpPost r = sms_request(c, "+15550100", "say \"hi\"\\\nnow");
  EXPECT_EQ(r.url, "https://sms.test/send");
  EXPECT_FALSE(r.basic_auth);
  EXPECT_EQ(r.headers, (std::vector<std::string>{"Authorization: Bearer gen-token",
                                                 "Content-Type: application/json"}));
  EXPECT_EQ(r.body, R"({"to":"+15550100","from":"+15550199","message":"say \"hi\"\\\nnow"})");
  EXPECT_EQ(nlohmann::json::parse(r.body)["message"], "say \"hi\"\\\nnow");
}

TEST(SmsChannel, GenericFillsTheBodyTemplateEverywhereAndNeedsNoToken) {
  SmsSpec spec;
  spec.body_template =
      R"({"dest":["{{to}}"],"text":"{{message}}","copy":"{{message}}","sender":"{{from}}","n":1})";
  ChannelConfig c = sms_config("generic", spec);
  c.url = Secret::plain("https://sms.test/send");
  const HttpPost r = sms_request(c, "+15550100", "tab\there");
  EXPECT_EQ(r.headers, std::vector<std::string>{"Content-Type: application/json"});
  EXPECT_EQ(
      r.body,
      R"({"dest":["+15550100"],"text":"tab\there","copy":"tab\there","sender":"+15550199","n":1})");
}

}  // namespace
}  // namespace lookout
