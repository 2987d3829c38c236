#include "alerting/channels/registry.h"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>
#include <stdexcept>

#include "alerting/channels/alertmanager.h"
#include "alerting/channels/discord.h"
#include "alerting/channels/email.h"
#include "alerting/channels/gotify.h"
#include "alerting/channels/matrix.h"
#include "alerting/channels/ntfy.h"
#include "alerting/channels/opsgenie.h"
#include "alerting/channels/pagerduty.h"
#include "alerting/channels/pushover.h"
#include "alerting/channels/slack.h"
#include "alerting/channels/sms.h"
#include "alerting/channels/teams.h"
#include "alerting/channels/telegram.h"
#include "alerting/channels/webhook.h"
#include "alerting/incidents.h"

namespace lookout {
namespace {

template <class T>
std::unique_ptr<Channel> construct_channel(const ChannelConfig& c, CurlBridge& curl,
                                           const Clock& clock, std::string public_url,
                                           std::shared_ptr<const Redactor> redactor) {
  return std::make_unique<T>(c, curl, clock, std::move(public_url), std::move(redactor));
}

constexpr ChannelKind kChannelKinds[] = {
    {"email", &construct_channel<EmailChannel>, false},
    {"webhook", &construct_channel<WebhookChannel>, false},
    {"sms", &construct_channel<SmsChannel>, true},
    {"pagerduty", &construct_channel<PagerDutyChannel>, false},
    {"opsgenie", &construct_channel<OpsgenieChannel>, false},
    {"alertmanager", &construct_channel<AlertmanagerChannel>, false, false},
    {"slack", &construct_channel<SlackChannel>, false},
    {"teams", &construct_channel<TeamsChannel>, false},
    {"discord", &construct_channel<DiscordChannel>, false},
    {"telegram", &construct_channel<TelegramChannel>, false},
    {"matrix", &construct_channel<MatrixChannel>, false},
    {"ntfy", &construct_channel<NtfyChannel>, false},
    {"pushover", &construct_channel<PushoverChannel>, false},
    {"gotify", &construct_channel<GotifyChannel>, false},
};

}  // namespace

const ChannelKind& channel_kind(std::string_view type) {
  const auto* it = std::find_if(std::begin(kChannelKinds), std::end(kChannelKinds),
                                [type](const ChannelKind& k) { return k.type == type; });
  // A type the config accepts but the table lacks: fail loudly rather than read past the end.
  if (it == std::end(kChannelKinds))
    throw std::logic_error(fmt::format("no channel kind for type {}", type));
  return *it;
}

std::unique_ptr<Channel> make_channel(const ChannelConfig& c, CurlBridge& curl, const Clock& clock,
                                      std::string public_url,
                                      std::shared_ptr<const Redactor> redactor) {
  return channel_kind(c.type).make(c, curl, clock, std::move(public_url), std::move(redactor));
}

std::vector<std::string> row_recipients(const ChannelConfig& c) {
  return channel_kind(c.type).row_per_recipient ? c.to : std::vector<std::string>{""};
}

bool channel_takes(const ChannelConfig& c, std::string_view event) {
  if (event == "incident.acknowledged") return channel_kind(c.type).takes_acknowledgement;
  if (is_post_event(event)) return channel_takes_posts(c.type);
  return true;
}

}  // namespace lookout
