// The webhook channel: a signed JSON POST per batch. The body, headers and signature are pure
// functions of the rows (webhook_request); WebhookChannel only sends what they make.
#pragma once

#include <string>

#include "alerting/channels/curl_channel.h"
#include "alerting/channels/http_delivery.h"
#include "alerting/message.h"

namespace lookout {

// {"version":1,"id","event","sent_at","incident":{...}|null}; a post's event (incident.posted,
// incident.post_updated) has "incident": null and "post": {...} (post_json).
std::string webhook_body(const OutboxRow& row, WallTime sent_at);
// One row: the single body above. More: {"version":1,"id":"grp_...","event":"group","sent_at",
// "route","count","counts":{event:n},"status_url","events":[{"id","event","incident"}]} (a
// post's with its "post"), every event with its own id, so a receiver that de-duplicates by
// event id keeps working.
std::string webhook_body(const Batch& rows, WallTime sent_at, const std::string& public_url);

// HMAC-SHA256 of the body with the secret, as the X-Lookout-Signature value "sha256=<hex>".
std::string webhook_signature(const std::string& secret, const std::string& body);

// The POST to the channel's url: the body, Content-Type, User-Agent, Idempotency-Key (the
// notification's id), X-Lookout-Event, X-Lookout-Signature when the channel has a secret, and
// then the channel's own headers.
HttpPost webhook_request(const ChannelConfig& c, const Batch& rows, WallTime sent_at,
                         const std::string& public_url);

class WebhookChannel final : public CurlChannel {
 public:
  using CurlChannel::CurlChannel;
  void send(const std::vector<OutboxRow>& rows, Done done) override;
};

}  // namespace lookout
