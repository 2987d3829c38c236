// What providers send back: an acknowledgement made in PagerDuty (a v3 webhook) or in Pushover
// (an emergency message's receipt callback) acknowledges the lookout incident, as the ack link
// does, so escalation stops wherever the human answered. Pure: verified and read here, applied
// by the server through the same acknowledge call as the API.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/secret.h"

namespace lookout {

// True when one of the "v1=<hex HMAC-SHA256 of the body>" signatures in the
// X-PagerDuty-Signature header (several, comma-separated, while a secret is rotated) was made
// with one of `secrets`. Compared in constant time.
bool pagerduty_signature_ok(std::string_view body, std::string_view header,
                            const std::vector<Secret>& secrets);

// The lookout incident a verified v3 webhook acknowledges: an "incident.acknowledged" event
// whose incident_key is "lookout-<id>" (the dedup key the pagerduty channel sends). Anything
// else (other events, incidents lookout did not open, a body that does not parse) is nullopt:
// answered 200 and ignored, as PagerDuty expects of a subscriber.
std::optional<int64_t> pagerduty_acknowledged_incident(std::string_view body);

// Pushover's receipt callback (a form POST) means acknowledged when it carries
// acknowledged=1.
bool pushover_callback_acknowledged(std::string_view form_body);

}  // namespace lookout
