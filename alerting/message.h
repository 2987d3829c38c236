// What each channel says, as pure functions of an outbox row: the webhook's JSON body, the
// email message, the SMS text.
#pragma once

#include <string>
#include <vector>

#include "alerting/incidents.h"
#include "config/config.h"
#include "core/clock.h"

namespace lookout {

// {"version":1,"id","event","sent_at","incident":{...}|null}
std::string webhook_body(const OutboxRow& row, WallTime sent_at);

// "[DOWN] portal-home: expected status 200, got 503"; one line, at most 200 characters.
std::string headline(const OutboxRow& row);

// A complete RFC 5322 message (CRLF line ends, dot-stuffing left to the SMTP client).
std::string email_message(const ChannelConfig& c, const OutboxRow& row,
                          const std::string& public_url, WallTime now);

// "DOWN portal-home 503 since 10:42Z ack: https://..." split into at most two messages of at
// most 160 characters; what does not fit is cut with "...".
std::vector<std::string> sms_messages(const OutboxRow& row);

// A batch: the notifications of one group that go together, worst first (at least one row).
// One row renders exactly as the single forms above, so a quiet day looks as it always did;
// more render as one grouped message that counts them, lists the worst first and links to
// the status page. A grouped webhook keeps every event, with its own id, in `events`.
using Batch = std::vector<OutboxRow>;

// The row's id, or "grp_" + 32 hex digits derived from the ids (the same on every retry).
std::string notification_id(const Batch& rows);
// The row's event, or "group".
std::string notification_event(const Batch& rows);
// {"version":1,"id":"grp_...","event":"group","sent_at","route","count","counts":{event:n},
//  "status_url","events":[{"id","event","incident"}]}
std::string webhook_body(const Batch& rows, WallTime sent_at, const std::string& public_url);
// "[480 DOWN, 20 DEGRADED] api-1 and 499 more"
std::string headline(const Batch& rows);
std::string email_message(const ChannelConfig& c, const Batch& rows, const std::string& public_url,
                          WallTime now);
std::vector<std::string> sms_messages(const Batch& rows, const std::string& public_url);

// HMAC-SHA256 of the body with the secret, as the X-Lookout-Signature value "sha256=<hex>".
std::string webhook_signature(const std::string& secret, const std::string& body);

}  // namespace lookout
