#include "alerting/message.h"

#include <gtest/gtest.h>

#include <fmt/format.h>

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
  return OutboxRow{"evt_0123", 42, event, "c", "oncall", "+1555", i.started_at,
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
  OutboxRow test{"evt_1", 0, "test", "c", "", "", WallTime{}, ""};
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

std::vector<OutboxRow> storm(size_t n) {
  std::vector<OutboxRow> rows;
  for (size_t i = 0; i < n; ++i) {
    OutboxRow r = row(i + 1 == n ? "incident.resolved" : "incident.opened", "expected status 200, got 503",
                      fmt::format("api-{:03}", i));
    r.id = fmt::format("evt_{:04}", i);
    rows.push_back(r);
  }
  return rows;
}

TEST(Message, OneRowBatchIsTheSingleMessage) {
  const auto one = storm(1);
  const WallTime t{std::chrono::seconds{1'796'090'460}};
  EXPECT_EQ(webhook_body(one, t, "https://status.test"), webhook_body(one.front(), t));
  EXPECT_EQ(notification_id(one), "evt_0000");
  EXPECT_EQ(notification_event(one), "incident.resolved");
  ChannelConfig c;
  EXPECT_EQ(email_message(c, one, "https://status.test", t), email_message(c, one.front(), "https://status.test", t));
  EXPECT_EQ(sms_messages(one, "https://status.test"), sms_messages(one.front()));
}

TEST(Message, GroupedWebhookKeepsEveryEventAndItsId) {
  const auto rows = storm(500);
  const auto j = nlohmann::json::parse(webhook_body(rows, WallTime{std::chrono::seconds{1'796'090'460}}, "https://status.test"));
  EXPECT_EQ(j["version"], 1);
  EXPECT_EQ(j["event"], "group");
  EXPECT_EQ(j["route"], "oncall");
  EXPECT_EQ(j["count"], 500);
  EXPECT_EQ(j["counts"]["incident.opened"], 499);
  EXPECT_EQ(j["counts"]["incident.resolved"], 1);
  EXPECT_EQ(j["status_url"], "https://status.test/");
  ASSERT_EQ(j["events"].size(), 500u);
  EXPECT_EQ(j["events"][0]["id"], "evt_0000");
  EXPECT_EQ(j["events"][0]["event"], "incident.opened");
  EXPECT_EQ(j["events"][0]["incident"]["monitor"], "api-000");
  EXPECT_EQ(j["events"][499]["incident"]["state"], "down");
  // The group's id is the same on a retry and differs for another set of events.
  const std::string id = j["id"];
  EXPECT_EQ(id.rfind("grp_", 0), 0u);
  EXPECT_EQ(id.size(), 36u);
  EXPECT_EQ(notification_id(rows), id);
  EXPECT_NE(notification_id(storm(499)), id);
  EXPECT_EQ(notification_event(rows), "group");
}

TEST(Message, GroupedEmailCountsListsTheWorstAndLinksThePage) {
  ChannelConfig c;
  c.from = "lookout@test";
  c.to = {"a@test"};
  const auto rows = storm(500);
  const std::string m = email_message(c, rows, "https://status.test", WallTime{std::chrono::seconds{1'796'090'460}});
  EXPECT_NE(m.find("Subject: [499 DOWN, 1 RESOLVED] api-000 and 499 more\r\n"), std::string::npos) << m.substr(0, 400);
  EXPECT_NE(m.find("X-Lookout-Event: group\r\n"), std::string::npos);
  EXPECT_NE(m.find("500 notifications of route \"oncall\", worst first: 499 DOWN, 1 RESOLVED.\r\n"
                   "Status page: https://status.test/\r\n"),
            std::string::npos);
  EXPECT_NE(m.find("api-000"), std::string::npos);
  EXPECT_NE(m.find("acknowledge: https://status.test/ack/42.1.abc"), std::string::npos);
  EXPECT_NE(m.find("api-099"), std::string::npos);
  EXPECT_EQ(m.find("api-100"), std::string::npos) << "the list stops at 100";
  EXPECT_NE(m.find("... and 400 more: https://status.test/\r\n"), std::string::npos);
}

TEST(Message, GroupedSmsFitsTwoMessagesAndEndsWithThePage) {
  const auto parts = sms_messages(storm(500), "https://status.test");
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_LE(parts[0].size(), 160u);
  EXPECT_LE(parts[1].size(), 160u);
  EXPECT_EQ(parts[0].rfind("499 DOWN, 1 RESOLVED: api-000 api-001", 0), 0u) << parts[0];
  EXPECT_EQ(parts[0].substr(parts[0].size() - 8, 5), " api-") << "split between names, not inside one: " << parts[0];
  EXPECT_EQ(parts[1].rfind("api-", 0), 0u) << parts[1];
  EXPECT_NE(parts[1].find(" more https://status.test/"), std::string::npos) << parts[1];
  EXPECT_EQ(parts[1].substr(parts[1].size() - 20), "https://status.test/");
  const auto few = sms_messages(storm(2), "https://status.test");
  ASSERT_EQ(few.size(), 1u);
  EXPECT_EQ(few[0], "1 DOWN, 1 RESOLVED: api-000 api-001 https://status.test/");
}

TEST(Message, WebhookSignatureIsHmacSha256) {
  // RFC 4231 test case 2.
  EXPECT_EQ(webhook_signature("Jefe", "what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

}  // namespace
}  // namespace lookout
