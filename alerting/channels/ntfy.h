// The ntfy channel: the message's plain text POSTed to a topic, everything else in headers
// (Title, Priority, Tags, Click, Actions). The request is a pure function of the rows
// (ntfy_request); NtfyChannel only sends it.
#pragma once

#include <string>
#include <string_view>

#include "alerting/channels/curl_channel.h"
#include "alerting/channels/http_delivery.h"
#include "alerting/message.h"

namespace lookout {

// The POST to the topic's url. One row: the body is Notice::text(); Title the notice's title;
// Priority down 5, degraded 4, else 3; Tags rotating_light (down), warning (degraded), eyes
// (acknowledged), white_check_mark (resolved) or test_tube; Click the monitor page (the status
// page for a test); while the incident is open, Actions: a view button to the ack link. More
// rows: the Digest's title and text, the worst row's priority and tag, Click the status page.
// A post's event: Priority 3, Tags loudspeaker (white_check_mark once resolved), Click its
// page. With a token, Authorization: Bearer.
HttpPost ntfy_request(const ChannelConfig& c, const Batch& rows, const std::string& public_url);

// http_outcome, with ntfy's error answer {"code":40301,"http":403,"error":"forbidden"} quoted as
// "HTTP 403: forbidden (40301)".
DeliveryOutcome ntfy_outcome(CURLcode code, long status, const std::string& answer);

class NtfyChannel final : public CurlChannel {
 public:
  using CurlChannel::CurlChannel;
  void send(const std::vector<OutboxRow>& rows, Done done) override;
};

}  // namespace lookout
