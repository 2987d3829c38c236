#include "alerting/channels/email.h"

#include <fmt/format.h>

#include <algorithm>
#include <ctime>
#include <string_view>

#include "alerting/channels/subscriber_mail.h"
#include "alerting/channels/utf8_text.h"
#include "config/channels/email_spec.h"

namespace lookout {
namespace {

std::string message_envelope(const ChannelConfig& c, const std::string& id,
                             const std::string& subject, const std::string& event, WallTime now) {
  std::string to;
  for (const auto& r : c.to) to += (to.empty() ? "" : ", ") + r;
  return mail_header(c.spec_as<EmailSpec>().from, to, id, subject, event, now);
}

// RFC 5322 allows 998 bytes a line; longer lines of people's text are broken here, at a
// character.
constexpr size_t kMailLineBytes = 900;

// Email lines a grouped message lists before it points at the status page for the rest.
constexpr size_t kEmailListed = 100;

}  // namespace

std::string mail_header(const std::string& from, const std::string& to, const std::string& id,
                        const std::string& subject, const std::string& event, WallTime now,
                        const std::string& extra) {
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char date[64];
  std::strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
  return fmt::format(
      "Date: {}\r\nFrom: {}\r\nTo: {}\r\nMessage-ID: <{}@lookout>\r\nSubject: {}\r\n"
      "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
      "Content-Transfer-Encoding: 8bit\r\nX-Lookout-Event: {}\r\n{}\r\n",
      date, from, to, id, header_words(subject), event, extra);
}

std::string mail_text(const std::string& text) {
  const std::string v = valid_utf8(text);
  std::string out;
  size_t line = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    const auto c = static_cast<unsigned char>(v[i]);
    // A CR of a CRLF goes with its LF; a lone one is a control character like any other.
    if (c == '\r' && i + 1 < v.size() && v[i + 1] == '\n') continue;
    if (c == '\n') {
      out += "\r\n";
      line = 0;
      continue;
    }
    // Broken before a character that would take the line past kMailLineBytes (valid_utf8 made
    // its length known from its first byte).
    const size_t width = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;
    if (width > 0 && line + width > kMailLineBytes) {
      out += "\r\n";
      line = 0;
    }
    out += c < 0x20 && c != '\t' ? ' ' : static_cast<char>(c);
    ++line;
  }
  return out;
}

std::string post_mail_subject(const std::string& label, const PostNotice& post) {
  const std::string impact =
      post.impact.empty() || post.impact == "none" ? "" : fmt::format(" {}", post.impact);
  return one_line(post.resolved()
                      ? fmt::format("[{}{}] {}", label, impact, post.title)
                      : fmt::format("[{}{}] {}: {}", label, impact, post.title, post.status),
                  200);
}

std::string post_mail_body(const PostNotice& post) {
  std::string out = fmt::format("Post:      {}\r\nStatus:    {}\r\nImpact:    {}\r\n", post.title,
                                post.status, post.impact);
  out += fmt::format("Monitors:  {}\r\n", post.monitors_text());
  out += fmt::format("Posted:    {}\r\n", post.created_at);
  if (post.at != post.created_at) out += fmt::format("Updated:   {}\r\n", post.at);
  if (!post.resolved_at.empty()) out += fmt::format("Resolved:  {}\r\n", post.resolved_at);
  const size_t last = post.body.find_last_not_of(" \t\r\n");
  if (last != std::string::npos) out += "\r\n" + mail_text(post.body.substr(0, last + 1)) + "\r\n";
  out += fmt::format("\r\nRead it on the status page: {}\r\n", post.url);
  return out;
}

std::string headline(const OutboxRow& row) {
  if (is_post_event(row.event))
    return post_mail_subject(event_label(row), post_notice(post_of(row)));
  const auto inc = incident_of(row);
  if (inc.is_null()) return "[TEST] lookout test notification: this channel delivers";
  const std::string monitor = incident_field(inc, "monitor");
  const std::string what = row.event == "incident.resolved"       ? "is up again"
                           : row.event == "incident.acknowledged" ? "acknowledged"
                                                                  : incident_field(inc, "cause");
  return one_line(fmt::format("[{}] {}: {}", event_label(row.event, incident_field(inc, "state")),
                              monitor, what),
                  200);
}

std::string headline(const Batch& rows) {
  if (rows.size() == 1) return headline(rows.front());
  return one_line(fmt::format("[{}] {} and {} more", counted_labels(rows), subject_of(rows.front()),
                              rows.size() - 1),
                  200);
}

