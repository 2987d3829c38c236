#include "alerting/channels/slack.h"

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

json slack_body_of(const OutboxRow& row) {
  return json::parse(slack_body({row}, test::kPublicUrl));
}

// Parses `text` once the values too long for a line of code are in place.
json expand(std::string text) {
  const std::pair<std::string, std::string> values[] = {
      {"$MONITOR", R"(*Monitor*\n<https://status.test/monitor/portal-home|portal-home>)"},
      {"$TEST_TITLE", "TEST lookout: this channel delivers"},
      {"$TEST_TEXT",
       "This is a test notification from lookout: nothing is wrong, and this channel delivers."},
  };
  for (const auto& [name, value] : values) {
    for (size_t at = text.find(name); at != std::string::npos; at = text.find(name, at))
      text.replace(at, name.size(), value);
  }
  return json::parse(text);
}

// What Slack gets for an open incident; `label` is the event's ("DOWN", "ESCALATED DOWN").
json open_message(const std::string& label) {
  auto j = expand(R"({
    "text": "DOWN portal-home: expected status 200, got 503",
    "blocks": [
      {"type": "header", "text": {"type": "plain_text", "text": "DOWN portal-home"}},
      {"type": "section", "fields": [
        {"type": "mrkdwn", "text": "$MONITOR"},
        {"type": "mrkdwn", "text": "*State*\ndown"},
        {"type": "mrkdwn", "text": "*Since*\n2026-12-01T02:00:00.000Z"},
        {"type": "mrkdwn", "text": "*Cause*\nexpected status 200, got 503"}]},
      {"type": "context", "elements": [
        {"type": "mrkdwn", "text": "lookout · incident 42 · Portal · http"}]},
      {"type": "actions", "elements": [
        {"type": "button", "text": {"type": "plain_text", "text": "Open monitor"},
         "url": "https://status.test/monitor/portal-home", "action_id": "monitor"},
        {"type": "button", "text": {"type": "plain_text", "text": "Acknowledge"},
         "url": "https://status.test/ack/42.1.abc", "action_id": "acknowledge",
         "style": "primary"}]}]})");
  j["text"] = label + " portal-home: expected status 200, got 503";
  j["blocks"][0]["text"]["text"] = label + " portal-home";
  return j;
}

TEST(SlackChannel, OpenedEscalatedAndReminderCarryTheAckButton) {
  EXPECT_EQ(slack_body_of(incident_row("incident.opened")), open_message("DOWN"));
  EXPECT_EQ(slack_body_of(incident_row("incident.escalated")), open_message("ESCALATED DOWN"));
  EXPECT_EQ(slack_body_of(incident_row("incident.reminder")), open_message("REMINDER DOWN"));
}

TEST(SlackChannel, AcknowledgedLinksOnlyTheMonitor) {
  EXPECT_EQ(slack_body_of(incident_row("incident.acknowledged")), expand(R"({
    "text": "ACK DOWN portal-home: expected status 200, got 503",
    "blocks": [
      {"type": "header", "text": {"type": "plain_text", "text": "ACK DOWN portal-home"}},
      {"type": "section", "fields": [
        {"type": "mrkdwn", "text": "$MONITOR"},
        {"type": "mrkdwn", "text": "*State*\ndown, acknowledged"},
        {"type": "mrkdwn", "text": "*Since*\n2026-12-01T02:00:00.000Z"},
        {"type": "mrkdwn", "text": "*Cause*\nexpected status 200, got 503"}]},
      {"type": "context", "elements": [
        {"type": "mrkdwn", "text": "lookout · incident 42 · Portal · http"}]},
      {"type": "actions", "elements": [
        {"type": "button", "text": {"type": "plain_text", "text": "Open monitor"},
         "url": "https://status.test/monitor/portal-home", "action_id": "monitor"}]}]})"));
}

TEST(SlackChannel, ResolvedSaysWhenItStarted) {
  EXPECT_EQ(slack_body_of(incident_row("incident.resolved")), expand(R"({
    "text": "RESOLVED portal-home",
    "blocks": [
      {"type": "header", "text": {"type": "plain_text", "text": "RESOLVED portal-home"}},
      {"type": "section", "fields": [
        {"type": "mrkdwn", "text": "$MONITOR"},
        {"type": "mrkdwn", "text": "*State*\nresolved"},
        {"type": "mrkdwn", "text": "*Started*\n2026-12-01T02:00:00.000Z"},
        {"type": "mrkdwn", "text": "*Cause*\nexpected status 200, got 503"}]},
      {"type": "context", "elements": [
        {"type": "mrkdwn", "text": "lookout · incident 42 · Portal · http"}]},
      {"type": "actions", "elements": [
        {"type": "button", "text": {"type": "plain_text", "text": "Open monitor"},
         "url": "https://status.test/monitor/portal-home", "action_id": "monitor"}]}]})"));
}

