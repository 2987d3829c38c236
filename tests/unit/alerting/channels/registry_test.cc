#include "alerting/channels/registry.h"

#include <gtest/gtest.h>

#include "alerting/channels/alertmanager.h"
#include "alerting/channels/discord.h"
#include "alerting/channels/email.h"
#include "alerting/channels/matrix.h"
#include "alerting/channels/opsgenie.h"
#include "alerting/channels/pagerduty.h"
#include "alerting/channels/slack.h"
#include "alerting/channels/sms.h"
#include "alerting/channels/teams.h"
#include "alerting/channels/telegram.h"
#include "alerting/channels/webhook.h"
#include "core/curl_bridge.h"
#include "core/event_loop.h"
#include "tests/support/fake_clock.h"

namespace lookout {
namespace {

ChannelConfig channel_of(const std::string& type) {
  ChannelConfig c;
  c.name = type;
  c.type = type;
  c.to = {"+15550100", "+15550101"};
  return c;
}

TEST(ChannelRegistry, EachTypeMakesItsOwnChannel) {
  EventLoop loop;
  FakeClock clock;
  CurlBridge curl(loop, clock);
  const auto make = [&](const std::string& type) {
    return make_channel(channel_of(type), curl, clock, "https://status.test", nullptr);
  };
  const auto email = make("email");
  const auto webhook = make("webhook");
  const auto sms = make("sms");
  EXPECT_NE(dynamic_cast<EmailChannel*>(email.get()), nullptr);
  EXPECT_NE(dynamic_cast<WebhookChannel*>(webhook.get()), nullptr);
  EXPECT_NE(dynamic_cast<SmsChannel*>(sms.get()), nullptr);
  EXPECT_NE(dynamic_cast<PagerDutyChannel*>(make("pagerduty").get()), nullptr);
  EXPECT_NE(dynamic_cast<OpsgenieChannel*>(make("opsgenie").get()), nullptr);
  EXPECT_NE(dynamic_cast<AlertmanagerChannel*>(make("alertmanager").get()), nullptr);
  EXPECT_NE(dynamic_cast<SlackChannel*>(make("slack").get()), nullptr);
  EXPECT_NE(dynamic_cast<TeamsChannel*>(make("teams").get()), nullptr);
  EXPECT_NE(dynamic_cast<DiscordChannel*>(make("discord").get()), nullptr);
  EXPECT_NE(dynamic_cast<TelegramChannel*>(make("telegram").get()), nullptr);
  EXPECT_NE(dynamic_cast<MatrixChannel*>(make("matrix").get()), nullptr);
  EXPECT_EQ(sms->config().name, "sms");
  EXPECT_EQ(sms->config().to, channel_of("sms").to);
}

TEST(ChannelRegistry, EveryTypeTheConfigAcceptsHasAChannel) {
  EventLoop loop;
  FakeClock clock;
  CurlBridge curl(loop, clock);
  ASSERT_FALSE(channel_kinds().empty());
  for (const auto& type : channel_kinds()) {
    EXPECT_EQ(channel_kind(type).type, type);
    const auto made = make_channel(channel_of(type), curl, clock, "https://status.test", nullptr);
    ASSERT_NE(made, nullptr) << type;
    EXPECT_EQ(made->config().type, type);
  }
  EXPECT_THROW(channel_kind("carrier-pigeon"), std::logic_error);
}

TEST(ChannelRegistry, OnlySmsMakesARowPerRecipient) {
  for (const auto& type : channel_kinds()) {
    const std::vector<std::string> expected =
        type == "sms" ? std::vector<std::string>{"+15550100", "+15550101"}
                      : std::vector<std::string>{""};
    EXPECT_EQ(row_recipients(channel_of(type)), expected) << type;
  }
}

TEST(ChannelRegistry, PostsGoToEveryTypeButThoseThatKeepOneAlertPerIncident) {
  for (const auto& type : channel_kinds()) {
    const bool takes = type != "opsgenie" && type != "alertmanager";
    EXPECT_EQ(channel_takes(channel_of(type), "incident.posted"), takes) << type;
    EXPECT_EQ(channel_takes(channel_of(type), "incident.post_updated"), takes) << type;
    EXPECT_TRUE(channel_takes(channel_of(type), "incident.opened")) << type;
    EXPECT_EQ(channel_takes(channel_of(type), "incident.acknowledged"), type != "alertmanager")
        << type;
  }
}

}  // namespace
}  // namespace lookout
