#include "alerting/channels/telegram.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "config/channels/telegram_spec.h"
#include "tests/support/http_recorder.h"
#include "tests/support/outbox_rows.h"
#include "tests/unit/config/config_parse.h"

namespace lookout {
namespace {

using nlohmann::json;
using test::incident_row;
using test::storm;
using Kind = DeliveryOutcome::Kind;

const std::string kTelegramToken = "123456:AAE-bot-token-secret";

std::string text_of(const OutboxRow& row) { return telegram_text({row}, test::kPublicUrl); }

ChannelConfig telegram_config(const std::string& url, const std::string& chat = "-1001234567890") {
  ChannelConfig c;
  c.name = "ops-telegram";
  c.type = "telegram";
  c.url = Secret::plain(url);
  auto spec = std::make_shared<TelegramSpec>();
  spec->bot_token = Secret(kTelegramToken, true);
  spec->chat_id = Secret::plain(chat);
  c.spec = spec;
  return c;
}

const std::string kFacts =
    "Monitor: portal-home\n"
    "State: {}\n"
    "{}: 2026-12-01T02:00:00.000Z\n"
    "Cause: expected status 200, got 503\n"
    "<i>lookout · incident 42 · Portal · http</i>\n"
    "<a href=\"https://status.test/monitor/portal-home\">Open monitor</a>";
const std::string kAck = " · <a href=\"https://status.test/ack/42.1.abc\">Acknowledge</a>";

TEST(TelegramChannel, OpenedEscalatedAndReminderCarryTheAckLink) {
  for (const auto& [event, label] :
       std::vector<std::pair<std::string, std::string>>{{"incident.opened", "DOWN"},
                                                        {"incident.escalated", "ESCALATED DOWN"},
                                                        {"incident.reminder", "REMINDER DOWN"}}) {
    EXPECT_EQ(text_of(incident_row(event)),
              fmt::format("<b>{} portal-home</b>\n{}{}", label,
                          fmt::format(fmt::runtime(kFacts), "down", "Since"), kAck))
        << event;
  }
}

TEST(TelegramChannel, AcknowledgedAndResolvedLinkOnlyTheMonitor) {
  EXPECT_EQ(text_of(incident_row("incident.acknowledged")),
            "<b>ACK DOWN portal-home</b>\n" +
                fmt::format(fmt::runtime(kFacts), "down, acknowledged", "Since"));
  EXPECT_EQ(
      text_of(incident_row("incident.resolved")),
      "<b>RESOLVED portal-home</b>\n" + fmt::format(fmt::runtime(kFacts), "resolved", "Started"));
}

TEST(TelegramChannel, ATestSaysSoAndLinksTheStatusPage) {
  EXPECT_EQ(text_of(test::test_row()),
            "<b>TEST lookout: this channel delivers</b>\n"
            "This is a test notification from lookout: nothing is wrong, and this channel "
            "delivers.\n"
            "<a href=\"https://status.test/\">Open status page</a>");
}

TEST(TelegramChannel, AStormIsOneMessageWithALinePerNotice) {
  const std::string down =
      "</a> expected status 200, got 503 · since 02:00:00Z · "
      "<a href=\"https://status.test/ack/42.1.abc\">acknowledge</a>\n";
  EXPECT_EQ(telegram_text(storm(3), test::kPublicUrl),
            "<b>lookout: 2 DOWN, 1 RESOLVED</b>\n"
            "<a href=\"https://status.test/monitor/api-000\">DOWN api-000" +
                down + "<a href=\"https://status.test/monitor/api-001\">DOWN api-001" + down +
                "<a href=\"https://status.test/monitor/api-002\">RESOLVED api-002</a> · started "
                "02:00:00Z\n"
                "<a href=\"https://status.test/\">Open status page</a>");
  const std::string big = telegram_text(storm(25), test::kPublicUrl);
  EXPECT_NE(big.find(">DOWN api-009</a>"), std::string::npos);
  EXPECT_EQ(big.find("api-010"), std::string::npos);
  EXPECT_EQ(big.substr(big.rfind('\n') + 1),
            "... and 15 more on <a href=\"https://status.test/\">the status page</a>");
}

TEST(TelegramChannel, EveryValueIsEscapedForHtml) {
  const std::string text = text_of(incident_row("incident.opened", "<b>x</b> & \"y\""));
  EXPECT_NE(text.find("Cause: &lt;b&gt;x&lt;/b&gt; &amp; &quot;y&quot;\n"), std::string::npos)
      << text;
  EXPECT_EQ(text.find("<b>x"), std::string::npos) << text;
}

TEST(TelegramChannel, RequestPutsTheTokenInThePathAndTheChatInTheBody) {
  const std::vector<OutboxRow> rows{incident_row("incident.opened")};
  const HttpPost r =
      telegram_request(telegram_config("https://api.telegram.org/"), rows, test::kPublicUrl);
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.url, "https://api.telegram.org/bot" + kTelegramToken + "/sendMessage");
  EXPECT_EQ(r.headers, (std::vector<std::string>{
                           "Content-Type: application/json",
                           fmt::format("User-Agent: lookout/{}", LOOKOUT_VERSION),
                       }));
  EXPECT_EQ(json::parse(r.body), (json{{"chat_id", -1001234567890},
                                       {"text", telegram_text(rows, test::kPublicUrl)},
                                       {"parse_mode", "HTML"},
                                       {"disable_web_page_preview", true}}));
  const HttpPost channel = telegram_request(
      telegram_config("https://api.telegram.org", "@acme_ops"), rows, test::kPublicUrl);
  EXPECT_EQ(json::parse(channel.body)["chat_id"], "@acme_ops");
}

TEST(TelegramChannel, DeliveredOnlyOnOkTrue) {
  const auto sent = telegram_outcome(
      CURLE_OK, 200, R"({"ok":true,"result":{"message_id":7,"chat":{"id":-100},"text":"x"}})");
  EXPECT_EQ(sent.kind, Kind::kDelivered);
  EXPECT_EQ(sent.detail, "HTTP 200");
  // A sent message comes back whole, and a transfer keeps only the start of it.
  const std::string cut = R"({"ok":true,"result":{"message_id":7,"text":")" + std::string(600, 'x');
  EXPECT_EQ(telegram_outcome(CURLE_OK, 200, cut.substr(0, 512)).kind, Kind::kDelivered);
  // Nested "ok" keys do not count; only the top level's does.
  EXPECT_EQ(telegram_outcome(CURLE_OK, 200, R"({"result":{"ok":true},"ok":false})").kind,
            Kind::kPermanent);
  EXPECT_EQ(telegram_outcome(CURLE_OK, 200, "<html>proxy</html>").detail,
            "HTTP 200 without \"ok\": true");
  EXPECT_EQ(telegram_outcome(CURLE_OK, 204, "").kind, Kind::kPermanent);
}

