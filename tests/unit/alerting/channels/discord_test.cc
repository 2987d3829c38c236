#include "alerting/channels/discord.h"

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

json discord_body_of(const OutboxRow& row) {
  return json::parse(discord_body({row}, test::kPublicUrl));
}

OutboxRow discord_degraded(OutboxRow row) {
  auto payload = json::parse(row.payload);
  payload["state"] = "degraded";
  row.payload = payload.dump();
  return row;
}

// What Discord gets for an open incident; `label` is the event's ("DOWN", "ESCALATED DOWN").
json open_embed(const std::string& label) {
  auto j = json::parse(R"js({"embeds": [{
    "title": "DOWN portal-home",
    "description": "expected status 200, got 503",
    "url": "https://status.test/monitor/portal-home",
    "color": 14233637,
    "timestamp": "2026-12-01T02:00:00.000Z",
    "fields": [
      {"name": "Monitor", "value": "portal-home", "inline": true},
      {"name": "State", "value": "down", "inline": true},
      {"name": "Since", "value": "2026-12-01T02:00:00.000Z", "inline": true},
      {"name": "Acknowledge", "value": "[acknowledge](https://status.test/ack/42.1.abc)",
       "inline": false}],
    "footer": {"text": "lookout · incident 42 · Portal · http"}}]})js");
  j["embeds"][0]["title"] = label + " portal-home";
  return j;
}

TEST(DiscordChannel, ColoursFollowTheState) {
  EXPECT_EQ(0xD93025u, 14233637u);
  EXPECT_EQ(discord_colour(notice_of(incident_row("incident.opened"), test::kPublicUrl)),
            0xD93025u);
  EXPECT_EQ(discord_colour(
                notice_of(discord_degraded(incident_row("incident.opened")), test::kPublicUrl)),
            0xF29900u);
  EXPECT_EQ(discord_colour(notice_of(incident_row("incident.resolved"), test::kPublicUrl)),
            0x188038u);
  EXPECT_EQ(discord_colour(notice_of(incident_row("incident.acknowledged"), test::kPublicUrl)),
            0x5F6368u);
  EXPECT_EQ(discord_colour(notice_of(test::test_row(), test::kPublicUrl)), 0x5F6368u);
}

TEST(DiscordChannel, OpenedEscalatedAndReminderCarryTheAckLink) {
  EXPECT_EQ(discord_body_of(incident_row("incident.opened")), open_embed("DOWN"));
  EXPECT_EQ(discord_body_of(incident_row("incident.escalated")), open_embed("ESCALATED DOWN"));
  EXPECT_EQ(discord_body_of(incident_row("incident.reminder")), open_embed("REMINDER DOWN"));
  EXPECT_EQ(
      discord_body_of(discord_degraded(incident_row("incident.opened")))["embeds"][0]["color"],
      0xF29900);
}

TEST(DiscordChannel, AcknowledgedAndResolvedLinkOnlyTheMonitor) {
  EXPECT_EQ(discord_body_of(incident_row("incident.acknowledged")), json::parse(R"({"embeds": [{
    "title": "ACK DOWN portal-home",
    "description": "expected status 200, got 503",
    "url": "https://status.test/monitor/portal-home",
    "color": 6251368,
    "timestamp": "2026-12-01T02:00:00.000Z",
    "fields": [
      {"name": "Monitor", "value": "portal-home", "inline": true},
      {"name": "State", "value": "down, acknowledged", "inline": true},
      {"name": "Since", "value": "2026-12-01T02:00:00.000Z", "inline": true}],
    "footer": {"text": "lookout · incident 42 · Portal · http"}}]})"));
  EXPECT_EQ(discord_body_of(incident_row("incident.resolved")), json::parse(R"({"embeds": [{
    "title": "RESOLVED portal-home",
    "description": "expected status 200, got 503",
    "url": "https://status.test/monitor/portal-home",
    "color": 1605688,
    "timestamp": "2026-12-01T02:00:00.000Z",
    "fields": [
      {"name": "Monitor", "value": "portal-home", "inline": true},
      {"name": "State", "value": "resolved", "inline": true},
      {"name": "Started", "value": "2026-12-01T02:00:00.000Z", "inline": true}],
    "footer": {"text": "lookout · incident 42 · Portal · http"}}]})"));
}

TEST(DiscordChannel, ATestSaysSoAndLinksTheStatusPage) {
  EXPECT_EQ(discord_body_of(test::test_row()), json::parse(R"({"embeds": [{
    "title": "TEST lookout: this channel delivers",
    "description":
      "This is a test notification from lookout: nothing is wrong, and this channel delivers.",
    "url": "https://status.test/",
    "color": 6251368,
    "timestamp": "1970-01-01T00:00:00.000Z",
    "footer": {"text": "lookout · test notification"}}]})"));
}

