// What each channel says, as pure functions of an outbox row: the webhook's JSON body, the
// email message, the SMS text.
#pragma once

#include <string>
#include <vector>

#include "alerting/incidents.h"
#include "daemon/clock.h"
#include "daemon/config.h"

namespace lookout {

// {"version":1,"id","event","sent_at","incident":{...}|null}
std::string webhook_body(const OutboxRow& row, WallTime sent_at);

// "[DOWN] portal-home: expected status 200, got 503"; one line, at most 200 characters.
std::string headline(const OutboxRow& row);

// A complete RFC 5322 message (CRLF line ends, dot-stuffing left to the SMTP client).
std::string email_message(const ChannelConfig& c, const OutboxRow& row, const std::string& public_url, WallTime now);

// "DOWN portal-home 503 since 10:42Z ack: https://..." split into at most two messages of at
// most 160 characters; what does not fit is cut with "...".
std::vector<std::string> sms_messages(const OutboxRow& row);

// HMAC-SHA256 of the body with the secret, as the X-Lookout-Signature value "sha256=<hex>".
std::string webhook_signature(const std::string& secret, const std::string& body);

}  // namespace lookout
