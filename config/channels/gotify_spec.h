// The gotify channel's keys: the message API of a Gotify server (alerting/channels/gotify).
#pragma once

#include "config/config.h"

namespace lookout {

struct GotifySpec : ChannelSpec {
  Secret token;  // an application token (X-Gotify-Key)
};

}  // namespace lookout