TEST(DiscordChannel, AStormIsOneEmbedWithALinePerNotice) {
  auto rows = storm(3);
  rows[1].created += std::chrono::seconds(30);
  const std::string down =
      " expected status 200, got 503 · since 02:00:00Z · "
      "[acknowledge](https://status.test/ack/42.1.abc)";
  EXPECT_EQ(
      json::parse(discord_body(rows, test::kPublicUrl)),
      (json{{"embeds", json::array({{
                           {"title", "lookout: 2 DOWN, 1 RESOLVED"},
                           {"url", "https://status.test/"},
                           {"color", 0xD93025},
                           {"timestamp", "2026-12-01T02:00:30.000Z"},
                           {"description",
                            "**[DOWN api-000](https://status.test/monitor/api-000)**" + down +
                                "\n**[DOWN api-001](https://status.test/monitor/api-001)**" + down +
                                "\n**[RESOLVED api-002](https://status.test/monitor/"
                                "api-002)** · started 02:00:00Z"},
                           {"footer", {{"text", "lookout"}}},
                       }})}}));
  const auto big = json::parse(discord_body(storm(25), test::kPublicUrl));
  ASSERT_EQ(big["embeds"].size(), 1u);
  const std::string description = big["embeds"][0]["description"];
  EXPECT_NE(description.find("api-009"), std::string::npos);
  EXPECT_EQ(description.find("api-010"), std::string::npos);
  EXPECT_EQ(description.substr(description.rfind('\n') + 1),
            "... and 15 more on [the status page](https://status.test/)");
}

TEST(DiscordChannel, AStormWithinTheDescriptionLimitWhateverTheCauses) {
  std::vector<OutboxRow> rows;
  rows.reserve(12);
  for (int i = 0; i < 12; ++i)
    rows.push_back(incident_row("incident.opened", std::string(300, '*'), fmt::format("m{}", i)));
  const auto j = json::parse(discord_body(rows, test::kPublicUrl));
  const std::string description = j["embeds"][0]["description"];
  EXPECT_LE(description.size(), 4096u);
  const size_t lines =
      static_cast<size_t>(std::count(description.begin(), description.end(), '\n'));
  // Each escaped cause is 600 characters: the lines that do not fit are counted with the rest.
  EXPECT_EQ(description.substr(description.rfind('\n') + 1),
            fmt::format("... and {} more on [the status page](https://status.test/)", 12 - lines));
  EXPECT_LT(lines, 10u);
}

TEST(DiscordChannel, MarkdownFromTheNetworkIsEscaped) {
  EXPECT_EQ(discord_escape("[click](https://evil.test) **x** `y` a_b ~z~ <@1> # h | \\"),
            "\\[click\\]\\(https://evil.test\\) \\*\\*x\\*\\* \\`y\\` a\\_b \\~z\\~ \\<@1\\> \\# "
            "h \\| \\\\");
  EXPECT_EQ(discord_body_of(incident_row("incident.opened",
                                         "[x](https://evil.test)"))["embeds"][0]["description"],
            "\\[x\\]\\(https://evil.test\\)");
}

TEST(DiscordChannel, RequestPostsTheEmbedToTheWebhookUrl) {
  ChannelConfig c;
  c.name = "ops-discord";
  c.type = "discord";
  c.url = Secret("https://discord.com/api/webhooks/123/t0ken", true);
  const std::vector<OutboxRow> rows{incident_row("incident.opened")};
  const HttpPost r = discord_request(c, rows, test::kPublicUrl);
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.url, "https://discord.com/api/webhooks/123/t0ken");
  EXPECT_EQ(r.body, discord_body(rows, test::kPublicUrl));
  EXPECT_EQ(r.headers, (std::vector<std::string>{
                           "Content-Type: application/json",
                           fmt::format("User-Agent: lookout/{}", LOOKOUT_VERSION),
                       }));
}

