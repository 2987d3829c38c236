#include "alerting/channels/subscriber_mail.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "alerting/channels/email.h"
#include "alerting/channels/utf8_text.h"
#include "alerting/message.h"

namespace lookout {
namespace {

// RFC 5322 allows 998 bytes a line; longer lines of a post are broken here, at a character.
constexpr size_t kMailLineBytes = 900;

std::string field(const nlohmann::json& j, const char* key) {
  if (!j.is_object()) return "";
  const auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

// People's text (a post's body) as mail lines: CRLF ends, no other control characters, none
// longer than kMailLineBytes.
std::string mail_text(const std::string& text) {
  const std::string v = valid_utf8(text);
  std::string out;
  size_t line = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    const auto c = static_cast<unsigned char>(v[i]);
    if (c == '\r') continue;
    if (c == '\n') {
      out += "\r\n";
      line = 0;
      continue;
    }
    if (line >= kMailLineBytes && (c & 0xC0) != 0x80) {
      out += "\r\n";
      line = 0;
    }
    out += c < 0x20 && c != '\t' ? ' ' : static_cast<char>(c);
    ++line;
  }
  return out;
}

std::string capitalized(std::string s) {
  if (!s.empty() && s[0] >= 'a' && s[0] <= 'z') s[0] = static_cast<char>(s[0] - 'a' + 'A');
  return s;
}

struct Mail {
  std::string subject, body;
};

Mail confirm_mail(const nlohmann::json& p) {
  const std::string title = one_line(field(p, "title"), 200);
  return {fmt::format("Confirm your subscription to {}", title),
          fmt::format("Someone, most likely you, asked for mail about {} ({}).\r\n\r\n"
                      "To confirm, open this link and press the button:\r\n{}\r\n\r\n"
                      "The link works for 7 days. If you did not ask, ignore this mail: "
                      "nothing more will come.\r\n",
                      title, field(p, "page_url"), field(p, "confirm_url"))};
}

Mail incident_mail(const nlohmann::json& p) {
  const auto& inc = p["incident"];
  const std::string monitor = one_line(field(inc, "monitor"), 200);
  const std::string state = field(inc, "state");
  const bool resolved = state == "up";
  Mail m;
  m.subject = fmt::format("[{}] {} {}", one_line(field(p, "title"), 100), monitor,
                          resolved ? "is up again" : "is " + state);
  m.body = resolved ? fmt::format("{} is up again since {} (the incident began {}).\r\n",
                                  monitor, field(inc, "resolved_at"), field(inc, "started_at"))
                    : fmt::format("{} is {} since {}: {}\r\n", monitor, state,
                                  field(inc, "started_at"), one_line(field(inc, "cause"), 500));
  m.body += fmt::format("\r\nDetails: {}\r\n", field(inc, "url"));
  return m;
}

Mail post_mail(const nlohmann::json& p) {
  const auto& post = p["post"];
  const std::string title = one_line(field(post, "title"), 200);
  const std::string status = field(post, "status");
  Mail m;
  m.subject = fmt::format("[{}] {}: {}", one_line(field(p, "title"), 100), capitalized(status), title);
  m.body = fmt::format("{}\r\n\r\nStatus: {}\r\n", title, status);
  if (const std::string impact = field(post, "impact"); !impact.empty() && impact != "none")
    m.body += fmt::format("Impact: {}\r\n", impact);
  std::string monitors;
  if (post.is_object() && post.contains("monitors") && post["monitors"].is_array()) {
    for (const auto& name : post["monitors"])
      if (name.is_string()) monitors += (monitors.empty() ? "" : ", ") + name.get<std::string>();
  }
  if (!monitors.empty()) m.body += fmt::format("Affects: {}\r\n", one_line(monitors, 800));
  m.body += fmt::format("Updated: {}\r\n\r\n{}\r\n\r\nDetails: {}\r\n", field(post, "at"),
                        mail_text(field(post, "body")), field(post, "url"));
  return m;
}

}  // namespace

std::string subscriber_message(const std::string& from, const OutboxRow& row, WallTime now) {
  const auto p = nlohmann::json::parse(row.payload, nullptr, false);
  const std::string kind = field(p, "kind");
  const Mail m = kind == "confirm"    ? confirm_mail(p)
                 : kind == "incident" ? incident_mail(p)
                                      : post_mail(p);
  std::string extra, footer;
  if (kind != "confirm") {
    const std::string unsubscribe = field(p, "unsubscribe_url");
    extra = fmt::format(
        "List-Unsubscribe: <{}>\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n",
        unsubscribe);
    footer = fmt::format(
        "\r\n-- \r\nYou get this mail because you subscribed to {} ({}).\r\n"
        "Unsubscribe: {}\r\n",
        one_line(field(p, "title"), 200), field(p, "page_url"), unsubscribe);
  }
  extra += "Auto-Submitted: auto-generated\r\n";
  return mail_header(from, row.recipient, row.id, one_line(m.subject, 250), row.event, now, extra) +
         m.body + footer;
}

}  // namespace lookout
