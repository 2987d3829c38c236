#include "config/channels/opsgenie_spec.h"

#include <fmt/format.h>

#include "config/channels/registry.h"

namespace lookout::config_detail {
namespace {

const std::set<std::string>& opsgenie_keys() {
  static const std::set<std::string> k{"url", "api_key", "responders"};
  return k;
}

std::shared_ptr<const ChannelSpec> parse_opsgenie(ChannelKeys& k) {
  auto spec = std::make_shared<OpsgenieSpec>();
  Parser& p = k.parser();
  // Opsgenie's EU accounts (api.eu.opsgenie.com) and Jira Service Management's compatible base
  // are set here.
  k.url("url", {"https://", "http://"}, "https://api.opsgenie.com");
  if (auto v = k.credential("api_key")) spec->api_key = std::move(*v);
  if (const auto* n = k.table().get("responders")) {
    for (const toml::node* item : list_items(*n)) {
      const auto text = p.plain_text(*item, "responders");
      if (!text) continue;
      const size_t colon = text->find(':');
      const std::string type = text->substr(0, colon);
      if (colon == std::string::npos || colon + 1 == text->size() ||
          (type != "team" && type != "user" && type != "escalation" && type != "schedule")) {
        p.error(item->source(), fmt::format("responder \"{}\" is not team:NAME, user:USERNAME, "
                                            "escalation:NAME or schedule:NAME",
                                            *text));
        continue;
      }
      spec->responders.push_back({type, text->substr(colon + 1)});
    }
  }
  return spec;
}

}  // namespace

extern const ChannelParser kOpsgenieChannel{"opsgenie", &opsgenie_keys, &parse_opsgenie, false};

}  // namespace lookout::config_detail
