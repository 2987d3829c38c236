// The pagerduty channel's keys: Events API v2, one alert per incident
// (alerting/channels/pagerduty).
#pragma once

#include <optional>

#include "config/config.h"

namespace lookout {

struct PagerDutySpec : ChannelSpec {
  Secret routing_key;  // the integration key of a service (Events API v2)
  // Signs the v3 webhooks PagerDuty sends to POST /hooks/pagerduty (X-PagerDuty-Signature), so
  // an acknowledgement in PagerDuty acknowledges the lookout incident.
  std::optional<Secret> webhook_secret;
};

}  // namespace lookout
