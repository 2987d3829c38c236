#include "config/channels/webhook_spec.h"

#include <fmt/format.h>

#include "config/channels/registry.h"

namespace lookout::config_detail {
namespace {

const std::set<std::string>& webhook_keys() {
  static const std::set<std::string> k{"url", "secret", "headers"};
  return k;
}

std::shared_ptr<const ChannelSpec> parse_webhook(ChannelKeys& k) {
  auto spec = std::make_shared<WebhookSpec>();
  Parser& p = k.parser();
  k.url("url", {"http://", "https://"});
  spec->secret = k.optional_credential("secret");
  if (const auto* n = k.table().get("headers")) {
    if (const auto* h = n->as_table()) {
      for (const auto& [key, v] : *h) {
        if (auto value = p.named_value(v, key.str(), fmt::format("headers.{}", key.str()))) {
          spec->headers.emplace_back(std::string(key.str()), *value);
        }
      }
    } else {
      p.error(n->source(), "headers must be a table");
    }
  }
  return spec;
}

}  // namespace

extern const ChannelParser kWebhookChannel{"webhook", &webhook_keys, &parse_webhook};

}  // namespace lookout::config_detail
