// The telegram channel: a bot's sendMessage to one chat, in Telegram's HTML. The text, the
// request and the reading of the Bot API's answer are pure functions (telegram_text,
// telegram_request, telegram_outcome); TelegramChannel only sends what they make.
#pragma once

#include <string>

#include "alerting/channels/curl_channel.h"
#include "alerting/channels/http_delivery.h"
#include "alerting/message.h"

namespace lookout {

// The message in parse_mode HTML, every interpolated value escaped. One row: the title in bold,
// monitor, state, since, cause, a context line, and links to the monitor page and, while open,
// the ack link. More: the counts in bold, a line per shown notice, and "... and N more" with
// the status page. A post's event: its title, status, impact, monitors, latest update and a
// link to its page.
std::string telegram_text(const Batch& rows, const std::string& public_url);

// POST {url}/bot<bot_token>/sendMessage with {"chat_id", "text", "parse_mode": "HTML",
// "disable_web_page_preview": true}. The Bot API takes the token only in the path; the token
// is a secret of the config's redactor, so what a transfer reports is masked.
HttpPost telegram_request(const ChannelConfig& c, const Batch& rows, const std::string& public_url);

// Delivered only on 200 with "ok": true. A 429 is retried no sooner than the body's
// parameters.retry_after seconds and Retry-After, whichever is longer; a 5xx is retried, and
// any other error fails for good with the API's description ("Bad Request: chat not found").
DeliveryOutcome telegram_outcome(CURLcode code, long status, const std::string& answer);

class TelegramChannel final : public CurlChannel {
 public:
  using CurlChannel::CurlChannel;
  void send(const std::vector<OutboxRow>& rows, Done done) override;
};

}  // namespace lookout
