#include "alerting/channels/teams.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/support/http_recorder.h"
#include "tests/support/outbox_rows.h"

namespace lookout {
namespace {

using nlohmann::json;
using test::incident_row;
using test::storm;
using Kind = DeliveryOutcome::Kind;

json teams_body_of(const OutboxRow& row) {
  return json::parse(teams_body({row}, test::kPublicUrl));
}

// The message around a card, as the workflow's "Post card" step takes it.
json message(const json& body, const json& actions) {
  auto j = json::parse(R"({"type": "message", "attachments": [{
    "contentType": "application/vnd.microsoft.card.adaptive",
    "content": {"$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                "type": "AdaptiveCard", "version": "1.4"}}]})");
  j["attachments"][0]["content"]["body"] = body;
  j["attachments"][0]["content"]["actions"] = actions;
  return j;
}

json title(const std::string& text, const std::string& colour) {
  return {{"type", "TextBlock"}, {"text", text},    {"size", "Large"},
          {"weight", "Bolder"},  {"color", colour}, {"wrap", true}};
}

const json kContext = json::parse(R"({"type": "TextBlock",
  "text": "lookout · incident 42 · Portal · http", "size": "Small", "isSubtle": true,
  "wrap": true})");

json teams_facts(const std::string& state, const std::string& since_title) {
  return json::parse(fmt::format(R"({{"type": "FactSet", "facts": [
    {{"title": "Monitor", "value": "portal-home"}},
    {{"title": "State", "value": "{}"}},
    {{"title": "{}", "value": "2026-12-01T02:00:00.000Z"}},
    {{"title": "Cause", "value": "expected status 200, got 503"}}]}})",
                                 state, since_title));
}

const json kOpenMonitor = json::parse(R"({"type": "Action.OpenUrl", "title": "Open monitor",
  "url": "https://status.test/monitor/portal-home"})");
const json kAcknowledge = json::parse(R"({"type": "Action.OpenUrl", "title": "Acknowledge",
  "url": "https://status.test/ack/42.1.abc"})");

TEST(TeamsChannel, OpenedEscalatedAndReminderCarryTheAckAction) {
  for (const auto& [event, label] :
       std::vector<std::pair<std::string, std::string>>{{"incident.opened", "DOWN"},
                                                        {"incident.escalated", "ESCALATED DOWN"},
                                                        {"incident.reminder", "REMINDER DOWN"}}) {
    EXPECT_EQ(teams_body_of(incident_row(event)),
              message(json::array({title(label + " portal-home", "Attention"),
                                   teams_facts("down", "Since"), kContext}),
                      json::array({kOpenMonitor, kAcknowledge})))
        << event;
  }
}

TEST(TeamsChannel, ADegradedIncidentIsAWarning) {
  OutboxRow row = incident_row("incident.opened");
  auto payload = json::parse(row.payload);
  payload["state"] = "degraded";
  row.payload = payload.dump();
  EXPECT_EQ(teams_body_of(row)["attachments"][0]["content"]["body"][0],
            title("DEGRADED portal-home", "Warning"));
}

TEST(TeamsChannel, AcknowledgedAndResolvedLinkOnlyTheMonitor) {
  EXPECT_EQ(teams_body_of(incident_row("incident.acknowledged")),
            message(json::array({title("ACK DOWN portal-home", "Default"),
                                 teams_facts("down, acknowledged", "Since"), kContext}),
                    json::array({kOpenMonitor})));
  EXPECT_EQ(teams_body_of(incident_row("incident.resolved")),
            message(json::array({title("RESOLVED portal-home", "Good"),
                                 teams_facts("resolved", "Started"), kContext}),
                    json::array({kOpenMonitor})));
}

TEST(TeamsChannel, ATestSaysSoAndLinksTheStatusPage) {
  EXPECT_EQ(teams_body_of(test::test_row()), message(json::parse(R"([
    {"type": "TextBlock", "text": "TEST lookout: this channel delivers", "size": "Large",
     "weight": "Bolder", "color": "Default", "wrap": true},
    {"type": "TextBlock", "wrap": true, "text":
     "This is a test notification from lookout: nothing is wrong, and this channel delivers."},
    {"type": "TextBlock", "text": "lookout · test notification", "size": "Small",
     "isSubtle": true, "wrap": true}])"),
                                                     json::parse(R"([{"type": "Action.OpenUrl",
    "title": "Open status page", "url": "https://status.test/"}])")));
}

