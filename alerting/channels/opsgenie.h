// The opsgenie channel: the Alert API. Each incident is one Opsgenie alert under the alias
// "lookout-<incident id>": its events create, acknowledge and close it. The requests are pure
// functions of the rows (opsgenie_requests); the channel only sends them, one after the other.
#pragma once

#include <string>
#include <vector>

#include "alerting/channels/curl_channel.h"
#include "alerting/channels/http_delivery.h"
#include "alerting/message.h"

namespace lookout {

// The requests of one row, with "Authorization: GenieKey KEY":
// opened, updated, escalated, reminder: POST {url}/v2/alerts {message (at most 130 chars),
//   alias, description, responders, tags, details, entity, priority (down P1, degraded P3),
//   source}; Opsgenie de-duplicates a create of an open alias (its count goes up);
// acknowledged: POST {url}/v2/alerts/<alias>/acknowledge?identifierType=alias {source, user,
//   note}; resolved: the same to .../close;
// test: a create of "lookout-test-<event id>" (P5), then its close; a post's event: none.
std::vector<HttpPost> opsgenie_requests(const ChannelConfig& c, const OutboxRow& row,
                                        const std::string& public_url);
// Each row's requests, in the order the events happened.
std::vector<HttpPost> opsgenie_requests(const ChannelConfig& c, const Batch& rows,
                                        const std::string& public_url);

// 202 is delivered; 400, 401, 403, 404 and 422 fail for good with Opsgenie's message; 429 and
// 5xx are retried.
DeliveryOutcome opsgenie_outcome(CURLcode code, long status, const std::string& answer);

class OpsgenieChannel final : public CurlChannel {
 public:
  using CurlChannel::CurlChannel;
  void send(const std::vector<OutboxRow>& rows, Done done) override;
};

}  // namespace lookout
