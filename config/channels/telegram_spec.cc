#include "config/channels/telegram_spec.h"

#include <fmt/format.h>
#include <re2/re2.h>

#include "config/channels/registry.h"

namespace lookout::config_detail {
namespace {

const std::set<std::string>& telegram_keys() {
  static const std::set<std::string> k{"url", "bot_token", "chat_id"};
  return k;
}

// Telegram shows chat ids as numbers, and people paste them as TOML integers.
std::optional<Secret> chat_id(Parser& p, const toml::node& n) {
  if (const auto* i = n.as_integer()) return Secret::plain(std::to_string(i->get()));
  auto v = p.text(n, "chat_id");
  if (!v) return std::nullopt;
  static const RE2 kChat(R"(-?[0-9]+|@[A-Za-z0-9_]{4,})");
  if (!RE2::FullMatch(v->reveal(), kChat)) {
    p.error(n.source(),
            fmt::format("chat_id {} must be a chat's number (-1001234567890) or @channelname",
                        v->shown()));
    return std::nullopt;
  }
  return v;
}

std::shared_ptr<const ChannelSpec> parse_telegram(ChannelKeys& k) {
  auto spec = std::make_shared<TelegramSpec>();
  k.url("url", {"https://", "http://"}, "https://api.telegram.org");
  if (auto v = k.credential("bot_token")) spec->bot_token = std::move(*v);
  if (const auto* n = k.required("chat_id")) {
    if (auto v = chat_id(k.parser(), *n)) spec->chat_id = std::move(*v);
  }
  return spec;
}

}  // namespace

extern const ChannelParser kTelegramChannel{"telegram", &telegram_keys, &parse_telegram};

}  // namespace lookout::config_detail
