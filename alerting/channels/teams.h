// The teams channel: an Adaptive Card posted to a Power Automate workflow ("Post to a channel
// when a webhook request is received"), whose URL is the credential. The card is a pure
// function of the rows (teams_body); TeamsChannel only sends it.
#pragma once

#include <string>

#include "alerting/channels/curl_channel.h"
#include "alerting/channels/http_delivery.h"
#include "alerting/message.h"

namespace lookout {

// {"type": "message", "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive",
// "content": an AdaptiveCard 1.4}]}. One row: a title coloured by state (attention, warning,
// good), a FactSet of monitor, state, since and cause, a context line, and OpenUrl actions to
// the monitor page and, while open, the ack link. More: the counts, a line per shown notice,
// "... and N more" and an action to the status page. A post's event: its title, a FactSet of
// status, impact, monitors and when, its latest update and an action to its page.
std::string teams_body(const Batch& rows, const std::string& public_url);

// The POST of that body to the channel's url; any 2xx is delivered (a workflow answers 202).
HttpPost teams_request(const ChannelConfig& c, const Batch& rows, const std::string& public_url);

class TeamsChannel final : public CurlChannel {
 public:
  using CurlChannel::CurlChannel;
  void send(const std::vector<OutboxRow>& rows, Done done) override;
};

}  // namespace lookout
