// The alertmanager channel's keys: alerts POSTed to an Alertmanager's v2 API
// (alerting/channels/alertmanager).
#pragma once

#include <optional>

#include "config/config.h"

namespace lookout {

struct AlertmanagerSpec : ChannelSpec {
  // Basic auth, for an Alertmanager behind a proxy (or web.config.file) that asks for it.
  std::optional<Secret> username, password;
};

}  // namespace lookout
