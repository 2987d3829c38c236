// The gotify channel: a JSON message to a Gotify server's message API, authorised by an
// application token. The request is a pure function of the rows (gotify_request);
// GotifyChannel only sends it.
#pragma once

#include <string>

#include "alerting/channels/curl_channel.h"
#include "alerting/channels/http_delivery.h"
#include "alerting/message.h"

namespace lookout {

// {"title","message","priority","extras":{"client::display":{"contentType":"text/plain"},
// "client::notification":{"click":{"url"}}}}. One row: the notice's title and text, priority
// down 8, degraded 5, else 2, click to the monitor page (the status page for a test); a post's
// event priority 4 (2 once resolved) and click to its page. More rows: the Digest's title and
// text, the worst row's priority, click to the status page.
std::string gotify_body(const Batch& rows, const std::string& public_url);

// POST {url}/message with X-Gotify-Key: <token> and the body above.
HttpPost gotify_request(const ChannelConfig& c, const Batch& rows, const std::string& public_url);

// http_outcome, with Gotify's error answer {"error":"Unauthorized","errorCode":401,
// "errorDescription":"..."} quoted as "HTTP 401: Unauthorized: ...".
DeliveryOutcome gotify_outcome(CURLcode code, long status, const std::string& answer);

class GotifyChannel final : public CurlChannel {
 public:
  using CurlChannel::CurlChannel;
  void send(const std::vector<OutboxRow>& rows, Done done) override;
};

}  // namespace lookout
