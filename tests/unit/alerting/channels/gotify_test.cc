#include "alerting/channels/gotify.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "config/channels/gotify_spec.h"
#include "tests/support/outbox_rows.h"

namespace lookout {
namespace {

using test::incident_row;
using test::storm;
using Kind = DeliveryOutcome::Kind;

ChannelConfig gotify_config(const std::string& url = "https://gotify.test/") {
  ChannelConfig c;
  c.name = "desk";
  c.type = "gotify";
  c.url = Secret::plain(url);
  auto spec = std::make_shared<GotifySpec>();
  spec->token = Secret("AbCdEf.123", true);
  c.spec = spec;
  return c;
}

std::string body_for(const OutboxRow& row) { return gotify_body({row}, test::kPublicUrl); }

std::string expected(const std::string& title, const std::string& message, int priority,
                     const std::string& click) {
  return nlohmann::json{{"title", title},
                        {"message", message},
                        {"priority", priority},
                        {"extras",
                         {{"client::display", {{"contentType", "text/plain"}}},
                          {"client::notification", {{"click", {{"url", click}}}}}}}}
      .dump();
}

TEST(GotifyChannel, RequestPostsJsonToTheMessageApiWithTheAppToken) {
  const auto rows = std::vector<OutboxRow>{incident_row("incident.opened")};
  const HttpPost r = gotify_request(gotify_config(), rows, test::kPublicUrl);
  EXPECT_EQ(r.url, "https://gotify.test/message");
  EXPECT_EQ(r.method, "POST");
  EXPECT_FALSE(r.basic_auth);
  EXPECT_EQ(r.headers, (std::vector<std::string>{"Content-Type: application/json",
                                                 "X-Gotify-Key: AbCdEf.123"}));
  EXPECT_EQ(r.url.find("AbCdEf"), std::string::npos) << "the token goes in a header";
  EXPECT_EQ(r.body, gotify_body(rows, test::kPublicUrl));
  EXPECT_EQ(gotify_request(gotify_config("https://home.test/gotify"), rows, test::kPublicUrl).url,
            "https://home.test/gotify/message");
}

TEST(GotifyChannel, OpenedIsHighPriorityWithTheAckLinkInTheText) {
  EXPECT_EQ(
      body_for(incident_row("incident.opened")),
      R"({"extras":{"client::display":{"contentType":"text/plain"},)"
      R"("client::notification":{"click":{"url":"https://status.test/monitor/portal-home"}}},)"
      R"("message":"DOWN portal-home: expected status 200, got 503\n)"
      R"(state down since 2026-12-01T02:00:00.000Z\n)"
      R"(https://status.test/monitor/portal-home\n)"
      R"(acknowledge: https://status.test/ack/42.1.abc\n",)"
      R"("priority":8,"title":"DOWN portal-home: expected status 200, got 503"})");
}

TEST(GotifyChannel, EveryEventHasItsPriority) {
  const std::string since = "state down since 2026-12-01T02:00:00.000Z\n";
  const std::string page = "https://status.test/monitor/portal-home";
  const std::string ack = "acknowledge: https://status.test/ack/42.1.abc\n";
  const std::string cause = "portal-home: expected status 200, got 503";
  EXPECT_EQ(body_for(incident_row("incident.escalated")),
            expected("ESCALATED DOWN " + cause,
                     "ESCALATED DOWN " + cause + "\n" + since + page + "\n" + ack, 8, page));
  EXPECT_EQ(body_for(incident_row("incident.reminder")),
            expected("REMINDER DOWN " + cause,
                     "REMINDER DOWN " + cause + "\n" + since + page + "\n" + ack, 8, page));
  EXPECT_EQ(
      body_for(incident_row("incident.acknowledged")),
      expected("ACK DOWN " + cause, "ACK DOWN " + cause + "\n" + since + page + "\n", 2, page));
  EXPECT_EQ(
      body_for(incident_row("incident.resolved")),
      expected("RESOLVED portal-home",
               "RESOLVED portal-home\nwas down since 2026-12-01T02:00:00.000Z\n" + page + "\n", 2,
               page));
  EXPECT_EQ(body_for(test::test_row()),
            expected("TEST lookout: this channel delivers",
                     "TEST lookout: this channel delivers. Nothing is wrong.", 2,
                     "https://status.test/"));
  OutboxRow degraded = incident_row("incident.opened", "p95 712ms");
  auto j = nlohmann::json::parse(degraded.payload);
  j["state"] = "degraded";
  degraded.payload = j.dump();
  EXPECT_EQ(nlohmann::json::parse(body_for(degraded))["priority"], 5);
}

