#include "alerting/channels/registry.h"

#include <gtest/gtest.h>

#include "alerting/channels/email.h"
#include "alerting/channels/sms.h"
#include "alerting/channels/webhook.h"
#include "core/curl_bridge.h"
#include "core/event_loop.h"
#include "tests/support/fake_clock.h"

namespace lookout {
namespace {

ChannelConfig channel_of(ChannelType type) {
  ChannelConfig c;
  c.name = to_string(type);
  c.type = type;
  c.to = {"+15550100", "+15550101"};
  return c;
}

TEST(ChannelRegistry, EachTypeMakesItsOwnChannel) {
  EventLoop loop;
  FakeClock clock;
  CurlBridge curl(loop, clock);
  const auto make = [&](ChannelType type) {
    return make_channel(channel_of(type), curl, clock, "https://status.test", nullptr);
  };
  const auto email = make(ChannelType::kEmail);
  const auto webhook = make(ChannelType::kWebhook);
  const auto sms = make(ChannelType::kSms);
  EXPECT_NE(dynamic_cast<EmailChannel*>(email.get()), nullptr);
  EXPECT_NE(dynamic_cast<WebhookChannel*>(webhook.get()), nullptr);
  EXPECT_NE(dynamic_cast<SmsChannel*>(sms.get()), nullptr);
  EXPECT_EQ(sms->config().name, "sms");
  EXPECT_EQ(sms->config().to, channel_of(ChannelType::kSms).to);
}

TEST(ChannelRegistry, OnlySmsMakesARowPerRecipient) {
  EXPECT_EQ(channel_kind(ChannelType::kSms).type, ChannelType::kSms);
  EXPECT_EQ(row_recipients(channel_of(ChannelType::kSms)),
            (std::vector<std::string>{"+15550100", "+15550101"}));
  for (const auto type : {ChannelType::kEmail, ChannelType::kWebhook}) {
    EXPECT_EQ(channel_kind(type).type, type);
    EXPECT_EQ(row_recipients(channel_of(type)), std::vector<std::string>{""}) << to_string(type);
  }
}

}  // namespace
}  // namespace lookout