TEST(SlackChannel, ATestSaysSoAndLinksTheStatusPage) {
  EXPECT_EQ(slack_body_of(test::test_row()), expand(R"({
    "text": "$TEST_TITLE",
    "blocks": [
      {"type": "header", "text": {"type": "plain_text", "text": "$TEST_TITLE"}},
      {"type": "section", "text": {"type": "mrkdwn", "text": "$TEST_TEXT"}},
      {"type": "context", "elements": [{"type": "mrkdwn", "text": "lookout · test notification"}]},
      {"type": "actions", "elements": [
        {"type": "button", "text": {"type": "plain_text", "text": "Open status page"},
         "url": "https://status.test/", "action_id": "status"}]}]})"));
}

TEST(SlackChannel, AStormIsOneMessageWithALinePerNotice) {
  const auto section = [](const std::string& text) {
    return json{{"type", "section"}, {"text", {{"type", "mrkdwn"}, {"text", text}}}};
  };
  const std::string down =
      " expected status 200, got 503 · since 02:00:00Z · "
      "<https://status.test/ack/42.1.abc|acknowledge>";
  auto expected = json::parse(R"({
    "text": "lookout: 2 DOWN, 1 RESOLVED",
    "blocks": [
      {"type": "header", "text": {"type": "plain_text", "text": "lookout: 2 DOWN, 1 RESOLVED"}},
      {"type": "actions", "elements": [
        {"type": "button", "text": {"type": "plain_text", "text": "Open status page"},
         "url": "https://status.test/", "action_id": "status"}]}]})");
  auto& blocks = expected["blocks"];
  blocks.insert(blocks.begin() + 1,
                {section("*<https://status.test/monitor/api-000|DOWN api-000>*" + down),
                 section("*<https://status.test/monitor/api-001|DOWN api-001>*" + down),
                 section("*<https://status.test/monitor/api-002|RESOLVED api-002>* · started "
                         "02:00:00Z")});
  EXPECT_EQ(json::parse(slack_body(storm(3), test::kPublicUrl)), expected);
}

TEST(SlackChannel, ALargeStormShowsTenAndCountsTheRest) {
  const auto j = json::parse(slack_body(storm(500), test::kPublicUrl));
  EXPECT_EQ(j["text"], "lookout: 499 DOWN, 1 RESOLVED");
  const auto& blocks = j["blocks"];
  ASSERT_EQ(blocks.size(), 13u);  // header, ten lines, the rest, the button
  EXPECT_EQ(blocks[10]["text"]["text"].get<std::string>().find("*<https://status.test/monitor/"
                                                               "api-009|DOWN api-009>*"),
            0u);
  EXPECT_EQ(blocks[11]["text"]["text"],
            "... and 490 more on <https://status.test/|the status page>");
  EXPECT_EQ(blocks[12]["type"], "actions");
}

TEST(SlackChannel, MrkdwnFromTheNetworkCannotLinkOrMention) {
  EXPECT_EQ(slack_escape("a <!channel> & <https://evil.test|click>"),
            "a &lt;!channel&gt; &amp; &lt;https://evil.test|click&gt;");
  const auto j = slack_body_of(incident_row("incident.opened", "got <!here> & <b>"));
  EXPECT_EQ(j["text"], "DOWN portal-home: got &lt;!here&gt; &amp; &lt;b&gt;");
  EXPECT_EQ(j["blocks"][1]["fields"][3]["text"], "*Cause*\ngot &lt;!here&gt; &amp; &lt;b&gt;");
  const auto storm_rows = std::vector<OutboxRow>{
      incident_row("incident.opened", "<@U123>"),
      incident_row("incident.opened", "x", "other"),
  };
  EXPECT_NE(slack_body(storm_rows, test::kPublicUrl).find("&lt;@U123&gt;"), std::string::npos);
}

TEST(SlackChannel, RequestPostsJsonToTheWebhookUrl) {
  ChannelConfig c;
  c.name = "ops-slack";
  c.type = "slack";
  c.url = Secret("https://hooks.slack.com/services/T0/B0/xyz", true);
  const std::vector<OutboxRow> rows{incident_row("incident.opened")};
  const HttpPost r = slack_request(c, rows, test::kPublicUrl);
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.url, "https://hooks.slack.com/services/T0/B0/xyz");
  EXPECT_EQ(r.body, slack_body(rows, test::kPublicUrl));
  EXPECT_EQ(r.headers, (std::vector<std::string>{
                           "Content-Type: application/json",
                           fmt::format("User-Agent: lookout/{}", LOOKOUT_VERSION),
                       }));
  EXPECT_FALSE(r.basic_auth);
}

