#include "config/channels/sms_spec.h"

#include <fmt/format.h>

#include "config/channels/registry.h"

namespace lookout::config_detail {
namespace {

const std::set<std::string>& sms_keys() {
  static const std::set<std::string> k{"provider", "url", "account",      "token",
                                       "from",     "to",  "body_template"};
  return k;
}

std::shared_ptr<const ChannelSpec> parse_sms(ChannelKeys& k) {
  auto spec = std::make_shared<SmsSpec>();
  Parser& p = k.parser();
  if (const auto* n = k.required("provider")) {
    if (auto v =
            p.one_of<std::string>(*n, "provider", {{"twilio", "twilio"}, {"generic", "generic"}}))
      spec->provider = *v;
  }
  if (spec->provider == "twilio") {
    k.url("url", {"http://", "https://"}, "https://api.twilio.com");
  } else {
    k.url("url", {"http://", "https://"});
  }
  if (const auto* n = k.table().get("account")) spec->account = p.text(*n, "account");
  spec->token = k.optional_credential("token");
  if (spec->provider == "twilio" && (!spec->account || !spec->token)) {
    p.error(k.table().source(),
            fmt::format("twilio channel \"{}\" needs account and token", k.channel().name));
  }
  spec->from = k.text("from");
  k.recipients();
  spec->body_template = k.optional_text("body_template");
  return spec;
}

}  // namespace

extern const ChannelParser kSmsChannel{"sms", &sms_keys, &parse_sms};

}  // namespace lookout::config_detail
