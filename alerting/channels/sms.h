// The SMS channel: each recipient's rows as at most two texts, each POSTed to the provider
// (Twilio's form API, or a generic JSON one). The texts and the requests are pure functions of
// the rows (sms_messages, sms_request); SmsChannel only sends them, one after the other.
#pragma once

#include <string>
#include <vector>

#include "alerting/channels/curl_channel.h"
#include "alerting/channels/http_delivery.h"
#include "alerting/message.h"

namespace lookout {

// "DOWN portal-home 503 since 10:42Z ack: https://..." split into at most two messages of at
// most 160 characters; what does not fit is cut with "...". A post's event: "POST [major]
// Database failover: investigating - <its update> <its page>", the title cut to 100 and the
// update to 60 characters, split between words.
std::vector<std::string> sms_messages(const OutboxRow& row);
// One row: the messages above. More: "480 DOWN, 20 DEGRADED: api-001 api-002 ... +470 more
// <status page>", as many names as two messages hold, split between names.
std::vector<std::string> sms_messages(const Batch& rows, const std::string& public_url);

// The POST of one text to one recipient. twilio: a form (To, From, Body) to
// {url}/2010-04-01/Accounts/{account}/Messages.json with the account and token as basic auth.
// generic: body_template (or {"to","from","message"}) with {{to}}, {{from}} and {{message}}
// JSON-escaped, to url, with the token as a bearer token when there is one.
HttpPost sms_request(const ChannelConfig& c, const std::string& recipient, const std::string& text);

class SmsChannel final : public CurlChannel {
 public:
  using CurlChannel::CurlChannel;
  void send(const std::vector<OutboxRow>& rows, Done done) override;

 private:
  // Sends parts[i] and, once it is delivered, the next; the outcome is the first failure or the
  // last part's delivery.
  void send_part(const std::string& recipient, std::vector<std::string> parts, size_t i, Done done);
};

}  // namespace lookout
