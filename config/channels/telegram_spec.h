// The telegram channel's keys: a bot's sendMessage to one chat (alerting/channels/telegram).
#pragma once

#include "config/config.h"

namespace lookout {

struct TelegramSpec : ChannelSpec {
  Secret bot_token;  // "123456:ABC...", from @BotFather; the Bot API wants it in the path
  Secret chat_id;    // a number ("-1001234567890" for a group) or "@channelname"
};

}  // namespace lookout