TEST(TeamsChannel, AStormIsOneCardWithALinePerNotice) {
  const auto line = [](const std::string& text) {
    return json{{"type", "TextBlock"}, {"text", text}, {"wrap", true}};
  };
  const std::string down =
      "expected status 200, got 503 · since 02:00:00Z · "
      "[acknowledge](https://status.test/ack/42.1.abc)";
  EXPECT_EQ(
      json::parse(teams_body(storm(3), test::kPublicUrl)),
      message(json::array({title("lookout: 2 DOWN, 1 RESOLVED", "Attention"),
                           line("**[DOWN api-000](https://status.test/monitor/api-000)** " + down),
                           line("**[DOWN api-001](https://status.test/monitor/api-001)** " + down),
                           line("**[RESOLVED api-002](https://status.test/monitor/api-002)** · "
                                "started 02:00:00Z")}),
              json::parse(R"([{"type": "Action.OpenUrl", "title": "Open status page",
                      "url": "https://status.test/"}])")));
  const auto big = json::parse(teams_body(storm(25), test::kPublicUrl));
  const auto& body = big["attachments"][0]["content"]["body"];
  ASSERT_EQ(body.size(), 12u);  // the counts, ten lines, the rest
  EXPECT_EQ(body[11], line("... and 15 more on [the status page](https://status.test/)"));
}

TEST(TeamsChannel, RequestPostsTheCardToTheWorkflowUrl) {
  ChannelConfig c;
  c.name = "ops-teams";
  c.type = "teams";
  c.url = Secret("https://prod-00.westeurope.logic.azure.com/workflows/abc?sig=s3cret", true);
  const std::vector<OutboxRow> rows{incident_row("incident.opened")};
  const HttpPost r = teams_request(c, rows, test::kPublicUrl);
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.url, "https://prod-00.westeurope.logic.azure.com/workflows/abc?sig=s3cret");
  EXPECT_EQ(r.body, teams_body(rows, test::kPublicUrl));
  EXPECT_EQ(r.headers, (std::vector<std::string>{
                           "Content-Type: application/json",
                           fmt::format("User-Agent: lookout/{}", LOOKOUT_VERSION),
                       }));
}

TEST(TeamsChannel, AnyTwoHundredIsDeliveredAndErrorsAreJudgedAsHttp) {
  test::HttpRecorder accepted({{202, "", ""}});
  ChannelConfig c;
  c.name = "ops-teams";
  c.type = "teams";
  c.url = Secret(accepted.url() + "/workflows/abc?sig=s3cret", true);
  const auto o = test::deliver(c, {incident_row("incident.opened")});
  EXPECT_EQ(o.kind, Kind::kDelivered);
  EXPECT_EQ(o.detail, "HTTP 202");
  ASSERT_EQ(accepted.seen().size(), 1u);
  EXPECT_EQ(accepted.seen()[0].path, "/workflows/abc?sig=s3cret");

  test::HttpRecorder refused({{400, R"({"error":{"code":"InvalidRequestContent"}})", ""}});
  c.url = Secret(refused.url() + "/workflows/abc", true);
  EXPECT_EQ(test::deliver(c, {incident_row("incident.opened")}).kind, Kind::kPermanent);
  test::HttpRecorder throttled({{429, "", "12"}});
  c.url = Secret(throttled.url() + "/workflows/abc", true);
  const auto later = test::deliver(c, {incident_row("incident.opened")});
  EXPECT_EQ(later.kind, Kind::kRetry);
  EXPECT_EQ(later.retry_after, Duration{12'000});
}

TEST(TeamsChannel, APostIsACardWithItsFactsUpdateAndAnActionToItsPage) {
  EXPECT_EQ(teams_body_of(test::post_row()),
            message(json::array({title("POST [major] Database failover: investigating", "Accent"),
                                 json::parse(R"({"type": "FactSet", "facts": [
                                   {"title": "Status", "value": "investigating"},
                                   {"title": "Impact", "value": "major"},
                                   {"title": "Monitors", "value": "portal-home, billing-db"},
                                   {"title": "Updated", "value": "2026-12-01T02:00:00.000Z"}]})"),
                                 {{"type", "TextBlock"},
                                  {"text", "Replicas lag behind. Failing over."},
                                  {"wrap", true}},
                                 json::parse(R"({"type": "TextBlock", "text": "lookout · post 7",
                                   "size": "Small", "isSubtle": true, "wrap": true})")}),
                    json::array({{{"type", "Action.OpenUrl"},
                                  {"title", "Open post"},
                                  {"url", "https://status.test/posts/7"}}})));
  const json resolved =
      teams_body_of(test::post_row("incident.post_updated", "resolved", "Fixed."));
  EXPECT_EQ(resolved["attachments"][0]["content"]["body"][0],
            title("POST RESOLVED [major] Database failover", "Good"));
}

TEST(TeamsChannel, APostInAStormIsALineOfItsOwn) {
  auto rows = storm(2);
  rows.insert(rows.begin() + 1, test::post_row());
  const json body =
      json::parse(teams_body(rows, test::kPublicUrl))["attachments"][0]["content"]["body"];
  EXPECT_EQ(body[0], title("lookout: 1 DOWN, 1 POST, 1 RESOLVED", "Attention"));
  EXPECT_EQ(body[2]["text"],
            "**[POST [major] Database failover: investigating](https://status.test/posts/7)** "
            "Replicas lag behind. Failing over.");
}

}  // namespace
}  // namespace lookout
