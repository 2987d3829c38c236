// The slack channel: a message with Block Kit blocks to an incoming webhook, whose URL is the
// credential. The body is a pure function of the rows (slack_body), and so is the reading of
// Slack's answer (slack_outcome); SlackChannel only sends what they make.
#pragma once

#include <string>
#include <string_view>

#include "alerting/channels/curl_channel.h"
#include "alerting/channels/http_delivery.h"
#include "alerting/message.h"

namespace lookout {

// Text for mrkdwn with &, < and > as Slack's entities, so a cause from the network cannot make
// a link or a mention (<!channel>) of its own.
std::string slack_escape(std::string_view s);

// One row: {"text": the title (what a notification shows), "blocks": [a header, the monitor,
// state, since and cause fields, a context line, and buttons to the monitor page and, while
// open, the ack link]}. More: a header of the counts, a line per shown notice, "... and N
// more" and a button to the status page. A post's event: its title, its status, impact,
// monitors and when as fields, its latest update and a button to its page.
std::string slack_body(const Batch& rows, const std::string& public_url);

// The POST of that body to the channel's url, with Content-Type and User-Agent.
HttpPost slack_request(const ChannelConfig& c, const Batch& rows, const std::string& public_url);

// Slack answers 200 "ok" for a posted message and nothing else: another 2xx is not Slack and
// fails rather than pass for a delivery. Its errors (400 invalid_payload, 403 invalid_token,
// 404 no_service, 410 channel_is_archived) fail for good; 429 and 5xx are retried.
DeliveryOutcome slack_outcome(CURLcode code, long status, const std::string& answer);

class SlackChannel final : public CurlChannel {
 public:
  using CurlChannel::CurlChannel;
  void send(const std::vector<OutboxRow>& rows, Done done) override;
};

}  // namespace lookout
