#include "web/subscribe_pages.h"

#include <fmt/format.h>

#include "web/pages.h"
#include "web/svg.h"

namespace lookout {
namespace {

std::string subscribe_form() {
  return "<form method=\"post\" action=\"/subscribe\" class=\"subscribe\"><label for=\"email\">"
         "Email address</label> <input type=\"email\" id=\"email\" name=\"email\" "
         "required=\"required\" maxlength=\"254\" autocomplete=\"email\"/> <button "
         "type=\"submit\">Subscribe</button></form>";
}

std::string button(const std::string& action, const char* label) {
  return fmt::format(
      "<form method=\"post\" action=\"{}\"><button type=\"submit\">{}</button></form>",
      xml_escape(action), label);
}

}  // namespace

std::string render_subscribe_page(SubscribePage which, const std::string& title,
                                  const std::string& action) {
  std::string heading, body;
  switch (which) {
    case SubscribePage::kForm:
      heading = "Get updates by email";
      body = fmt::format(
          "<p>A mail when a notice about {} is posted or updated, and when a monitor of this "
          "page goes down or is up again. Every mail has a link to unsubscribe.</p>{}",
          xml_escape(title), subscribe_form());
      break;
    case SubscribePage::kCheckInbox:
      heading = "Check your inbox";
      body =
          "<p>If this address can be subscribed, a mail with a confirmation link is on its way. "
          "Nothing is sent about the service until the link is followed.</p>";
      break;
    case SubscribePage::kBadAddress:
      heading = "That address does not look right";
      body = "<p>Enter one email address, such as name@example.com.</p>" + subscribe_form();
      break;
    case SubscribePage::kConfirm:
      heading = "Confirm your subscription";
      body = fmt::format("<p>Press the button to get updates about {} by email.</p>{}",
                         xml_escape(title), button(action, "Confirm subscription"));
      break;
    case SubscribePage::kConfirmed:
      heading = "You are subscribed";
      body = fmt::format(
          "<p>You will get a mail about every notice and incident of {}. Each has a link to "
          "unsubscribe.</p>",
          xml_escape(title));
      break;
    case SubscribePage::kUnsubscribe:
      heading = "Unsubscribe";
      body = fmt::format("<p>Press the button to stop the mails about {}.</p>{}", xml_escape(title),
                         button(action, "Unsubscribe"));
      break;
    case SubscribePage::kUnsubscribed:
      heading = "You are unsubscribed";
      body = "<p>No more mail will be sent to this address, and it has been erased.</p>";
      break;
    case SubscribePage::kLinkInvalid:
      heading = "This link does not work";
      body =
          "<p>It is not valid, or it has expired (a confirmation link works for 7 days). "
          "<a href=\"/subscribe\">Subscribe again</a>.</p>";
      break;
  }
  return fmt::format(
      "{}<header><p><a href=\"/\">{}</a></p><h1>{}</h1></header><main>{}</main></body></html>\n",
      page_head(fmt::format("{}: {}", heading, title), false), xml_escape(title), heading, body);
}

}  // namespace lookout
