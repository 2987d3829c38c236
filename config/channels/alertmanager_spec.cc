#include "config/channels/alertmanager_spec.h"

#include <fmt/format.h>

#include "config/channels/registry.h"

namespace lookout::config_detail {
namespace {

const std::set<std::string>& alertmanager_keys() {
  static const std::set<std::string> k{"url", "username", "password"};
  return k;
}

std::shared_ptr<const ChannelSpec> parse_alertmanager(ChannelKeys& k) {
  auto spec = std::make_shared<AlertmanagerSpec>();
  // No default: every Alertmanager is someone's own.
  k.url("url", {"https://", "http://"});
  spec->username = k.optional_credential("username");
  spec->password = k.optional_credential("password");
  if (spec->username.has_value() != spec->password.has_value()) {
    k.parser().error(k.table().source(),
                     fmt::format("alertmanager channel \"{}\" needs username and password together",
                                 k.channel().name));
  }
  return spec;
}

}  // namespace

extern const ChannelParser kAlertmanagerChannel{"alertmanager", &alertmanager_keys,
                                                &parse_alertmanager, false};

}  // namespace lookout::config_detail
