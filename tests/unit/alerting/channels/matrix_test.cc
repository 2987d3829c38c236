#include "alerting/channels/matrix.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "config/channels/matrix_spec.h"
#include "tests/support/http_recorder.h"
#include "tests/support/outbox_rows.h"

namespace lookout {
namespace {

using nlohmann::json;
using test::incident_row;
using test::storm;
using Kind = DeliveryOutcome::Kind;

json message_of(const Batch& rows) { return json::parse(matrix_message(rows, test::kPublicUrl)); }

json content(const std::string& plain, const std::string& html) {
  return {{"msgtype", "m.text"},
          {"body", plain},
          {"format", "org.matrix.custom.html"},
          {"formatted_body", html}};
}

ChannelConfig matrix_config(const std::string& url) {
  ChannelConfig c;
  c.name = "ops-matrix";
  c.type = "matrix";
  c.url = Secret::plain(url);
  auto spec = std::make_shared<MatrixSpec>();
  spec->access_token = Secret("syt_bG9va291dA_secret", true);
  spec->room_id = Secret::plain("!abc:matrix.test");
  c.spec = spec;
  return c;
}

// The facts of incident 42 in both forms; `state` and `since` as the event says them.
std::pair<std::string, std::string> matrix_facts(const std::string& state,
                                                 const std::string& since) {
  return {fmt::format("Monitor: portal-home\nState: {}\n{}: 2026-12-01T02:00:00.000Z\n"
                      "Cause: expected status 200, got 503\n"
                      "lookout · incident 42 · Portal · http\n"
                      "Monitor page: https://status.test/monitor/portal-home",
                      state, since),
          fmt::format("Monitor: portal-home<br>State: {}<br>{}: 2026-12-01T02:00:00.000Z<br>"
                      "Cause: expected status 200, got 503<br>"
                      "<i>lookout · incident 42 · Portal · http</i><br>"
                      "<a href=\"https://status.test/monitor/portal-home\">Open monitor</a>",
                      state, since)};
}

TEST(MatrixChannel, OpenedEscalatedAndReminderCarryTheAckLink) {
  for (const auto& [event, label] :
       std::vector<std::pair<std::string, std::string>>{{"incident.opened", "DOWN"},
                                                        {"incident.escalated", "ESCALATED DOWN"},
                                                        {"incident.reminder", "REMINDER DOWN"}}) {
    const auto [plain, html] = matrix_facts("down", "Since");
    EXPECT_EQ(
        message_of({incident_row(event)}),
        content(fmt::format("{} portal-home\n{}\nAcknowledge: https://status.test/ack/42.1.abc",
                            label, plain),
                fmt::format("<b>{} portal-home</b><br>{} · <a "
                            "href=\"https://status.test/ack/42.1.abc\">Acknowledge</a>",
                            label, html)))
        << event;
  }
}

TEST(MatrixChannel, AcknowledgedAndResolvedLinkOnlyTheMonitor) {
  const auto [ack_plain, ack_html] = matrix_facts("down, acknowledged", "Since");
  EXPECT_EQ(
      message_of({incident_row("incident.acknowledged")}),
      content("ACK DOWN portal-home\n" + ack_plain, "<b>ACK DOWN portal-home</b><br>" + ack_html));
  const auto [plain, html] = matrix_facts("resolved", "Started");
  EXPECT_EQ(message_of({incident_row("incident.resolved")}),
            content("RESOLVED portal-home\n" + plain, "<b>RESOLVED portal-home</b><br>" + html));
}

TEST(MatrixChannel, ATestSaysSoAndLinksTheStatusPage) {
  EXPECT_EQ(message_of({test::test_row()}),
            content("TEST lookout: this channel delivers\n"
                    "This is a test notification from lookout: nothing is wrong, and this "
                    "channel delivers.\n"
                    "Status page: https://status.test/",
                    "<b>TEST lookout: this channel delivers</b><br>"
                    "This is a test notification from lookout: nothing is wrong, and this "
                    "channel delivers.<br>"
                    "<a href=\"https://status.test/\">Open status page</a>"));
}

TEST(MatrixChannel, AStormIsOneMessageWithALinePerNotice) {
  EXPECT_EQ(
      message_of(storm(3)),
      content(
          "lookout: 2 DOWN, 1 RESOLVED\n"
          "DOWN api-000: expected status 200, got 503 · since 02:00:00Z · "
          "https://status.test/monitor/api-000 · acknowledge: https://status.test/ack/42.1.abc\n"
          "DOWN api-001: expected status 200, got 503 · since 02:00:00Z · "
          "https://status.test/monitor/api-001 · acknowledge: https://status.test/ack/42.1.abc\n"
          "RESOLVED api-002 · started 02:00:00Z · https://status.test/monitor/api-002\n"
          "Status page: https://status.test/",
          "<b>lookout: 2 DOWN, 1 RESOLVED</b><br>"
          "<a href=\"https://status.test/monitor/api-000\">DOWN api-000</a> expected status "
          "200, got 503 · since 02:00:00Z · "
          "<a href=\"https://status.test/ack/42.1.abc\">acknowledge</a><br>"
          "<a href=\"https://status.test/monitor/api-001\">DOWN api-001</a> expected status "
          "200, got 503 · since 02:00:00Z · "
          "<a href=\"https://status.test/ack/42.1.abc\">acknowledge</a><br>"
          "<a href=\"https://status.test/monitor/api-002\">RESOLVED api-002</a> · started "
          "02:00:00Z<br>"
          "<a href=\"https://status.test/\">Open status page</a>"));
  const auto big = message_of(storm(25));
  const std::string plain = big["body"];
  EXPECT_EQ(plain.substr(plain.rfind('\n') + 1), "... and 15 more: https://status.test/");
  const std::string html = big["formatted_body"];
  EXPECT_EQ(html.substr(html.rfind("<br>") + 4),
            "... and 15 more on <a href=\"https://status.test/\">the status page</a>");
}

TEST(MatrixChannel, TheHtmlEscapesEveryValue) {
  const auto j = message_of({incident_row("incident.opened", "<img src=x> & \"y\"")});
  const std::string html = j["formatted_body"];
  EXPECT_NE(html.find("Cause: &lt;img src=x&gt; &amp; &quot;y&quot;<br>"), std::string::npos);
  EXPECT_EQ(html.find("<img"), std::string::npos);
  EXPECT_NE(j["body"].get<std::string>().find("Cause: <img src=x> & \"y\"\n"), std::string::npos);
}

TEST(MatrixChannel, RequestPutsUnderTheNotificationsIdWithABearerToken) {
  const std::vector<OutboxRow> rows{incident_row("incident.opened")};
  const HttpPost r = matrix_request(matrix_config("https://matrix.test/"), rows, test::kPublicUrl);
  EXPECT_EQ(r.method, "PUT");
  EXPECT_EQ(r.url,
            "https://matrix.test/_matrix/client/v3/rooms/%21abc%3Amatrix.test/send/"
            "m.room.message/evt_0123");
  EXPECT_EQ(r.headers, (std::vector<std::string>{
                           "Authorization: Bearer syt_bG9va291dA_secret",
                           "Content-Type: application/json",
                           fmt::format("User-Agent: lookout/{}", LOOKOUT_VERSION),
                       }));
  EXPECT_EQ(r.body, matrix_message(rows, test::kPublicUrl));
  EXPECT_FALSE(r.basic_auth);
  // A storm goes under the group's id, the same on every retry.
  const auto grouped =
      matrix_request(matrix_config("https://matrix.test"), storm(3), test::kPublicUrl);
  EXPECT_EQ(grouped.url.substr(grouped.url.rfind('/') + 1), notification_id(storm(3)));
  EXPECT_EQ(grouped.url,
            matrix_request(matrix_config("https://matrix.test"), storm(3), test::kPublicUrl).url);
}

TEST(MatrixChannel, JudgesTheHomeserversAnswers) {
  const auto sent = matrix_outcome(CURLE_OK, 200, R"({"event_id":"$YUwRidLecu:matrix.test"})");
  EXPECT_EQ(sent.kind, Kind::kDelivered);
  EXPECT_EQ(sent.detail, "HTTP 200");
  const auto forbidden = matrix_outcome(
      CURLE_OK, 403, R"({"errcode":"M_FORBIDDEN","error":"User @bot:matrix.test not in room"})");
  EXPECT_EQ(forbidden.kind, Kind::kPermanent);
  EXPECT_EQ(forbidden.detail, "HTTP 403: M_FORBIDDEN: User @bot:matrix.test not in room");
  EXPECT_EQ(matrix_outcome(CURLE_OK, 401,
                           R"({"errcode":"M_UNKNOWN_TOKEN","error":"Invalid access token"})")
                .detail,
            "HTTP 401: M_UNKNOWN_TOKEN: Invalid access token");
  const auto limited = matrix_outcome(
      CURLE_OK, 429,
      R"({"errcode":"M_LIMIT_EXCEEDED","error":"Too many requests","retry_after_ms":2000})");
  EXPECT_EQ(limited.kind, Kind::kRetry);
  EXPECT_EQ(limited.retry_after, Duration{2'000});
  EXPECT_EQ(matrix_outcome(CURLE_OK, 502, "<html>bad gateway</html>").kind, Kind::kRetry);
  EXPECT_EQ(matrix_outcome(CURLE_COULDNT_RESOLVE_HOST, 0, "no host").kind, Kind::kRetry);
  EXPECT_EQ(matrix_outcome(CURLE_OK, 202, "").kind, Kind::kPermanent);
}

TEST(MatrixChannel, SendsAPutThatARetryRepeatsUnderTheSameTransaction) {
  test::HttpRecorder matrix({{200, R"({"event_id":"$1"})", ""}});
  const ChannelConfig c = matrix_config(matrix.url());
  const std::vector<OutboxRow> rows{incident_row("incident.opened")};
  EXPECT_EQ(test::deliver(c, rows).kind, Kind::kDelivered);
  EXPECT_EQ(test::deliver(c, rows).kind, Kind::kDelivered);
  const auto seen = matrix.seen();
  ASSERT_EQ(seen.size(), 2u);
  for (const auto& r : seen) {
    EXPECT_EQ(r.method, "PUT");
    EXPECT_EQ(r.path, "/_matrix/client/v3/rooms/%21abc%3Amatrix.test/send/m.room.message/evt_0123");
    EXPECT_EQ(r.header("Authorization"), "Bearer syt_bG9va291dA_secret");
    EXPECT_EQ(r.body, matrix_message(rows, test::kPublicUrl));
  }
  test::HttpRecorder limited(
      {{429, R"({"errcode":"M_LIMIT_EXCEEDED","error":"Too many requests","retry_after_ms":2500})",
        ""}});
  const auto o = test::deliver(matrix_config(limited.url()), rows);
  EXPECT_EQ(o.kind, Kind::kRetry);
  EXPECT_EQ(o.retry_after, Duration{2'500});
}

TEST(MatrixChannel, APostSaysItsStatusImpactMonitorsUpdateAndItsPage) {
  EXPECT_EQ(message_of({test::post_row()}),
            content("POST [major] Database failover: investigating\n"
                    "Status: investigating\n"
                    "Impact: major\n"
                    "Monitors: portal-home, billing-db\n"
                    "Replicas lag behind. Failing over.\n"
                    "lookout · post 7\n"
                    "Post: https://status.test/posts/7",
                    "<b>POST [major] Database failover: investigating</b><br>"
                    "Status: investigating<br>"
                    "Impact: major<br>"
                    "Monitors: portal-home, billing-db<br>"
                    "Replicas lag behind. Failing over.<br>"
                    "<i>lookout · post 7</i><br>"
                    "<a href=\"https://status.test/posts/7\">Open post</a>"));
  auto rows = storm(2);
  rows.insert(rows.begin() + 1, test::post_row());
  const json j = message_of(rows);
  const std::string plain = j["body"], html = j["formatted_body"];
  EXPECT_NE(plain.find("\nPOST [major] Database failover: "
                       "investigating - Replicas lag behind. Failing over. · "
                       "https://status.test/posts/7\n"),
            std::string::npos)
      << plain;
  EXPECT_NE(html.find("<br><a href=\"https://status.test/posts/7\">POST [major] Database failover: "
                      "investigating</a> Replicas lag behind. Failing over.<br>"),
            std::string::npos)
      << html;
}

}  // namespace
}  // namespace lookout
