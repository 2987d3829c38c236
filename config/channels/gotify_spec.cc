#include "config/channels/gotify_spec.h"

#include "config/channels/registry.h"

namespace lookout::config_detail {
namespace {

const std::set<std::string>& gotify_keys() {
  static const std::set<std::string> k{"url", "token"};
  return k;
}

std::shared_ptr<const ChannelSpec> parse_gotify(ChannelKeys& k) {
  auto spec = std::make_shared<GotifySpec>();
  // Gotify is self-hosted: there is no public server to fall back to.
  k.url("url", {"https://", "http://"});
  if (auto v = k.credential("token")) spec->token = std::move(*v);
  return spec;
}

}  // namespace

extern const ChannelParser kGotifyChannel{"gotify", &gotify_keys, &parse_gotify};

}  // namespace lookout::config_detail
