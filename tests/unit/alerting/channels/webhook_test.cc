#include "alerting/channels/webhook.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <nlohmann/json.hpp>

#include "config/channels/webhook_spec.h"
#include "tests/support/outbox_rows.h"

namespace lookout {
namespace {

using test::incident_row;
using test::storm;

const WallTime kSentAt{std::chrono::seconds{1'796'090'460}};  // 2026-12-01T02:01:00Z

// The X-Lookout-Signature a receiver computes, through OpenSSL's EVP_MAC rather than HMAC().
std::string receiver_signature(const std::string& secret, const std::string& body) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  size_t len = 0;
  if (EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, secret.data(), secret.size(),
                reinterpret_cast<const unsigned char*>(body.data()), body.size(), mac, sizeof(mac),
                &len) == nullptr) {
    return "EVP_Q_mac failed";
  }
  std::string hex = "sha256=";
  for (size_t i = 0; i < len; ++i) hex += fmt::format("{:02x}", mac[i]);
  return hex;
}

ChannelConfig webhook_config(WebhookSpec spec = {}) {
  ChannelConfig c;
  c.name = "hook";
  c.type = "webhook";
  c.spec = std::make_shared<WebhookSpec>(std::move(spec));
  c.url = Secret::plain("https://hooks.test/lookout?key=k1");
  return c;
}

TEST(WebhookChannel, BodyFollowsTheContract) {
  const auto j = nlohmann::json::parse(webhook_body(incident_row("incident.opened"), kSentAt));
  EXPECT_EQ(j["version"], 1);
  EXPECT_EQ(j["id"], "evt_0123");
  EXPECT_EQ(j["event"], "incident.opened");
  EXPECT_EQ(j["sent_at"], "2026-12-01T02:01:00.000Z");
  EXPECT_EQ(j["incident"]["id"], 42);
  EXPECT_EQ(j["incident"]["monitor"], "portal-home");
  EXPECT_EQ(j["incident"]["started_at"], "2026-12-01T02:00:00.000Z");
  EXPECT_TRUE(j["incident"]["resolved_at"].is_null());
  EXPECT_EQ(j["incident"]["ack_url"], "https://status.test/ack/42.1.abc");
  EXPECT_EQ(j.size(), 5u);
  EXPECT_TRUE(
      nlohmann::json::parse(webhook_body(test::test_row(), WallTime{}))["incident"].is_null());
}

TEST(WebhookChannel, ABatchOfOneIsTheSingleBody) {
  const auto one = storm(1);
  EXPECT_EQ(webhook_body(one, kSentAt, "https://status.test"), webhook_body(one.front(), kSentAt));
}

TEST(WebhookChannel, GroupedBodyKeepsEveryEventAndItsId) {
  const auto rows = storm(500);
  const auto j = nlohmann::json::parse(webhook_body(rows, kSentAt, "https://status.test"));
  EXPECT_EQ(j["version"], 1);
  EXPECT_EQ(j["id"], notification_id(rows));
  EXPECT_EQ(j["event"], "group");
  EXPECT_EQ(j["sent_at"], "2026-12-01T02:01:00.000Z");
  EXPECT_EQ(j["route"], "oncall");
  EXPECT_EQ(j["count"], 500);
  EXPECT_EQ(j["counts"]["incident.opened"], 499);
  EXPECT_EQ(j["counts"]["incident.resolved"], 1);
  EXPECT_EQ(j["status_url"], "https://status.test/");
  ASSERT_EQ(j["events"].size(), 500u);
  EXPECT_EQ(j["events"][0]["id"], "evt_0000");
  EXPECT_EQ(j["events"][0]["event"], "incident.opened");
  EXPECT_EQ(j["events"][0]["incident"]["monitor"], "api-000");
  EXPECT_EQ(j["events"][499]["id"], "evt_0499");
  EXPECT_EQ(j["events"][499]["event"], "incident.resolved");
  EXPECT_EQ(j["events"][499]["incident"]["state"], "down");
}

TEST(WebhookChannel, SignatureIsHmacSha256) {
  // RFC 4231 test case 2.
  EXPECT_EQ(webhook_signature("Jefe", "what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(WebhookChannel, RequestIsASignedJsonPostWithTheChannelsHeadersLast) {
  WebhookSpec spec;
  spec.secret = Secret("s3cret-for-hmac", true);
  spec.headers = {{"X-Team", Secret::plain("ops")}, {"Authorization", Secret("Bearer t0k", true)}};
  const ChannelConfig c = webhook_config(spec);
  const std::vector<OutboxRow> rows{incident_row("incident.opened")};
  const HttpPost r = webhook_request(c, rows, kSentAt, "https://status.test");
  EXPECT_EQ(r.url, "https://hooks.test/lookout?key=k1");
  EXPECT_EQ(r.body, webhook_body(rows, kSentAt, "https://status.test"));
  EXPECT_FALSE(r.basic_auth);
  EXPECT_EQ(r.headers, (std::vector<std::string>{
                           "Content-Type: application/json",
                           fmt::format("User-Agent: lookout/{}", LOOKOUT_VERSION),
                           "Idempotency-Key: evt_0123",
                           "X-Lookout-Event: incident.opened",
                           "X-Lookout-Signature: " + receiver_signature("s3cret-for-hmac", r.body),
                           "X-Team: ops",
                           "Authorization: Bearer t0k",
                       }));
}

TEST(WebhookChannel, GroupedRequestGoesUnderTheGroupsIdAndIsUnsignedWithoutASecret) {
  const auto rows = storm(3);
  const HttpPost r = webhook_request(webhook_config(), rows, kSentAt, "https://status.test");
  EXPECT_EQ(r.headers, (std::vector<std::string>{
                           "Content-Type: application/json",
                           fmt::format("User-Agent: lookout/{}", LOOKOUT_VERSION),
                           "Idempotency-Key: " + notification_id(rows),
                           "X-Lookout-Event: group",
                       }));
  EXPECT_EQ(nlohmann::json::parse(r.body)["count"], 3);
}

TEST(WebhookChannel, APostsEventCarriesThePostAndNoIncident) {
  const OutboxRow row = test::post_row("incident.post_updated", "resolved", "Fixed.");
  const auto j = nlohmann::json::parse(webhook_body(row, kSentAt));
  EXPECT_EQ(
      j,
      (nlohmann::json{
          {"version", 1},
          {"id", "evt_post"},
          {"event", "incident.post_updated"},
          {"sent_at", "2026-12-01T02:01:00.000Z"},
          {"incident", nullptr},
          {"post",
           {{"id", 7},
            {"title", "Database failover"},
            {"status", "resolved"},
            {"impact", "major"},
            {"monitors", {"portal-home", "billing-db"}},
            {"created_at", "2026-12-01T02:00:00.000Z"},
            {"resolved_at", "2026-12-01T02:10:00.000Z"},
            {"url", "https://status.test/posts/7"},
            {"update",
             {{"status", "resolved"}, {"body", "Fixed."}, {"at", "2026-12-01T02:10:00.000Z"}}}}}}));
  const HttpPost r = webhook_request(webhook_config(), {row}, kSentAt, "https://status.test");
  EXPECT_EQ(r.headers[2], "Idempotency-Key: evt_post");
  EXPECT_EQ(r.headers[3], "X-Lookout-Event: incident.post_updated");
  // Incidents' bodies do not change.
  EXPECT_FALSE(nlohmann::json::parse(webhook_body(incident_row("incident.opened"), kSentAt))
                   .contains("post"));
}

TEST(WebhookChannel, AGroupedPostKeepsItsPost) {
  auto rows = storm(2);
  rows.insert(rows.begin() + 1, test::post_row());
  const auto j = nlohmann::json::parse(webhook_body(rows, kSentAt, "https://status.test"));
  EXPECT_EQ(j["counts"]["incident.posted"], 1);
  EXPECT_EQ(j["events"][1]["id"], "evt_post");
  EXPECT_TRUE(j["events"][1]["incident"].is_null());
  EXPECT_EQ(j["events"][1]["post"]["title"], "Database failover");
  EXPECT_FALSE(j["events"][0].contains("post"));
}

}  // namespace
}  // namespace lookout
