#include "alerting/channels/ntfy.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "alerting/channels/utf8_text.h"
#include "config/channels/ntfy_spec.h"
#include "tests/support/outbox_rows.h"

namespace lookout {
namespace {

using test::incident_row;
using test::storm;
using Kind = DeliveryOutcome::Kind;

ChannelConfig ntfy_config(std::optional<Secret> token = std::nullopt) {
  ChannelConfig c;
  c.name = "phones";
  c.type = "ntfy";
  c.url = Secret::plain("https://ntfy.test/acme-oncall");
  auto spec = std::make_shared<NtfySpec>();
  spec->token = std::move(token);
  c.spec = spec;
  return c;
}

HttpPost ntfy_request_for(const OutboxRow& row, const ChannelConfig& c = ntfy_config()) {
  return ntfy_request(c, {row}, test::kPublicUrl);
}

OutboxRow ntfy_degraded(OutboxRow r) {
  auto j = nlohmann::json::parse(r.payload);
  j["state"] = "degraded";
  r.payload = j.dump();
  return r;
}

TEST(NtfyChannel, OpenedIsUrgentWithAnAcknowledgeButton) {
  const HttpPost r = ntfy_request_for(incident_row("incident.opened"));
  EXPECT_EQ(r.url, "https://ntfy.test/acme-oncall");
  EXPECT_EQ(r.method, "POST");
  EXPECT_FALSE(r.basic_auth);
  EXPECT_EQ(r.body,
            "DOWN portal-home: expected status 200, got 503\n"
            "state down since 2026-12-01T02:00:00.000Z\n"
            "https://status.test/monitor/portal-home\n"
            "acknowledge: https://status.test/ack/42.1.abc\n");
  EXPECT_EQ(r.headers,
            (std::vector<std::string>{
                "Content-Type: text/plain; charset=utf-8",
                "Title: DOWN portal-home: expected status 200, got 503",
                "Priority: 5",
                "Tags: rotating_light",
                "Click: https://status.test/monitor/portal-home",
                "Actions: view, Acknowledge, https://status.test/ack/42.1.abc, clear=true",
            }));
}

TEST(NtfyChannel, EscalationsAndRemindersRingLikeTheOpening) {
  for (const std::string event : {"incident.escalated", "incident.reminder"}) {
    const HttpPost r = ntfy_request_for(incident_row(event));
    const std::string label = event == "incident.escalated" ? "ESCALATED DOWN" : "REMINDER DOWN";
    EXPECT_EQ(r.body.substr(0, r.body.find('\n')),
              label + " portal-home: expected status 200, got 503");
    EXPECT_EQ(r.headers.at(1), "Title: " + label + " portal-home: expected status 200, got 503");
    EXPECT_EQ(r.headers.at(2), "Priority: 5");
    EXPECT_EQ(r.headers.at(3), "Tags: rotating_light");
    EXPECT_EQ(r.headers.at(5),
              "Actions: view, Acknowledge, https://status.test/ack/42.1.abc, clear=true");
  }
}

TEST(NtfyChannel, DegradedIsHighButNotUrgent) {
  const HttpPost r = ntfy_request_for(ntfy_degraded(incident_row("incident.opened", "p95 712ms")));
  EXPECT_EQ(r.headers.at(1), "Title: DEGRADED portal-home: p95 712ms");
  EXPECT_EQ(r.headers.at(2), "Priority: 4");
  EXPECT_EQ(r.headers.at(3), "Tags: warning");
}

TEST(NtfyChannel, AcknowledgedAndResolvedAreDefaultPriorityWithoutAButton) {
  const HttpPost ack = ntfy_request_for(incident_row("incident.acknowledged"));
  EXPECT_EQ(ack.body,
            "ACK DOWN portal-home: expected status 200, got 503\n"
            "state down since 2026-12-01T02:00:00.000Z\n"
            "https://status.test/monitor/portal-home\n");
  EXPECT_EQ(ack.headers, (std::vector<std::string>{
                             "Content-Type: text/plain; charset=utf-8",
                             "Title: ACK DOWN portal-home: expected status 200, got 503",
                             "Priority: 3",
                             "Tags: eyes",
                             "Click: https://status.test/monitor/portal-home",
                         }));
  const HttpPost resolved = ntfy_request_for(incident_row("incident.resolved"));
  EXPECT_EQ(resolved.body,
            "RESOLVED portal-home\n"
            "was down since 2026-12-01T02:00:00.000Z\n"
            "https://status.test/monitor/portal-home\n");
  EXPECT_EQ(resolved.headers, (std::vector<std::string>{
                                  "Content-Type: text/plain; charset=utf-8",
                                  "Title: RESOLVED portal-home",
                                  "Priority: 3",
                                  "Tags: white_check_mark",
                                  "Click: https://status.test/monitor/portal-home",
                              }));
}

TEST(NtfyChannel, TestMessageSaysTestAndLinksTheStatusPage) {
  const HttpPost r = ntfy_request_for(test::test_row());
  EXPECT_EQ(r.body, "TEST lookout: this channel delivers. Nothing is wrong.");
  EXPECT_EQ(r.headers, (std::vector<std::string>{
                           "Content-Type: text/plain; charset=utf-8",
                           "Title: TEST lookout: this channel delivers",
                           "Priority: 3",
                           "Tags: test_tube",
                           "Click: https://status.test/",
                       }));
}

TEST(NtfyChannel, TokenGoesAsABearerHeaderNeverInTheUrl) {
  const HttpPost r =
      ntfy_request_for(incident_row("incident.opened"), ntfy_config(Secret("tk_secret123", true)));
  EXPECT_EQ(r.url, "https://ntfy.test/acme-oncall");
  EXPECT_EQ(r.headers.back(), "Authorization: Bearer tk_secret123");
}

TEST(NtfyChannel, AStormIsOneMessageLinkingTheStatusPage) {
  const auto rows = storm(3);
  const HttpPost r = ntfy_request(ntfy_config(), rows, test::kPublicUrl);
  EXPECT_EQ(r.body,
            "lookout: 2 DOWN, 1 RESOLVED\n"
            "DOWN api-000: expected status 200, got 503\n"
            "DOWN api-001: expected status 200, got 503\n"
            "RESOLVED api-002\n"
            "https://status.test/\n");
  EXPECT_EQ(r.headers, (std::vector<std::string>{
                           "Content-Type: text/plain; charset=utf-8",
                           "Title: lookout: 2 DOWN, 1 RESOLVED",
                           "Priority: 5",
                           "Tags: rotating_light",
                           "Click: https://status.test/",
                       }));
  const auto one = storm(1);
  EXPECT_EQ(ntfy_request(ntfy_config(), one, test::kPublicUrl).body,
            ntfy_request_for(one.front()).body);
}

TEST(NtfyChannel, ABigStormStaysWithinNtfysMessageLimit) {
  const auto rows = storm(500);
  const HttpPost r = ntfy_request(ntfy_config(), rows, test::kPublicUrl);
  EXPECT_LE(r.body.size(), 4096u);
  EXPECT_NE(r.body.find("... and 490 more: https://status.test/"), std::string::npos);
  auto long_causes = storm(20);
  for (size_t i = 0; i < long_causes.size(); ++i) {
    auto j = nlohmann::json::parse(long_causes[i].payload);
    j["monitor"] = fmt::format("{}-{:03}", std::string(200, 'm'), i);
    j["cause"] = std::string(400, 'x');
    long_causes[i].payload = j.dump();
  }
  const HttpPost cut = ntfy_request(ntfy_config(), long_causes, test::kPublicUrl);
  EXPECT_EQ(cut.body.size(), 4096u);
  EXPECT_EQ(cut.body.substr(4093), "...");
}

TEST(NtfyChannel, NonAsciiTitlesAreRfc2047EncodedWords) {
  EXPECT_EQ(header_words("DOWN portal-home: 503"), "DOWN portal-home: 503");
  EXPECT_EQ(header_words("Störung"), "=?UTF-8?B?U3TDtnJ1bmc=?=");
  EXPECT_EQ(header_words("a =?x?= b"), "=?UTF-8?B?YSA9P3g/PSBi?=")
      << "ASCII that ntfy would try to decode is encoded too";
  // Long values become several words of whole characters, none longer than 75.
  std::string title;
  for (int i = 0; i < 40; ++i) title += "ü€";
  const std::string encoded = header_words(title);
  size_t words = 0;
  for (size_t at = 0; at < encoded.size();) {
    size_t end = encoded.find(' ', at);
    if (end == std::string::npos) end = encoded.size();
    const std::string word = encoded.substr(at, end - at);
    EXPECT_LE(word.size(), 75u) << word;
    EXPECT_EQ(word.rfind("=?UTF-8?B?", 0), 0u) << word;
    EXPECT_EQ(word.substr(word.size() - 2), "?=");
    ++words;
    at = end + 1;
  }
  EXPECT_EQ(words, 5u) << "200 bytes in words of 45 or fewer, cut between characters";
  // A title cut inside a character is made valid before it is encoded.
  EXPECT_EQ(header_words("x\xC3"), "=?UTF-8?B?eO+/vQ==?=");

  const HttpPost r =
      ntfy_request_for(incident_row("incident.opened", "Dienst nicht verfügbar", "portal-home"));
  EXPECT_EQ(r.headers.at(1), "Title: " + header_words("DOWN portal-home: Dienst nicht verfügbar"));
  EXPECT_EQ(r.headers.at(1).find_first_of("\r\n"), std::string::npos);
}

TEST(NtfyChannel, HeaderValuesStayOnOneLine) {
  ChannelConfig c = ntfy_config(Secret("tk_a\r\nX-Evil: 1", true));
  const std::string public_url = "https://status.test\r\nX-Evil: 1";
  const HttpPost r = ntfy_request(c, {incident_row("incident.opened")}, public_url);
  for (const auto& h : r.headers) EXPECT_EQ(h.find_first_of("\r\n"), std::string::npos) << h;
}

TEST(NtfyChannel, AnAckLinkTheShortFormCannotCarryGoesAsJson) {
  OutboxRow row = incident_row("incident.opened");
  auto j = nlohmann::json::parse(row.payload);
  j["ack_url"] = "https://status.test/x,y/ack/42.1.abc";
  row.payload = j.dump();
  const HttpPost r = ntfy_request_for(row);
  EXPECT_EQ(r.headers.at(5),
            "Actions: [{\"action\":\"view\",\"clear\":true,\"label\":\"Acknowledge\","
            "\"url\":\"https://status.test/x,y/ack/42.1.abc\"}]");
}

TEST(NtfyChannel, JudgeQuotesNtfysErrors) {
  EXPECT_EQ(ntfy_outcome(CURLE_OK, 200, R"({"id":"x1","event":"message"})").kind, Kind::kDelivered);
  const auto forbidden =
      ntfy_outcome(CURLE_OK, 403, R"({"code":40301,"http":403,"error":"forbidden"})");
  EXPECT_EQ(forbidden.kind, Kind::kPermanent);
  EXPECT_EQ(forbidden.detail, "HTTP 403: forbidden (40301)");
  const auto unauthorized =
      ntfy_outcome(CURLE_OK, 401, R"({"code":40101,"http":401,"error":"unauthorized"})");
  EXPECT_EQ(unauthorized.kind, Kind::kPermanent);
  EXPECT_EQ(unauthorized.detail, "HTTP 401: unauthorized (40101)");
  const auto limited = ntfy_outcome(
      CURLE_OK, 429, R"({"code":42901,"http":429,"error":"limit reached: too many requests"})");
  EXPECT_EQ(limited.kind, Kind::kRetry);
  EXPECT_EQ(limited.detail, "HTTP 429: limit reached: too many requests (42901)");
  EXPECT_EQ(ntfy_outcome(CURLE_OK, 502, "<html>bad gateway</html>").kind, Kind::kRetry);
  EXPECT_EQ(ntfy_outcome(CURLE_OK, 500, "").detail, "HTTP 500");
  EXPECT_EQ(ntfy_outcome(CURLE_OK, 404, "page not found").detail, "HTTP 404: page not found");
  EXPECT_EQ(ntfy_outcome(CURLE_COULDNT_CONNECT, 0, "Connection refused").kind, Kind::kRetry);
}

TEST(NtfyChannel, APostIsNewsAtDefaultPriorityClickingItsPage) {
  const HttpPost r = ntfy_request_for(test::post_row());
  EXPECT_EQ(r.body,
            "POST [major] Database failover: investigating\n"
            "Replicas lag behind. Failing over.\n"
            "about portal-home, billing-db\n"
            "https://status.test/posts/7\n");
  EXPECT_EQ(r.headers, (std::vector<std::string>{
                           "Content-Type: text/plain; charset=utf-8",
                           "Title: POST [major] Database failover: investigating",
                           "Priority: 3",
                           "Tags: loudspeaker",
                           "Click: https://status.test/posts/7",
                       }));
  const HttpPost resolved =
      ntfy_request_for(test::post_row("incident.post_updated", "resolved", "Fixed."));
  EXPECT_EQ(resolved.headers[1], "Title: POST RESOLVED [major] Database failover");
  EXPECT_EQ(resolved.headers[3], "Tags: white_check_mark");
}

}  // namespace
}  // namespace lookout
