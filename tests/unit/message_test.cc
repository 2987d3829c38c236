#include "alerting/message.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace lookout {
namespace {

OutboxRow row(const std::string& event, const std::string& cause = "expected status 200, got 503",
              const std::string& monitor = "portal-home") {
  IncidentRecord i;
  i.id = 42;
  i.monitor = monitor;
  i.group = "Portal";
  i.type = "http";
  i.cause = cause;
  i.started_at = WallTime{std::chrono::seconds{1'796'090'400}};  // 2026-12-01T02:00:00Z
  return OutboxRow{"evt_0123", 42, event, "c", "+1555", i.started_at,
                   incident_payload(i, "https://status.test/ack/42.1.abc")};
}

TEST(Message, WebhookBodyFollowsTheContract) {
  const auto j = nlohmann::json::parse(webhook_body(row("incident.opened"), WallTime{std::chrono::seconds{1'796'090'460}}));
  EXPECT_EQ(j["version"], 1);
  EXPECT_EQ(j["id"], "evt_0123");
  EXPECT_EQ(j["event"], "incident.opened");
  EXPECT_EQ(j["sent_at"], "2026-12-01T02:01:00.000Z");
  EXPECT_EQ(j["incident"]["id"], 42);
  EXPECT_EQ(j["incident"]["started_at"], "2026-12-01T02:00:00.000Z");
  EXPECT_TRUE(j["incident"]["resolved_at"].is_null());
  EXPECT_EQ(j["incident"]["ack_url"], "https://status.test/ack/42.1.abc");
  OutboxRow test{"evt_1", 0, "test", "c", "", WallTime{}, ""};
  EXPECT_TRUE(nlohmann::json::parse(webhook_body(test, WallTime{}))["incident"].is_null());
}

TEST(Message, SubjectsNameStateMonitorAndCause) {
  EXPECT_EQ(headline(row("incident.opened")), "[DOWN] portal-home: expected status 200, got 503");
  EXPECT_EQ(headline(row("incident.escalated")), "[ESCALATED DOWN] portal-home: expected status 200, got 503");
  EXPECT_EQ(headline(row("incident.resolved")), "[RESOLVED] portal-home: is up again");
  // A cause from the network cannot add header lines.
  EXPECT_EQ(headline(row("incident.opened", "bad\r\nBcc: victim@x")), "[DOWN] portal-home: bad  Bcc: victim@x");
}

TEST(Message, EmailIsAProperMessage) {
  ChannelConfig c;
  c.from = "lookout@test";
  c.to = {"a@test", "b@test"};
  const std::string m = email_message(c, row("incident.opened"), "https://status.test", WallTime{std::chrono::seconds{1'796'090'460}});
  EXPECT_EQ(m.rfind("Date: Tue, 01 Dec 2026 02:01:00 +0000\r\nFrom: lookout@test\r\nTo: a@test, b@test\r\n", 0), 0u) << m;
  EXPECT_NE(m.find("Message-ID: <evt_0123@lookout>\r\n"), std::string::npos);
  EXPECT_NE(m.find("Subject: [DOWN] portal-home: expected status 200, got 503\r\n"), std::string::npos);
  EXPECT_NE(m.find("\r\n\r\nMonitor:   portal-home\r\n"), std::string::npos);
  EXPECT_NE(m.find("Acknowledge: https://status.test/ack/42.1.abc\r\n"), std::string::npos);
  EXPECT_NE(m.find("Status page: https://status.test/monitor/portal-home\r\n"), std::string::npos);
}

TEST(Message, SmsIsShortAndSplitsAtMostOnce) {
  const auto one = sms_messages(row("incident.opened", "503"));
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0], "DOWN portal-home 503 since 02:00Z ack: https://status.test/ack/42.1.abc");
  // The cause is cut to 60 characters; a long name still overflows one message.
  const auto two = sms_messages(row("incident.opened", std::string(300, 'x'), std::string(150, 'm')));
  ASSERT_EQ(two.size(), 2u);
  EXPECT_EQ(two[0].size(), 160u);
  EXPECT_LE(two[1].size(), 160u);
  const auto three = sms_messages(row("incident.opened", "x", std::string(400, 'm')));
  ASSERT_EQ(three.size(), 2u) << "split at most once";
  EXPECT_EQ(three[1].substr(157), "...");
}

TEST(Message, WebhookSignatureIsHmacSha256) {
  // RFC 4231 test case 2.
  EXPECT_EQ(webhook_signature("Jefe", "what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

}  // namespace
}  // namespace lookout
