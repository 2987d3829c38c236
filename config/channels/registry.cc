#include "config/channels/registry.h"

#include <fmt/format.h>

#include "core/text.h"

namespace lookout::config_detail {

const toml::node* ChannelKeys::required(std::string_view key) {
  const auto* n = t_.get(key);
  if (n == nullptr) {
    p_.error(t_.source(), fmt::format("{} channel \"{}\" needs {}", type_, c_.name, key));
    complete_ = false;
  }
  return n;
}

std::optional<Secret> ChannelKeys::credential(std::string_view key) {
  const auto* n = required(key);
  return n != nullptr ? p_.masked_credential(*n, key) : std::nullopt;
}

std::optional<Secret> ChannelKeys::optional_credential(std::string_view key) {
  const auto* n = t_.get(key);
  return n != nullptr ? p_.masked_credential(*n, key) : std::nullopt;
}

std::string ChannelKeys::text(std::string_view key) {
  const auto* n = required(key);
  return n != nullptr ? p_.plain_text(*n, key).value_or("") : "";
}

std::string ChannelKeys::optional_text(std::string_view key) {
  const auto* n = t_.get(key);
  return n != nullptr ? p_.plain_text(*n, key).value_or("") : "";
}

void ChannelKeys::recipients() {
  const auto* n = required("to");
  if (n == nullptr) return;
  auto v = p_.string_list(*n, "to");
  if (v && v->empty()) p_.error(n->source(), "to is empty");
  if (v) c_.to = std::move(*v);
}

void ChannelKeys::url(std::string_view key, std::initializer_list<std::string_view> schemes,
                      std::optional<std::string_view> fallback, UrlIs is) {
  const auto* n = fallback ? t_.get(key) : required(key);
  if (n == nullptr) {
    if (fallback) c_.url = Secret::plain(std::string(*fallback));
    return;
  }
  auto v = is == UrlIs::kCredential ? p_.masked_credential(*n, key) : p_.text(*n, key);
  if (!v) return;
  p_.check_url(*n, key, *v, schemes);
  c_.url = std::move(*v);
}

// One line per type, each defined in its own file...
extern const ChannelParser kEmailChannel;
extern const ChannelParser kWebhookChannel;
extern const ChannelParser kSmsChannel;
extern const ChannelParser kPagerDutyChannel;
extern const ChannelParser kOpsgenieChannel;
extern const ChannelParser kAlertmanagerChannel;
extern const ChannelParser kTelegramChannel;
extern const ChannelParser kMatrixChannel;
extern const ChannelParser kNtfyChannel;
extern const ChannelParser kPushoverChannel;
extern const ChannelParser kGotifyChannel;

namespace {

// ...but for the chat webhooks, whose URL is all they take (and the credential).
const std::set<std::string>& url_key() {
  static const std::set<std::string> k{"url"};
  return k;
}

std::shared_ptr<const ChannelSpec> url_only(ChannelKeys& k) {
  k.url("url", {"https://", "http://"}, std::nullopt, ChannelKeys::UrlIs::kCredential);
  return nullptr;
}

const ChannelParser kSlackChannel{"slack", &url_key, &url_only};
const ChannelParser kTeamsChannel{"teams", &url_key, &url_only};
const ChannelParser kDiscordChannel{"discord", &url_key, &url_only};

// clang-format off
const ChannelParser* const kTypes[] = {
    &kEmailChannel,
    &kWebhookChannel,
    &kSmsChannel,
    &kPagerDutyChannel,
    &kOpsgenieChannel,
    &kAlertmanagerChannel,
    &kSlackChannel,
    &kTeamsChannel,
    &kDiscordChannel,
    &kTelegramChannel,
    &kMatrixChannel,
    &kNtfyChannel,
    &kPushoverChannel,
    &kGotifyChannel,
};
// clang-format on

}  // namespace

std::span<const ChannelParser* const> channel_types() { return kTypes; }

const ChannelParser* find_channel_type(std::string_view name) {
  for (const ChannelParser* t : kTypes) {
    if (t->name == name) return t;
  }
  return nullptr;
}

std::string channel_type_names() {
  std::vector<std::string_view> names;
  for (const ChannelParser* t : kTypes) names.push_back(t->name);
  return or_list(names);
}

}  // namespace lookout::config_detail

namespace lookout {

std::vector<std::string> channel_kinds() {
  std::vector<std::string> out;
  for (const auto* t : config_detail::channel_types()) out.emplace_back(t->name);
  return out;
}

bool channel_takes_posts(std::string_view type) {
  const auto* t = config_detail::find_channel_type(type);
  return t != nullptr && t->takes_posts;
}

}  // namespace lookout
