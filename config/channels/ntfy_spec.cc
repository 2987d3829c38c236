#include "config/channels/ntfy_spec.h"

#include <fmt/format.h>

#include "config/channels/registry.h"

namespace lookout::config_detail {
namespace {

const std::set<std::string>& ntfy_keys() {
  static const std::set<std::string> k{"url", "token"};
  return k;
}

// ntfy publishes plain text only to a topic's URL; a POST to the server's root expects JSON.
// What is no URL with a host at all is left to ChannelKeys::url, which reports it once.
bool names_topic(const std::string& url) {
  const size_t scheme = url.find("://");
  if (scheme == std::string::npos || url.size() <= scheme + 3 || url[scheme + 3] == '/')
    return true;
  const size_t slash = url.find('/', scheme + 3);
  return slash != std::string::npos && slash + 1 < url.size() && url[slash + 1] != '?';
}

std::shared_ptr<const ChannelSpec> parse_ntfy(ChannelKeys& k) {
  auto spec = std::make_shared<NtfySpec>();
  k.url("url", {"https://", "http://"});
  const auto* n = k.table().get("url");
  if (n != nullptr && !k.channel().url.empty() && !names_topic(k.channel().url.reveal())) {
    k.parser().error(n->source(), fmt::format("ntfy url {} must name a topic: https://SERVER/TOPIC",
                                              k.channel().url.shown()));
  }
  spec->token = k.optional_credential("token");
  return spec;
}

}  // namespace

extern const ChannelParser kNtfyChannel{"ntfy", &ntfy_keys, &parse_ntfy};

}  // namespace lookout::config_detail