TEST(GotifyChannel, AStormIsOneMessageAtTheWorstPriority) {
  EXPECT_EQ(gotify_body(storm(3), test::kPublicUrl),
            expected("lookout: 2 DOWN, 1 RESOLVED",
                     "lookout: 2 DOWN, 1 RESOLVED\n"
                     "DOWN api-000: expected status 200, got 503\n"
                     "DOWN api-001: expected status 200, got 503\n"
                     "RESOLVED api-002\n"
                     "https://status.test/\n",
                     8, "https://status.test/"));
  const auto one = storm(1);
  EXPECT_EQ(gotify_body(one, test::kPublicUrl), body_for(one.front()));
}

TEST(GotifyChannel, ACauseCutInsideACharacterStillMakesValidJson) {
  // 296 ASCII bytes, then "é": one_line cuts the cause at 297 bytes, inside the character.
  const auto row = incident_row("incident.opened", std::string(296, 'x') + "\xC3\xA9 and more");
  const auto j = nlohmann::json::parse(body_for(row));
  EXPECT_NE(j["title"].get<std::string>().find("\xEF\xBF\xBD..."), std::string::npos);
}

TEST(GotifyChannel, JudgeQuotesGotifysErrors) {
  EXPECT_EQ(gotify_outcome(CURLE_OK, 200, R"({"id":25,"appid":5,"message":"x"})").kind,
            Kind::kDelivered);
  const auto unauthorized = gotify_outcome(
      CURLE_OK, 401,
      R"({"error":"Unauthorized","errorCode":401,"errorDescription":"you need to provide )"
      R"(a valid access token or user credentials to access this api"})");
  EXPECT_EQ(unauthorized.kind, Kind::kPermanent);
  EXPECT_EQ(unauthorized.detail,
            "HTTP 401: Unauthorized: you need to provide a valid access token or user "
            "credentials to access this api");
  const auto bad = gotify_outcome(CURLE_OK, 400,
                                  R"({"error":"Bad Request","errorCode":400,)"
                                  R"("errorDescription":"Field 'message' is required"})");
  EXPECT_EQ(bad.kind, Kind::kPermanent);
  EXPECT_EQ(bad.detail, "HTTP 400: Bad Request: Field 'message' is required");
  const auto forbidden =
      gotify_outcome(CURLE_OK, 403,
                     R"({"error":"Forbidden","errorCode":403,)"
                     R"("errorDescription":"you are not allowed to access this api"})");
  EXPECT_EQ(forbidden.kind, Kind::kPermanent);
  EXPECT_EQ(forbidden.detail, "HTTP 403: Forbidden: you are not allowed to access this api");
  EXPECT_EQ(gotify_outcome(CURLE_OK, 500, "").kind, Kind::kRetry);
  EXPECT_EQ(gotify_outcome(CURLE_OK, 503, "<html>down</html>").detail, "HTTP 503");
  EXPECT_EQ(gotify_outcome(CURLE_OK, 429, "").kind, Kind::kRetry);
  EXPECT_EQ(gotify_outcome(CURLE_OPERATION_TIMEDOUT, 0, "timed out").kind, Kind::kRetry);
}

TEST(GotifyChannel, APostIsNewsClickingItsPage) {
  EXPECT_EQ(body_for(test::post_row()), expected("POST [major] Database failover: investigating",
                                                 "POST [major] Database failover: investigating\n"
                                                 "Replicas lag behind. Failing over.\n"
                                                 "about portal-home, billing-db\n"
                                                 "https://status.test/posts/7\n",
                                                 4, "https://status.test/posts/7"));
  const auto resolved =
      nlohmann::json::parse(body_for(test::post_row("incident.post_updated", "resolved", "")));
  EXPECT_EQ(resolved["priority"], 2);
  EXPECT_EQ(resolved["title"], "POST RESOLVED [major] Database failover");
}

}  // namespace
}  // namespace lookout
