// The channel types the config knows: each type's file (config/channels/NAME_spec.cc) defines
// one ChannelParser, and registry.cc lists them. Internal to config/.
#pragma once

#include <initializer_list>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>

#include "config/config_parser.h"

namespace lookout::config_detail {

// One [[channel]] table as its type's parser reads it: each missing key the type needs is an
// error that names the channel, so `lookout check` lists them all at once.
class ChannelKeys {
 public:
  ChannelKeys(Parser& p, const toml::table& t, ChannelConfig& c, std::string_view type)
      : p_(p), t_(t), c_(c), type_(type) {}

  Parser& parser() { return p_; }
  const toml::table& table() const { return t_; }
  ChannelConfig& channel() { return c_; }
  // False once a key the type needs was missing.
  bool complete() const { return complete_; }

  // The node of `key`; when it is missing, an error at the table and null.
  const toml::node* required(std::string_view key);
  // A credential (${env:..}, ${file:..} or inline, masked everywhere): required or optional.
  std::optional<Secret> credential(std::string_view key);
  std::optional<Secret> optional_credential(std::string_view key);
  // A plain value: required or optional ("" when absent).
  std::string text(std::string_view key);
  std::string optional_text(std::string_view key);
  // The channel's `to`: a required, non-empty list of recipients.
  void recipients();
  // Sets the channel's url from `key`, which must be an absolute URL with one of `schemes` and
  // a host; when the key is absent, `fallback` (the provider's public API), or an error. A
  // chat webhook's URL is its credential.
  enum class UrlIs { kAddress, kCredential };
  void url(std::string_view key, std::initializer_list<std::string_view> schemes,
           std::optional<std::string_view> fallback = std::nullopt, UrlIs is = UrlIs::kAddress);

 private:
  Parser& p_;
  const toml::table& t_;
  ChannelConfig& c_;
  std::string_view type_;
  bool complete_ = true;
};

struct ChannelParser {
  std::string_view name;  // type = "NAME"
  // The type's own keys, beside those every channel takes.
  const std::set<std::string>& (*keys)();
  // Reads them (errors go to the parser) and returns the spec, or null for a type without one.
  std::shared_ptr<const ChannelSpec> (*parse)(ChannelKeys& k);
  // Whether a status-page post may go to this type (a route with on_post). A provider that
  // keeps one alert per incident (Opsgenie, Alertmanager) has nothing a post could be.
  bool takes_posts = true;
};

std::span<const ChannelParser* const> channel_types();
const ChannelParser* find_channel_type(std::string_view name);
// "email, webhook, ... or gotify", for messages.
std::string channel_type_names();

}  // namespace lookout::config_detail
