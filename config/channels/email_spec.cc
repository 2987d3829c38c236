#include "config/channels/email_spec.h"

#include "config/channels/registry.h"

namespace lookout::config_detail {
namespace {

const std::set<std::string>& email_keys() {
  static const std::set<std::string> k{"smtp_url", "starttls", "username",
                                       "password", "from",     "to"};
  return k;
}

std::shared_ptr<const ChannelSpec> parse_email(ChannelKeys& k) {
  auto spec = std::make_shared<EmailSpec>();
  Parser& p = k.parser();
  k.url("smtp_url", {"smtp://", "smtps://"});
  if (const auto* n = k.table().get("starttls")) {
    if (const auto* b = n->as_boolean()) {
      spec->starttls = b->get();
    } else if (auto v = p.plain_text(*n, "starttls")) {
      if (*v == "off") {
        spec->starttls = false;
      } else if (*v == "required" || *v == "on") {
        spec->starttls = true;
      } else {
        p.error(n->source(), "starttls must be \"off\", \"required\", true or false");
      }
    }
  }
  if (const auto* n = k.table().get("username")) spec->username = p.text(*n, "username");
  spec->password = k.optional_credential("password");
  spec->from = k.text("from");
  k.recipients();
  return spec;
}

}  // namespace

extern const ChannelParser kEmailChannel{"email", &email_keys, &parse_email};

}  // namespace lookout::config_detail
