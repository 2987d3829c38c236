// The mails status-page subscribers get, as pure functions of their outbox row (its payload:
// alerting/subscribers.h): the confirmation of a subscription, an opening or resolution of a
// public monitor's incident, and a post or its update. Written for stakeholders, not on-call:
// no ack link, no route; every mail about the service carries List-Unsubscribe and
// List-Unsubscribe-Post (RFC 8058), so that mail clients offer one-click unsubscribing, and the
// link in its text.
#pragma once

#include <string>

#include "core/clock.h"
#include "store/records.h"

namespace lookout {

// A complete RFC 5322 message from `from` to the row's recipient (CRLF line ends; no line over
// 998 bytes, as 8bit text requires).
std::string subscriber_message(const std::string& from, const OutboxRow& row, WallTime now);

}  // namespace lookout
