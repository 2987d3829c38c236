// The opsgenie channel's keys: the Alert API, one alert per incident
// (alerting/channels/opsgenie).
#pragma once

#include <string>
#include <vector>

#include "config/config.h"

namespace lookout {

// Who Opsgenie notifies, written "team:NAME", "user:USERNAME", "escalation:NAME" or
// "schedule:NAME".
struct OpsgenieResponder {
  std::string type;  // team | user | escalation | schedule
  std::string name;  // for a user, the username (an email address)
};

struct OpsgenieSpec : ChannelSpec {
  Secret api_key;  // the key of an API integration, sent as "Authorization: GenieKey KEY"
  // Empty: the integration's own team and rules decide.
  std::vector<OpsgenieResponder> responders;
};

}  // namespace lookout