TEST(SlackChannel, JudgesSlacksDocumentedAnswers) {
  EXPECT_EQ(slack_outcome(CURLE_OK, 200, "ok").kind, Kind::kDelivered);
  EXPECT_EQ(slack_outcome(CURLE_OK, 200, "ok").detail, "HTTP 200");
  for (const auto& [status, answer] :
       std::vector<std::pair<long, std::string>>{{400, "invalid_payload"},
                                                 {403, "invalid_token"},
                                                 {404, "no_service"},
                                                 {410, "channel_is_archived"}}) {
    const auto o = slack_outcome(CURLE_OK, status, answer);
    EXPECT_EQ(o.kind, Kind::kPermanent) << status;
    EXPECT_EQ(o.detail, fmt::format("HTTP {}: {}", status, answer));
  }
  for (const long status : {429L, 500L, 503L}) {
    EXPECT_EQ(slack_outcome(CURLE_OK, status, "rate_limited").kind, Kind::kRetry) << status;
  }
  EXPECT_EQ(slack_outcome(CURLE_COULDNT_CONNECT, 0, "refused").kind, Kind::kRetry);
  const auto other = slack_outcome(CURLE_OK, 204, "");
  EXPECT_EQ(other.kind, Kind::kPermanent);
  EXPECT_EQ(other.detail, "HTTP 204: not Slack's answer to a posted message (200 ok)");
}

TEST(SlackChannel, ARateLimitIsRetriedAfterSlacksRetryAfter) {
  test::HttpRecorder slack({{429, "rate_limited", "30"}});
  ChannelConfig c;
  c.name = "ops-slack";
  c.type = "slack";
  c.url = Secret(slack.url() + "/services/T0/B0/xyz", true);
  const auto o = test::deliver(c, {incident_row("incident.opened")});
  EXPECT_EQ(o.kind, Kind::kRetry);
  EXPECT_EQ(o.retry_after, Duration{30'000});
  const auto seen = slack.seen();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].method, "POST");
  EXPECT_EQ(seen[0].path, "/services/T0/B0/xyz");
  EXPECT_EQ(seen[0].header("User-Agent"), fmt::format("lookout/{}", LOOKOUT_VERSION));
  EXPECT_EQ(json::parse(seen[0].body), slack_body_of(incident_row("incident.opened")));

  test::HttpRecorder ok({{200, "ok", ""}});
  c.url = Secret(ok.url() + "/services/T0/B0/xyz", true);
  EXPECT_EQ(test::deliver(c, {incident_row("incident.opened")}).kind, Kind::kDelivered);
}

TEST(SlackChannel, APostSaysItsStatusImpactMonitorsUpdateAndLinksItsPage) {
  EXPECT_EQ(slack_body_of(test::post_row()), json::parse(R"({
    "text": "POST [major] Database failover: investigating",
    "blocks": [
      {"type": "header", "text": {"type": "plain_text",
                                  "text": "POST [major] Database failover: investigating"}},
      {"type": "section", "fields": [
        {"type": "mrkdwn", "text": "*Status*\ninvestigating"},
        {"type": "mrkdwn", "text": "*Impact*\nmajor"},
        {"type": "mrkdwn", "text": "*Monitors*\nportal-home, billing-db"},
        {"type": "mrkdwn", "text": "*Updated*\n2026-12-01T02:00:00.000Z"}]},
      {"type": "section", "text": {"type": "mrkdwn", "text": "Replicas lag behind. Failing over."}},
      {"type": "context", "elements": [{"type": "mrkdwn", "text": "lookout · post 7"}]},
      {"type": "actions", "elements": [
        {"type": "button", "text": {"type": "plain_text", "text": "Open post"},
         "url": "https://status.test/posts/7", "action_id": "post"}]}]})"));
  // What people wrote cannot mention anyone.
  const json escaped =
      slack_body_of(test::post_row("incident.post_updated", "resolved", "<!channel> done"));
  EXPECT_EQ(escaped["text"], "POST RESOLVED [major] Database failover");
  EXPECT_EQ(escaped["blocks"][2]["text"]["text"], "&lt;!channel&gt; done");
}

TEST(SlackChannel, APostInAStormIsALineOfItsOwn) {
  auto rows = storm(2);
  rows.insert(rows.begin() + 1, test::post_row());
  const json j = json::parse(slack_body(rows, test::kPublicUrl));
  EXPECT_EQ(j["text"], "lookout: 1 DOWN, 1 POST, 1 RESOLVED");
  EXPECT_EQ(j["blocks"][2]["text"]["text"],
            "*<https://status.test/posts/7|POST [major] Database failover: investigating>* "
            "Replicas lag behind. Failing over.");
}

}  // namespace
}  // namespace lookout