std::string email_message(const ChannelConfig& c, const OutboxRow& row,
                          const std::string& public_url, WallTime now) {
  const auto inc = incident_of(row);
  std::string body;
  if (is_post_event(row.event)) {
    body = post_mail_body(post_notice(post_of(row)));
  } else if (inc.is_null()) {
    body = fmt::format(
        "This is a test notification from lookout through the channel \"{}\".\r\n"
        "If you read this, the channel delivers.\r\n",
        c.name);
  } else {
    body = fmt::format(
        "Monitor:   {}\r\nGroup:     {}\r\nState:     {}\r\nCause:     {}\r\nSince:     {}\r\n",
        incident_field(inc, "monitor"), incident_field(inc, "group"), incident_field(inc, "state"),
        one_line(incident_field(inc, "cause"), 500), incident_field(inc, "started_at"));
    if (!incident_field(inc, "resolved_at").empty())
      body += fmt::format("Resolved:  {}\r\n", incident_field(inc, "resolved_at"));
    if (!incident_field(inc, "acknowledged_by").empty()) {
      body += fmt::format("Acknowledged: {} (by {})\r\n", incident_field(inc, "acknowledged_at"),
                          incident_field(inc, "acknowledged_by"));
    }
    if (!incident_field(inc, "ack_url").empty())
      body += fmt::format("\r\nAcknowledge: {}\r\n", incident_field(inc, "ack_url"));
    body +=
        fmt::format("Status page: {}/monitor/{}\r\n", public_url, incident_field(inc, "monitor"));
  }
  body += fmt::format("\r\n-- \r\nlookout, event {} ({})\r\n", row.event, row.id);
  return message_envelope(c, row.id, headline(row), row.event, now) + body;
}

std::string email_message(const ChannelConfig& c, const Batch& rows, const std::string& public_url,
                          WallTime now) {
  if (rows.size() == 1) return email_message(c, rows.front(), public_url, now);
  std::string body =
      fmt::format("{} notifications of route \"{}\", worst first: {}.\r\nStatus page: {}\r\n\r\n",
                  rows.size(), rows.front().route, counted_labels(rows), status_url(public_url));
  for (size_t i = 0; i < rows.size() && i < kEmailListed; ++i) {
    if (is_post_event(rows[i].event)) {
      const PostNotice post = post_notice(post_of(rows[i]));
      const std::string summary = post.summary(200);
      body += fmt::format("{:<16} {:<28} {}{}\r\n", event_label(rows[i]), post.title, post.status,
                          summary.empty() ? "" : ": " + summary);
      body += fmt::format("{:<16} {}\r\n", "", post.url);
      continue;
    }
    const auto inc = incident_of(rows[i]);
    body += fmt::format(
        "{:<16} {:<28} {}\r\n", event_label(rows[i]), incident_field(inc, "monitor"),
        rows[i].event == "incident.resolved" ? "is up again"
                                             : one_line(incident_field(inc, "cause"), 200));
    if (!incident_field(inc, "ack_url").empty() && rows[i].event != "incident.resolved" &&
        rows[i].event != "incident.acknowledged") {
      body += fmt::format("{:<16} acknowledge: {}\r\n", "", incident_field(inc, "ack_url"));
    }
  }
  if (rows.size() > kEmailListed) {
    body += fmt::format("\r\n... and {} more: {}\r\n", rows.size() - kEmailListed,
                        status_url(public_url));
  }
  const std::string id = notification_id(rows);
  body += fmt::format("\r\n-- \r\nlookout, {} events ({})\r\n", rows.size(), id);
  return message_envelope(c, id, headline(rows), "group", now) + body;
}

SmtpRequest email_request(const ChannelConfig& c, const Batch& rows, const std::string& public_url,
                          WallTime now) {
  const auto& spec = c.spec_as<EmailSpec>();
  SmtpRequest r;
  r.url = c.url.reveal();
  r.require_starttls = spec.starttls && r.url.rfind("smtp://", 0) == 0;
  if (spec.username) r.username = spec.username->reveal();
  if (spec.password) r.password = spec.password->reveal();
  r.mail_from = fmt::format("<{}>", spec.from);
  if (rows.front().audience == Audience::kSubscriber) {
    // Subscriber mail never groups: one row, one address.
    r.recipients.push_back(fmt::format("<{}>", rows.front().recipient));
    r.message = subscriber_message(spec.from, rows.front(), now);
    return r;
  }
  for (const auto& to : c.to) r.recipients.push_back(fmt::format("<{}>", to));
  r.message = email_message(c, rows, public_url, now);
  return r;
}

DeliveryOutcome smtp_outcome(CURLcode code, long status, const std::string& detail) {
  if (code == CURLE_OK) return {DeliveryOutcome::Kind::kDelivered, fmt::format("SMTP {}", status)};
  // Wrong credentials or a server without the TLS we require do not fix themselves.
  if (code == CURLE_LOGIN_DENIED || code == CURLE_USE_SSL_FAILED)
    return {DeliveryOutcome::Kind::kPermanent, detail};
  return {DeliveryOutcome::Kind::kRetry, detail};
}

void EmailChannel::send(const std::vector<OutboxRow>& rows, Done done) {
  const SmtpRequest r = email_request(config(), rows, public_url(), clock().wall());
  run(
      [&](Transfer& t) {
        curl_easy_setopt(t.easy(), CURLOPT_URL, r.url.c_str());
        curl_easy_setopt(t.easy(), CURLOPT_PROTOCOLS_STR, "smtp,smtps");
        if (r.require_starttls)
          curl_easy_setopt(t.easy(), CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_ALL));
        if (r.username) curl_easy_setopt(t.easy(), CURLOPT_USERNAME, r.username->c_str());
        if (r.password) curl_easy_setopt(t.easy(), CURLOPT_PASSWORD, r.password->c_str());
        curl_easy_setopt(t.easy(), CURLOPT_MAIL_FROM, r.mail_from.c_str());
        for (const auto& to : r.recipients) t.recipient(to);
        t.upload(r.message);
      },
      smtp_outcome, std::move(done));
}

}  // namespace lookout
