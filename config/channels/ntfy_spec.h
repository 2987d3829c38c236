// The ntfy channel's keys: url is the server and topic (alerting/channels/ntfy).
#pragma once

#include <optional>

#include "config/config.h"

namespace lookout {

struct NtfySpec : ChannelSpec {
  std::optional<Secret> token;  // an access token, sent as Bearer
};

}  // namespace lookout