TEST(DiscordChannel, JudgesDiscordsDocumentedAnswers) {
  EXPECT_EQ(discord_outcome(CURLE_OK, 204, "").kind, Kind::kDelivered);
  EXPECT_EQ(discord_outcome(CURLE_OK, 200, R"({"id":"1"})").kind, Kind::kDelivered);
  const auto unknown =
      discord_outcome(CURLE_OK, 404, R"({"message": "Unknown Webhook", "code": 10015})");
  EXPECT_EQ(unknown.kind, Kind::kPermanent);
  EXPECT_EQ(unknown.detail, "HTTP 404: Unknown Webhook (code 10015)");
  const auto invalid = discord_outcome(
      CURLE_OK, 400, R"({"message": "Invalid Form Body", "code": 50035, "errors": {}})");
  EXPECT_EQ(invalid.kind, Kind::kPermanent);
  EXPECT_EQ(invalid.detail, "HTTP 400: Invalid Form Body (code 50035)");
  EXPECT_EQ(discord_outcome(CURLE_OK, 401, "not json").detail, "HTTP 401: not json");
  const auto limited = discord_outcome(
      CURLE_OK, 429,
      R"({"message": "You are being rate limited.", "retry_after": 64.57, "global": false})");
  EXPECT_EQ(limited.kind, Kind::kRetry);
  EXPECT_EQ(limited.retry_after, Duration{64'570});
  EXPECT_EQ(discord_outcome(CURLE_OK, 502, "bad gateway").kind, Kind::kRetry);
  EXPECT_FALSE(discord_outcome(CURLE_OK, 502, "bad gateway").retry_after);
  EXPECT_EQ(discord_outcome(CURLE_OPERATION_TIMEDOUT, 0, "timeout").kind, Kind::kRetry);
}

TEST(DiscordChannel, TheRetryAfterHeaderWinsOverTheBody) {
  test::HttpRecorder discord(
      {{429, R"({"message": "You are being rate limited.", "retry_after": 64.57})", "65"}});
  ChannelConfig c;
  c.name = "ops-discord";
  c.type = "discord";
  c.url = Secret(discord.url() + "/api/webhooks/123/t0ken", true);
  const auto o = test::deliver(c, {incident_row("incident.opened")});
  EXPECT_EQ(o.kind, Kind::kRetry);
  EXPECT_EQ(o.retry_after, Duration{65'000});
  test::HttpRecorder body_only({{429, R"({"retry_after": 1.5, "global": false})", ""}});
  c.url = Secret(body_only.url() + "/api/webhooks/123/t0ken", true);
  EXPECT_EQ(test::deliver(c, {incident_row("incident.opened")}).retry_after, Duration{1'500});
  test::HttpRecorder ok({{204, "", ""}});
  c.url = Secret(ok.url() + "/api/webhooks/123/t0ken", true);
  EXPECT_EQ(test::deliver(c, {incident_row("incident.opened")}).kind, Kind::kDelivered);
  ASSERT_EQ(ok.seen().size(), 1u);
  EXPECT_EQ(ok.seen()[0].path, "/api/webhooks/123/t0ken");
}

TEST(DiscordChannel, APostIsAnEmbedLinkingItsPage) {
  EXPECT_EQ(discord_body_of(test::post_row()), json::parse(R"js({"embeds": [{
    "title": "POST [major] Database failover: investigating",
    "url": "https://status.test/posts/7",
    "description": "Replicas lag behind. Failing over.",
    "color": 1733608,
    "timestamp": "2026-12-01T02:00:00.000Z",
    "fields": [
      {"name": "Status", "value": "investigating", "inline": true},
      {"name": "Impact", "value": "major", "inline": true},
      {"name": "Monitors", "value": "portal-home, billing-db", "inline": false}],
    "footer": {"text": "lookout · post 7"}}]})js"));
  const json resolved =
      discord_body_of(test::post_row("incident.post_updated", "resolved", "[see](x) *done*"));
  EXPECT_EQ(resolved["embeds"][0]["color"], 0x188038);
  EXPECT_EQ(resolved["embeds"][0]["timestamp"], "2026-12-01T02:10:00.000Z");
  EXPECT_EQ(resolved["embeds"][0]["description"], "\\[see\\]\\(x\\) \\*done\\*");
}

TEST(DiscordChannel, APostInAStormIsALineOfItsOwn) {
  auto rows = storm(2);
  rows.insert(rows.begin() + 1, test::post_row());
  const json embed = json::parse(discord_body(rows, test::kPublicUrl))["embeds"][0];
  EXPECT_EQ(embed["title"], "lookout: 1 DOWN, 1 POST, 1 RESOLVED");
  EXPECT_EQ(embed["color"], 0xD93025) << "the worst one's";
  const std::string description = embed["description"];
  const size_t second = description.find('\n') + 1;
  EXPECT_EQ(description.substr(second, description.find('\n', second) - second),
            "**[POST \\[major\\] Database failover: investigating](https://status.test/posts/7)** "
            "Replicas lag behind. Failing over.");
}

}  // namespace
}  // namespace lookout
