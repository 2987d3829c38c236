#include "config/channels/pagerduty_spec.h"

#include "config/channels/registry.h"

namespace lookout::config_detail {
namespace {

const std::set<std::string>& pagerduty_keys() {
  static const std::set<std::string> k{"url", "routing_key", "webhook_secret"};
  return k;
}

std::shared_ptr<const ChannelSpec> parse_pagerduty(ChannelKeys& k) {
  auto spec = std::make_shared<PagerDutySpec>();
  k.url("url", {"https://", "http://"}, "https://events.pagerduty.com");
  if (auto v = k.credential("routing_key")) spec->routing_key = std::move(*v);
  spec->webhook_secret = k.optional_credential("webhook_secret");
  return spec;
}

}  // namespace

extern const ChannelParser kPagerDutyChannel{"pagerduty", &pagerduty_keys, &parse_pagerduty};

}  // namespace lookout::config_detail
