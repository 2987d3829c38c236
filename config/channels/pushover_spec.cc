#include "config/channels/pushover_spec.h"

#include "config/channels/registry.h"

namespace lookout::config_detail {
namespace {

const std::set<std::string>& pushover_keys() {
  static const std::set<std::string> k{"url", "token", "user", "callback"};
  return k;
}

std::shared_ptr<const ChannelSpec> parse_pushover(ChannelKeys& k) {
  auto spec = std::make_shared<PushoverSpec>();
  k.url("url", {"https://", "http://"}, "https://api.pushover.net");
  if (auto v = k.credential("token")) spec->token = std::move(*v);
  if (auto v = k.credential("user")) spec->user = std::move(*v);
  if (const auto* n = k.table().get("callback")) {
    if (auto v = k.parser().boolean(*n, "callback")) spec->callback = *v;
  }
  return spec;
}

}  // namespace

extern const ChannelParser kPushoverChannel{"pushover", &pushover_keys, &parse_pushover};

}  // namespace lookout::config_detail
