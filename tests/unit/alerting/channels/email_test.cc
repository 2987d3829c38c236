#include "alerting/channels/email.h"

#include <gtest/gtest.h>

#include "config/channels/email_spec.h"
#include "tests/support/outbox_rows.h"

namespace lookout {
namespace {

using test::incident_row;
using test::storm;

const WallTime kEmailDate{std::chrono::seconds{1'796'090'460}};  // Tue, 01 Dec 2026 02:01:00 +0000

ChannelConfig email_config(EmailSpec spec = {}) {
  ChannelConfig c;
  c.name = "ops-email";
  c.type = "email";
  c.url = Secret::plain("smtp://mail.test:587");
  spec.from = "lookout@test";
  c.spec = std::make_shared<EmailSpec>(std::move(spec));
  c.to = {"a@test", "b@test"};
  return c;
}

TEST(EmailChannel, SubjectsNameStateMonitorAndCause) {
  EXPECT_EQ(headline(incident_row("incident.opened")),
            "[DOWN] portal-home: expected status 200, got 503");
  EXPECT_EQ(headline(incident_row("incident.escalated")),
            "[ESCALATED DOWN] portal-home: expected status 200, got 503");
  EXPECT_EQ(headline(incident_row("incident.acknowledged")),
            "[ACK DOWN] portal-home: acknowledged");
  EXPECT_EQ(headline(incident_row("incident.resolved")), "[RESOLVED] portal-home: is up again");
  EXPECT_EQ(headline(test::test_row()), "[TEST] lookout test notification: this channel delivers");
  // A cause from the network cannot add header lines.
  EXPECT_EQ(headline(incident_row("incident.opened", "bad\r\nBcc: victim@x")),
            "[DOWN] portal-home: bad  Bcc: victim@x");
  EXPECT_EQ(headline(incident_row("incident.opened", std::string(300, 'x'))).size(), 200u);
}

TEST(EmailChannel, MessageHasTheHeadersThenTheIncident) {
  const std::string m = email_message(email_config(), incident_row("incident.opened"),
                                      "https://status.test", kEmailDate);
  EXPECT_EQ(m,
            "Date: Tue, 01 Dec 2026 02:01:00 +0000\r\n"
            "From: lookout@test\r\n"
            "To: a@test, b@test\r\n"
            "Message-ID: <evt_0123@lookout>\r\n"
            "Subject: [DOWN] portal-home: expected status 200, got 503\r\n"
            "MIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            "Content-Transfer-Encoding: 8bit\r\n"
            "X-Lookout-Event: incident.opened\r\n"
            "\r\n"
            "Monitor:   portal-home\r\n"
            "Group:     Portal\r\n"
            "State:     down\r\n"
            "Cause:     expected status 200, got 503\r\n"
            "Since:     2026-12-01T02:00:00.000Z\r\n"
            "\r\n"
            "Acknowledge: https://status.test/ack/42.1.abc\r\n"
            "Status page: https://status.test/monitor/portal-home\r\n"
            "\r\n"
            "-- \r\n"
            "lookout, event incident.opened (evt_0123)\r\n");
}

TEST(EmailChannel, TestMessageNamesTheChannel) {
  const std::string m =
      email_message(email_config(), test::test_row(), "https://status.test", kEmailDate);
  EXPECT_NE(m.find("Subject: [TEST] lookout test notification: this channel delivers\r\n"),
            std::string::npos);
  EXPECT_NE(m.find("\r\n\r\nThis is a test notification from lookout through the channel "
                   "\"ops-email\".\r\nIf you read this, the channel delivers.\r\n"),
            std::string::npos)
      << m;
  EXPECT_EQ(m.find("Status page:"), std::string::npos);
}

TEST(EmailChannel, ABatchOfOneIsTheSingleMessage) {
  const auto one = storm(1);
  EXPECT_EQ(email_message(email_config(), one, "https://status.test", kEmailDate),
            email_message(email_config(), one.front(), "https://status.test", kEmailDate));
  EXPECT_EQ(headline(one), headline(one.front()));
}

TEST(EmailChannel, GroupedMessageCountsListsTheWorstAndLinksThePage) {
  const auto rows = storm(500);
  const std::string m = email_message(email_config(), rows, "https://status.test", kEmailDate);
  EXPECT_NE(m.find("Message-ID: <" + notification_id(rows) + "@lookout>\r\n"), std::string::npos);
  EXPECT_NE(m.find("Subject: [499 DOWN, 1 RESOLVED] api-000 and 499 more\r\n"), std::string::npos)
      << m.substr(0, 400);
  EXPECT_NE(m.find("X-Lookout-Event: group\r\n"), std::string::npos);
  EXPECT_NE(m.find("\r\n\r\n500 notifications of route \"oncall\", worst first: 499 DOWN, 1 "
                   "RESOLVED.\r\nStatus page: https://status.test/\r\n\r\n"),
            std::string::npos);
  EXPECT_NE(
      m.find(fmt::format("{:<16} {:<28} {}\r\n{:<16} acknowledge: {}\r\n", "DOWN", "api-000",
                         "expected status 200, got 503", "", "https://status.test/ack/42.1.abc")),
      std::string::npos);
  EXPECT_NE(m.find("api-099"), std::string::npos);
  EXPECT_EQ(m.find("api-100"), std::string::npos) << "the list stops at 100";
  EXPECT_NE(m.find("... and 400 more: https://status.test/\r\n"), std::string::npos);
  const std::string signature =
      fmt::format("\r\n-- \r\nlookout, 500 events ({})\r\n", notification_id(rows));
  EXPECT_EQ(m.substr(m.size() - signature.size()), signature);
}

TEST(EmailChannel, GroupedResolutionIsUpAgainWithoutAnAckLink) {
  const std::string m = email_message(email_config(), storm(2), "https://status.test", kEmailDate);
  EXPECT_NE(m.find(fmt::format("{:<16} {:<28} is up again\r\n", "RESOLVED", "api-001")),
            std::string::npos)
      << m;
  EXPECT_EQ(m.find("acknowledge:", m.find("api-001")), std::string::npos);
  EXPECT_EQ(m.find("... and"), std::string::npos);
}

TEST(EmailChannel, APostsMailNamesItsStatusImpactMonitorsUpdateAndPage) {
  EXPECT_EQ(headline(test::post_row()), "[POST major] Database failover: investigating");
  EXPECT_EQ(headline(test::post_row("incident.post_updated", "identified", "Found it.")),
            "[POST UPDATE major] Database failover: identified");
  EXPECT_EQ(headline(test::post_row("incident.post_updated", "resolved", "Fixed.")),
            "[POST RESOLVED major] Database failover");
  const std::string m = email_message(
      email_config(),
      test::post_row("incident.post_updated", "monitoring", "Caught up.\r\n\r\n.Watching.\n\n"),
      "https://status.test", kEmailDate);
  EXPECT_EQ(m,
            "Date: Tue, 01 Dec 2026 02:01:00 +0000\r\n"
            "From: lookout@test\r\n"
            "To: a@test, b@test\r\n"
            "Message-ID: <evt_post@lookout>\r\n"
            "Subject: [POST UPDATE major] Database failover: monitoring\r\n"
            "MIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            "Content-Transfer-Encoding: 8bit\r\n"
            "X-Lookout-Event: incident.post_updated\r\n"
            "\r\n"
            "Post:      Database failover\r\n"
            "Status:    monitoring\r\n"
            "Impact:    major\r\n"
            "Monitors:  portal-home, billing-db\r\n"
            "Posted:    2026-12-01T02:00:00.000Z\r\n"
            "Updated:   2026-12-01T02:10:00.000Z\r\n"
            "\r\n"
            "Caught up.\r\n"
            "\r\n"
            ".Watching.\r\n"
            "\r\n"
            "Read it on the status page: https://status.test/posts/7\r\n"
            "\r\n"
            "-- \r\n"
            "lookout, event incident.post_updated (evt_post)\r\n");
}

TEST(EmailChannel, APostsMailTextIsPureAndSafe) {
  PostNotice p;
  p.title = "Checkout\tslow";
  p.status = "resolved";
  p.impact = "none";
  p.created_at = "2026-12-01T02:00:00.000Z";
  p.at = p.created_at;
  p.resolved_at = p.created_at;
  p.body = "one\rBcc: victim@x\nline\x01two";
  p.url = "https://status.test/posts/3";
  EXPECT_EQ(post_mail_subject("POST RESOLVED", p), "[POST RESOLVED] Checkout slow");
  EXPECT_EQ(post_mail_body(p),
            "Post:      Checkout\tslow\r\n"
            "Status:    resolved\r\n"
            "Impact:    none\r\n"
            "Monitors:  the whole service\r\n"
            "Posted:    2026-12-01T02:00:00.000Z\r\n"
            "Resolved:  2026-12-01T02:00:00.000Z\r\n"
            "\r\n"
            "one Bcc: victim@x\r\n"
            "line two\r\n"
            "\r\n"
            "Read it on the status page: https://status.test/posts/3\r\n");
  p.body = " \n";
  EXPECT_EQ(post_mail_body(p).find("\r\n\r\n"), post_mail_body(p).find("\r\n\r\nRead it"))
      << "no update text, no paragraph";
  p.title = std::string(300, 'x');
  EXPECT_EQ(post_mail_subject("POST", p).size(), 200u);
}

TEST(EmailChannel, AGroupedMessageListsAPostWithItsPage) {
  auto rows = storm(2);
  rows.insert(rows.begin() + 1, test::post_row());
  const std::string m = email_message(email_config(), rows, "https://status.test", kEmailDate);
  EXPECT_NE(m.find("Subject: [1 DOWN, 1 POST, 1 RESOLVED] api-000 and 2 more\r\n"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find(fmt::format("{:<16} {:<28} {}\r\n{:<16} {}\r\n", "POST", "Database failover",
                               "investigating: Replicas lag behind. Failing over.", "",
                               "https://status.test/posts/7")),
            std::string::npos)
      << m;
}

TEST(EmailChannel, RequestRequiresStartTlsOnPlainSmtpAndNamesEveryRecipient) {
  EmailSpec spec;
  spec.username = Secret::plain("lookout");
  spec.password = Secret("pw", true);
  const ChannelConfig c = email_config(spec);
  const std::vector<OutboxRow> rows{incident_row("incident.opened")};
  const SmtpRequest r = email_request(c, rows, "https://status.test", kEmailDate);
  EXPECT_EQ(r.url, "smtp://mail.test:587");
  EXPECT_TRUE(r.require_starttls);
  EXPECT_EQ(r.username, "lookout");
  EXPECT_EQ(r.password, "pw");
  EXPECT_EQ(r.mail_from, "<lookout@test>");
  EXPECT_EQ(r.recipients, (std::vector<std::string>{"<a@test>", "<b@test>"}));
  EXPECT_EQ(r.message, email_message(c, rows, "https://status.test", kEmailDate));
}

TEST(EmailChannel, RequestLeavesTlsToSmtpsAndToTheConfig) {
  const std::vector<OutboxRow> rows{incident_row("incident.opened")};
  EmailSpec plain;
  plain.starttls = false;
  ChannelConfig c = email_config(plain);
  SmtpRequest r = email_request(c, rows, "https://status.test", kEmailDate);
  EXPECT_FALSE(r.require_starttls);
  EXPECT_FALSE(r.username);
  EXPECT_FALSE(r.password);
  c = email_config();
  c.url = Secret::plain("smtps://mail.test:465");
  r = email_request(c, rows, "https://status.test", kEmailDate);
  EXPECT_FALSE(r.require_starttls) << "TLS from the start";
}

TEST(EmailChannel, AcceptedIsDeliveredRefusedCredentialsAndMissingTlsFailForGood) {
  auto o = smtp_outcome(CURLE_OK, 250, "");
  EXPECT_EQ(o.kind, DeliveryOutcome::Kind::kDelivered);
  EXPECT_EQ(o.detail, "SMTP 250");
  o = smtp_outcome(CURLE_LOGIN_DENIED, 535, "Login denied");
  EXPECT_EQ(o.kind, DeliveryOutcome::Kind::kPermanent);
  EXPECT_EQ(o.detail, "Login denied");
  o = smtp_outcome(CURLE_USE_SSL_FAILED, 0, "STARTTLS not supported.");
  EXPECT_EQ(o.kind, DeliveryOutcome::Kind::kPermanent);
  EXPECT_EQ(o.detail, "STARTTLS not supported.");
}

TEST(EmailChannel, NetworkAndServerErrorsAreRetried) {
  // A certificate that does not verify is retried too: only TLS that is missing fails at once.
  for (const CURLcode code : {CURLE_COULDNT_CONNECT, CURLE_OPERATION_TIMEDOUT, CURLE_SEND_ERROR,
                              CURLE_RECV_ERROR, CURLE_PEER_FAILED_VERIFICATION}) {
    const auto o = smtp_outcome(code, 0, curl_easy_strerror(code));
    EXPECT_EQ(o.kind, DeliveryOutcome::Kind::kRetry) << curl_easy_strerror(code);
    EXPECT_EQ(o.detail, curl_easy_strerror(code));
  }
}

}  // namespace
}  // namespace lookout
