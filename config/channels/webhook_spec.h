// The webhook channel's keys: a signed JSON POST per batch (alerting/channels/webhook).
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "config/config.h"

namespace lookout {

struct WebhookSpec : ChannelSpec {
  std::optional<Secret> secret;  // signs the body (X-Lookout-Signature)
  std::vector<std::pair<std::string, Secret>> headers;
};

}  // namespace lookout
