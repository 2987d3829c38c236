// The pushover channel: a form POST to Pushover's Messages API; a down incident is an
// emergency that rings until someone acknowledges it, and lookout stops the ringing once the
// incident is acknowledged or resolved. The requests, the judge and what an answer says are
// pure functions (pushover_*); PushoverChannel only sends them, cancels before the message.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "alerting/channels/curl_channel.h"
#include "alerting/channels/http_delivery.h"
#include "alerting/message.h"

namespace lookout {

// Pushover's priority of a row: 2 (emergency) for an open event of a down incident, 1 for a
// degraded one, 0 for acknowledgements, resolutions, posts and tests.
int pushover_priority(const OutboxRow& row);

// The incidents an emergency message of `rows` rings for, which its tags name
// (lookout-<id>): the row's, or those of a storm's shown rows that are down. Empty below
// priority 2.
std::vector<int64_t> pushover_ringing(const Batch& rows);

// POST {url}/1/messages.json, a form: token, user, title, message, url, url_title, priority,
// then for priority 2 retry=60, expire=3600, tags and (`callback = true`)
// callback=<public_url>/hooks/pushover/<ack token>, then timestamp (the newest row's time).
// One row: the notice's title and text, url the monitor page (the status page for a test, the
// post's page with url_title "Open post" for a post), the
// callback's token that of the row's ack link. More rows: the Digest's title and text, url the
// status page, the worst row's priority, and the callback's token one for every incident it
// rings for, signed with `ack_key` (none without a key), valid as long as an ack link made
// with the newest row.
HttpPost pushover_request(const ChannelConfig& c, const Batch& rows, const std::string& public_url,
                          const std::string& ack_key = "");

// The incidents whose emergency retries `rows` stop: those acknowledged or resolved.
std::vector<int64_t> pushover_cancels(const Batch& rows);

// POST {url}/1/receipts/<receipt>/cancel.json, form token.
HttpPost pushover_cancel_request(const ChannelConfig& c, const std::string& receipt);
// POST {url}/1/receipts/cancel_by_tag/lookout-<id>.json, form token: every emergency message
// of the incident, also those sent before a restart.
HttpPost pushover_cancel_by_tag_request(const ChannelConfig& c, int64_t incident_id);

// Delivered on 200 with "status": 1. Pushover's errors {"user":"invalid","errors":["user
// identifier is invalid"],"status":0,"request":"..."} are quoted ("HTTP 400: user identifier is
// invalid"); 429 (over the application's quota) and 5xx are retried, other answers are not.
DeliveryOutcome pushover_outcome(CURLcode code, long status, const std::string& answer);

// The receipt of an emergency message from its answer ("" when there is none or it is not
// Pushover's [A-Za-z0-9] form, which goes into a URL path).
std::string pushover_receipt(const std::string& answer);

class PushoverChannel final : public CurlChannel {
 public:
  using CurlChannel::CurlChannel;
  void send(const std::vector<OutboxRow>& rows, Done done) override;
  void sign_acks_with(const std::string& ack_key) override { ack_key_ = ack_key; }

 private:
  // Sends cancels[i], then the rest and the message. A cancel to retry retries the whole
  // notification (the ringing must stop before the all-clear); one refused (a receipt already
  // gone) does not hold the message back.
  void cancel_then_send(std::vector<HttpPost> cancels, size_t i, Batch rows, Done done);
  void remember(const std::vector<int64_t>& incidents, const std::string& receipt);

  // Receipts of the emergency messages this channel sent, by incident, until a cancel.
  std::map<int64_t, std::vector<std::string>> receipts_;
  std::string ack_key_;
};

}  // namespace lookout