TEST(TelegramChannel, JudgesTheBotApisErrors) {
  const auto missing = telegram_outcome(
      CURLE_OK, 400,
      R"({"ok":false,"error_code":400,"description":"Bad Request: chat not found"})");
  EXPECT_EQ(missing.kind, Kind::kPermanent);
  EXPECT_EQ(missing.detail, "HTTP 400: Bad Request: chat not found");
  const auto moved = telegram_outcome(CURLE_OK, 400, R"({"ok":false,"error_code":400,
    "description":"Bad Request: group chat was upgraded to a supergroup chat",
    "parameters":{"migrate_to_chat_id":-1001234567890}})");
  EXPECT_EQ(moved.kind, Kind::kPermanent);
  EXPECT_EQ(moved.detail,
            "HTTP 400: Bad Request: group chat was upgraded to a supergroup chat (set chat_id = "
            "-1001234567890)");
  EXPECT_EQ(telegram_outcome(CURLE_OK, 401,
                             R"({"ok":false,"error_code":401,"description":"Unauthorized"})")
                .detail,
            "HTTP 401: Unauthorized");
  const auto limited = telegram_outcome(CURLE_OK, 429, R"({"ok":false,"error_code":429,
    "description":"Too Many Requests: retry after 17","parameters":{"retry_after":17}})");
  EXPECT_EQ(limited.kind, Kind::kRetry);
  EXPECT_EQ(limited.retry_after, Duration{17'000});
  EXPECT_EQ(telegram_outcome(CURLE_OK, 502, "Bad Gateway").kind, Kind::kRetry);
  EXPECT_EQ(telegram_outcome(CURLE_COULDNT_CONNECT, 0, "refused").kind, Kind::kRetry);
}

// A channel from a parsed config: its redactor knows the token.
struct Parsed {
  LoadResult loaded;
  const ChannelConfig& channel() const { return loaded.config->channels.at(0); }
};
Parsed parsed_channel(const std::string& url) {
  const std::string text = fmt::format(R"([server]
public_url = "https://status.test"
[[channel]]
name = "ops-telegram"
type = "telegram"
url = "{}"
bot_token = "${{env:TG_TOKEN}}"
chat_id = -1001234567890
)",
                                       url);
  return {
      parse_config(text, "/etc/lookout/test.toml", test::fake_env({{"TG_TOKEN", kTelegramToken}}))};
}

