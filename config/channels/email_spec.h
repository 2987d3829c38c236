// The email channel's keys: one SMTP submission per batch (alerting/channels/email).
#pragma once

#include <optional>
#include <string>

#include "config/config.h"

namespace lookout {

struct EmailSpec : ChannelSpec {
  bool starttls = true;  // smtp:// requires STARTTLS unless false
  std::optional<Secret> username, password;
  std::string from;
};

}  // namespace lookout
