// The matrix channel's keys: a message to one room through the client-server API
// (alerting/channels/matrix).
#pragma once

#include "config/config.h"

namespace lookout {

struct MatrixSpec : ChannelSpec {
  Secret access_token;  // the sending account's, as "Authorization: Bearer"
  Secret room_id;       // "!opaque:server", not an alias ("#name:server")
};

}  // namespace lookout