TEST(TelegramChannel, WhatAnAnswerEchoesOfTheUrlIsMasked) {
  test::HttpRecorder telegram(
      {{404,
        json{{"ok", false},
             {"error_code", 404},
             {"description", "Not Found: /bot" + kTelegramToken + "/sendMessage"}}
            .dump(),
        ""}});
  const Parsed p = parsed_channel(telegram.url());
  ASSERT_TRUE(p.loaded.ok()) << testing::PrintToString(test::messages(p.loaded));
  const auto o =
      test::deliver(p.channel(), {incident_row("incident.opened")}, p.loaded.config->redactor);
  EXPECT_EQ(o.kind, Kind::kPermanent);
  EXPECT_EQ(o.detail, "HTTP 404: Not Found: /bot***/sendMessage");
  ASSERT_EQ(telegram.seen().size(), 1u);
  EXPECT_EQ(telegram.seen()[0].path, "/bot" + kTelegramToken + "/sendMessage");
  EXPECT_EQ(json::parse(telegram.seen()[0].body)["chat_id"], -1001234567890);
}

TEST(TelegramChannel, AnUnreachableApiIsRetriedAndNamesNoToken) {
  // A port nothing listens on: bound, never listened on, closed.
  const int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(bind(s, reinterpret_cast<sockaddr*>(&addr), len), 0);
  ASSERT_EQ(getsockname(s, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  close(s);
  const Parsed p = parsed_channel(fmt::format("http://127.0.0.1:{}", ntohs(addr.sin_port)));
  ASSERT_TRUE(p.loaded.ok()) << testing::PrintToString(test::messages(p.loaded));
  const auto o =
      test::deliver(p.channel(), {incident_row("incident.opened")}, p.loaded.config->redactor);
  EXPECT_EQ(o.kind, Kind::kRetry);
  EXPECT_NE(o.detail.find("127.0.0.1"), std::string::npos) << o.detail;
  EXPECT_EQ(o.detail.find("AAE-bot-token"), std::string::npos) << o.detail;
}

TEST(TelegramChannel, ARateLimitWaitsForTheBodysRetryAfter) {
  test::HttpRecorder telegram({{429,
                                R"({"ok":false,"error_code":429,"description":"Too Many Requests: )"
                                R"(retry after 17","parameters":{"retry_after":17}})",
                                ""}});
  auto o = test::deliver(telegram_config(telegram.url()), {incident_row("incident.opened")});
  EXPECT_EQ(o.kind, Kind::kRetry);
  EXPECT_EQ(o.retry_after, Duration{17'000});
  test::HttpRecorder ok({{200, R"({"ok":true,"result":{"message_id":1}})", ""}});
  o = test::deliver(telegram_config(ok.url()), storm(3));
  EXPECT_EQ(o.kind, Kind::kDelivered);
  ASSERT_EQ(ok.seen().size(), 1u);
  EXPECT_EQ(json::parse(ok.seen()[0].body)["text"], telegram_text(storm(3), test::kPublicUrl));
}

TEST(TelegramChannel, APostSaysItsStatusImpactMonitorsUpdateAndLinksItsPage) {
  EXPECT_EQ(text_of(test::post_row("incident.posted", "investigating", "a < b & c")),
            "<b>POST [major] Database failover: investigating</b>\n"
            "Status: investigating\n"
            "Impact: major\n"
            "Monitors: portal-home, billing-db\n"
            "a &lt; b &amp; c\n"
            "<i>lookout · post 7</i>\n"
            "<a href=\"https://status.test/posts/7\">Open post</a>");
  auto rows = storm(2);
  rows.insert(rows.begin() + 1, test::post_row());
  const std::string storm_text = telegram_text(rows, test::kPublicUrl);
  EXPECT_NE(storm_text.find("</a>\n<a "
                            "href=\"https://status.test/posts/7\">POST [major] Database failover: "
                            "investigating</a> Replicas lag behind. Failing over.\n"),
            std::string::npos)
      << storm_text;
}

}  // namespace
}  // namespace lookout
