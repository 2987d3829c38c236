#include "alerting/channels/subscriber_mail.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "alerting/channels/email.h"
#include "alerting/channels/utf8_text.h"
#include "alerting/message.h"

namespace lookout {
namespace {

std::string capitalized(std::string s) {
  if (!s.empty() && s[0] >= 'a' && s[0] <= 'z') s[0] = static_cast<char>(s[0] - 'a' + 'A');
  return s;
}

// one_line() cut at a character: a title or cause beyond ASCII cut to length stays UTF-8 in
// the body and in the Subject.
std::string text_line(const std::string& s, size_t max) {
  return utf8_cut(one_line(s, s.size()), max);
}

// What the payload has under `key`; null when it is not there (or the payload is no object).
const nlohmann::json& member(const nlohmann::json& j, const char* key) {
  static const nlohmann::json kAbsent;
  if (!j.is_object()) return kAbsent;
  const auto it = j.find(key);
  return it == j.end() ? kAbsent : *it;
}

struct Mail {
  std::string subject, body;
};

Mail confirm_mail(const nlohmann::json& p) {
  const std::string title = text_line(incident_field(p, "title"), 200);
  return {fmt::format("Confirm your subscription to {}", title),
          fmt::format("Someone, most likely you, asked for mail about {} ({}).\r\n\r\n"
                      "To confirm, open this link and press the button:\r\n{}\r\n\r\n"
                      "The link works for 7 days. If you did not ask, ignore this mail: "
                      "nothing more will come.\r\n",
                      title, incident_field(p, "page_url"), incident_field(p, "confirm_url"))};
}

Mail incident_mail(const nlohmann::json& p) {
  const nlohmann::json& inc = member(p, "incident");
  const std::string monitor = text_line(incident_field(inc, "monitor"), 200);
  const std::string state = incident_field(inc, "state");
  const bool resolved = state == "up";
  Mail m;
  m.subject = fmt::format("[{}] {} {}", text_line(incident_field(p, "title"), 100), monitor,
                          resolved ? "is up again" : "is " + state);
  m.body = resolved
               ? fmt::format("{} is up again since {} (the incident began {}).\r\n", monitor,
                             incident_field(inc, "resolved_at"), incident_field(inc, "started_at"))
               : fmt::format("{} is {} since {}: {}\r\n", monitor, state,
                             incident_field(inc, "started_at"),
                             text_line(incident_field(inc, "cause"), 500));
  m.body += fmt::format("\r\nDetails: {}\r\n", incident_field(inc, "url"));
  return m;
}

Mail post_mail(const nlohmann::json& p) {
  const PostNotice post = post_notice(member(p, "post"));
  return {fmt::format("[{}] {}: {}", text_line(incident_field(p, "title"), 100),
                      capitalized(post.status), post.title),
          post_mail_body(post)};
}

}  // namespace

std::string subscriber_message(const std::string& from, const OutboxRow& row, WallTime now) {
  const auto p = nlohmann::json::parse(row.payload, nullptr, false);
  const std::string kind = incident_field(p, "kind");
  const Mail m = kind == "confirm"    ? confirm_mail(p)
                 : kind == "incident" ? incident_mail(p)
                                      : post_mail(p);
  std::string extra, footer;
  if (kind != "confirm") {
    const std::string unsubscribe = incident_field(p, "unsubscribe_url");
    extra = fmt::format(
        "List-Unsubscribe: <{}>\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n",
        unsubscribe);
    footer = fmt::format(
        "\r\n-- \r\nYou get this mail because you subscribed to {} ({}).\r\n"
        "Unsubscribe: {}\r\n",
        text_line(incident_field(p, "title"), 200), incident_field(p, "page_url"), unsubscribe);
  }
  extra += "Auto-Submitted: auto-generated\r\n";
  return mail_header(from, row.recipient, row.id, text_line(m.subject, 250), row.event, now,
                     extra) +
         m.body + footer;
}

}  // namespace lookout
