// The pagerduty channel: Events API v2. Each incident is one PagerDuty alert under the dedup key
// "lookout-<incident id>", which its events trigger, acknowledge and resolve; a status-page
// post is a change event, which pages nobody. The events and the
// requests are pure functions of the rows (pagerduty_events, pagerduty_requests); the channel
// only sends them, one after the other.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "alerting/channels/curl_channel.h"
#include "alerting/channels/http_delivery.h"
#include "alerting/message.h"

namespace lookout {

// The Events API v2 events of one row, each without its routing_key: opened, updated, escalated
// and reminder trigger (down: critical, degraded: warning), acknowledged acknowledges, resolved
// resolves; a test triggers and then resolves "lookout-test-<event id>".
std::vector<nlohmann::json> pagerduty_events(const OutboxRow& row, const std::string& public_url);

// A post's event (incident.posted, incident.post_updated) as an Events API v2 change event,
// without its routing_key: {"payload": {"summary": the post's title line (at most 1024
// characters), "timestamp", "source": "lookout", "custom_details": {"post_id", "status",
// "impact", "monitors", "update", "created_at", "resolved_at"}}, "links": [its page]}. A change
// event pages nobody: PagerDuty shows it on the service's timeline and beside its incidents.
nlohmann::json pagerduty_change_event(const OutboxRow& row, const std::string& public_url);

// One POST {url}/v2/enqueue per event of each row, in the order the events happened; a post's
// change event goes to {url}/v2/change/enqueue.
std::vector<HttpPost> pagerduty_requests(const ChannelConfig& c, const Batch& rows,
                                         const std::string& public_url);

// 202 is delivered; a 400 ("invalid event") fails for good with PagerDuty's message and errors;
// 429 and 5xx are retried.
DeliveryOutcome pagerduty_outcome(CURLcode code, long status, const std::string& answer);

class PagerDutyChannel final : public CurlChannel {
 public:
  using CurlChannel::CurlChannel;
  void send(const std::vector<OutboxRow>& rows, Done done) override;
};

}  // namespace lookout
