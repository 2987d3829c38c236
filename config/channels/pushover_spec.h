// The pushover channel's keys: the Messages API, emergency priority while down
// (alerting/channels/pushover).
#pragma once

#include "config/config.h"

namespace lookout {

struct PushoverSpec : ChannelSpec {
  Secret token;  // the application's API token
  Secret user;   // the user or group key
  // Emergency messages ask Pushover to call public_url/hooks/pushover/<ack token> when someone
  // acknowledges them in the app, which acknowledges the incident in lookout too.
  bool callback = false;
};

}  // namespace lookout
