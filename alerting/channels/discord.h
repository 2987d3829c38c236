// The discord channel: an embed posted to a channel's webhook, whose URL is the credential. The
// body is a pure function of the rows (discord_body), and so is the reading of Discord's answer
// (discord_outcome); DiscordChannel only sends what they make.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "alerting/channels/curl_channel.h"
#include "alerting/channels/http_delivery.h"
#include "alerting/message.h"

namespace lookout {

// The embed's colour bar: down 0xD93025, degraded 0xF29900, resolved 0x188038, an
// acknowledgement or a test 0x5F6368, a post 0x1A73E8 (0x188038 once resolved).
uint32_t discord_colour(const Notice& n);

// Text for an embed's description or a field's value with Discord's markdown characters
// escaped, so a cause from the network cannot make a link or formatting of its own.
std::string discord_escape(std::string_view s);

// {"embeds": [one embed]}. One row: {"title": "DOWN portal-home", "description": the cause,
// "url": the monitor page, "color", "timestamp": when the event happened, "fields": monitor,
// state, since and, while open, the ack link, "footer"}. More: one embed whose title counts
// them and links the status page, a line per shown notice in its description, and "... and N
// more": a single embed keeps far below Discord's 6000 characters a message whatever the
// causes, and reads as one alert, where ten embeds would fill the screen. A post's event: its
// title linking its page, its latest update, and its status, impact and monitors as fields.
std::string discord_body(const Batch& rows, const std::string& public_url);

// The POST of that body to the channel's url.
HttpPost discord_request(const ChannelConfig& c, const Batch& rows, const std::string& public_url);

// A 2xx is delivered (204 without ?wait=true). A 429 is retried no sooner than the body's
// retry_after seconds and Retry-After, whichever is longer; 5xx are retried; other errors
// fail for good with Discord's message ("Unknown Webhook").
DeliveryOutcome discord_outcome(CURLcode code, long status, const std::string& answer);

class DiscordChannel final : public CurlChannel {
 public:
  using CurlChannel::CurlChannel;
  void send(const std::vector<OutboxRow>& rows, Done done) override;
};

}  // namespace lookout
