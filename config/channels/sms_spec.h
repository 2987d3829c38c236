// The sms channel's keys: Twilio's Messages API or a generic JSON POST, a message per number
// (alerting/channels/sms).
#pragma once

#include <optional>
#include <string>

#include "config/config.h"

namespace lookout {

struct SmsSpec : ChannelSpec {
  std::string provider;  // twilio | generic
  std::optional<Secret> account, token;
  std::string from;
  std::string body_template;  // generic: JSON with {{to}}, {{from}}, {{message}}
};

}  // namespace lookout
