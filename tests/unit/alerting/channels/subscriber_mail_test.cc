// The mails status-page subscribers get, written from the outbox rows alerting/subscribers.h
// makes: their headers (one recipient, one-click List-Unsubscribe, Auto-Submitted), their text,
// and what no post or title can do to them (add a header, break a line limit). Also the email
// channel's part: mail_text, and a subscriber's row going to that address alone.
#include "alerting/channels/subscriber_mail.h"

#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>

#include "alerting/channels/email.h"
#include "alerting/subscribers.h"
#include "config/channels/email_spec.h"

namespace lookout {
namespace {

using std::chrono::minutes;

const WallTime kSmailNow{std::chrono::seconds{1'796'090'460}};  // Tue, 01 Dec 2026 02:01:00
const WallTime kSmailStart{std::chrono::seconds{1'796'090'400}};
constexpr char kSmailKey[] = "mail-key";
constexpr char kSmailFrom[] = "status@acme.test";

SubscriberMailing smail_mailing(std::string title = "Acme status") {
  return SubscriberMailing{"mailer", "https://status.test", std::move(title), kSmailKey};
}

// One confirmed subscriber, id 1, ann@a.test.
SubscriberBook smail_book() {
  SubscriberBook book;
  book.subscribe("ann@a.test", kSmailStart);
  bool known = false;
  book.confirm(1, kSmailStart, known);
  return book;
}

std::string smail_unsubscribe_url() {
  return "https://status.test/unsubscribe/" + unsubscribe_token(kSmailKey, 1);
}

bool smail_public(const std::string& monitor) { return monitor != "internal-db"; }

IncidentRecord smail_incident(const std::string& cause = "expected status 200, got 503") {
  IncidentRecord i;
  i.id = 42;
  i.monitor = "api";
  i.group = "Core";
  i.type = "http";
  i.state = State::kDown;
  i.cause = cause;
  i.started_at = kSmailStart;
  return i;
}

// The subscriber's mail about `i`'s opening (or resolution, when it is resolved).
OutboxRow smail_incident_row(const IncidentRecord& i,
                             const SubscriberMailing& m = smail_mailing()) {
  AlertChanges c;
  c.incidents = {i};
  c.events = {EventRecord{i.id,
                          i.resolved_at ? "incident.resolved" : "incident.opened",
                          i.resolved_at.value_or(i.started_at),
                          {}}};
  add_incident_mails(c, smail_book(), m, smail_public, [] { return std::string("inc1"); });
  EXPECT_EQ(c.events[0].notifications.size(), 1u);
  return c.events[0].notifications.at(0);
}

PostRecord smail_post(std::string title = "Database failover",
                      std::string body = "Replicas lag behind.\nFailing over.") {
  PostRecord p;
  p.id = 7;
  p.title = std::move(title);
  p.impact = PostImpact::kMajor;
  p.monitors = {"api", "internal-db"};
  p.created_at = kSmailStart;
  p.updates = {{PostStatus::kInvestigating, std::move(body), kSmailStart}};
  return p;
}

OutboxRow smail_post_row(const PostRecord& post, const SubscriberMailing& m = smail_mailing()) {
  AlertChanges out;
  add_post_mails(out, post, "incident.posted", kSmailStart, smail_book(), m, smail_public,
                 [] { return std::string("post1"); });
  EXPECT_EQ(out.events.size(), 1u);
  return out.events.at(0).notifications.at(0);
}

struct SmailParts {
  std::vector<std::pair<std::string, std::string>> headers;  // in order
  std::string body;
  std::string value(const std::string& name) const {
    for (const auto& [n, v] : headers)
      if (n == name) return v;
    return "(none)";
  }
  size_t count(const std::string& name) const {
    size_t n = 0;
    for (const auto& h : headers) n += h.first == name ? 1 : 0;
    return n;
  }
};

// The message as a mail server reads it, checking what 8bit text over SMTP requires on the
// way: CRLF line ends only, no line over 998 bytes, a header of ASCII "Name: value" lines.
SmailParts smail_parse(const std::string& m) {
  SmailParts out;
  bool in_header = true;
  size_t at = 0;
  while (at < m.size()) {
    const size_t end = m.find("\r\n", at);
    if (end == std::string::npos) {
      ADD_FAILURE() << "the message does not end in CRLF: " << testing::PrintToString(m);
      break;
    }
    const std::string line = m.substr(at, end - at);
    at = end + 2;
    EXPECT_LE(line.size(), 998u) << line.substr(0, 80);
    EXPECT_EQ(line.find_first_of("\r\n"), std::string::npos)
        << "a lone CR or LF: " << testing::PrintToString(line);
    if (!in_header) {
      out.body += line + "\r\n";
      continue;
    }
    if (line.empty()) {
      in_header = false;
      continue;
    }
    for (const char c : line)
      EXPECT_TRUE(c >= 0x20 && c < 0x7f) << "not ASCII in the header: " << line;
    const size_t colon = line.find(": ");
    if (colon == std::string::npos || line[0] == ' ' || line[0] == '\t') {
      ADD_FAILURE() << "not a header line: " << line;
      continue;
    }
    out.headers.emplace_back(line.substr(0, colon), line.substr(colon + 2));
  }
  EXPECT_FALSE(in_header) << "no blank line after the header";
  return out;
}

std::vector<std::string> smail_names(const SmailParts& p) {
  std::vector<std::string> out;
  out.reserve(p.headers.size());
  for (const auto& h : p.headers) out.push_back(h.first);
  return out;
}

const std::vector<std::string> kSmailServiceHeaders{"Date",
                                                    "From",
                                                    "To",
                                                    "Message-ID",
                                                    "Subject",
                                                    "MIME-Version",
                                                    "Content-Type",
                                                    "Content-Transfer-Encoding",
                                                    "X-Lookout-Event",
                                                    "List-Unsubscribe",
                                                    "List-Unsubscribe-Post",
                                                    "Auto-Submitted"};

std::string smail_base64_decode(const std::string& in) {
  static const std::string kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  uint32_t buf = 0;
  int bits = 0;
  for (const char c : in) {
    if (c == '=') break;
    const size_t v = kAlphabet.find(c);
    if (v == std::string::npos) {
      ADD_FAILURE() << "not base64: " << in;
      return out;
    }
    buf = (buf << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buf >> bits) & 0xff);
    }
  }
  return out;
}

// A Subject as a reader decodes it: ASCII as is, or RFC 2047 B words separated by spaces.
std::string smail_decoded(const std::string& value) {
  if (value.rfind("=?", 0) != 0) return value;
  std::string out;
  size_t at = 0;
  while (at < value.size()) {
    size_t end = value.find(' ', at);
    if (end == std::string::npos) end = value.size();
    const std::string word = value.substr(at, end - at);
    EXPECT_LE(word.size(), 75u) << word;
    const std::string open = "=?UTF-8?B?";
    if (word.rfind(open, 0) != 0 || word.size() < open.size() + 2 ||
        word.compare(word.size() - 2, 2, "?=") != 0) {
      ADD_FAILURE() << "not an encoded word: " << word;
      return value;
    }
    out += smail_base64_decode(word.substr(open.size(), word.size() - open.size() - 2));
    at = end + 1;
  }
  return out;
}

bool smail_valid_utf8(const std::string& s) {
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t n = 0;
    if (c < 0x80) {
      n = 1;
    } else if (c >= 0xC2 && c <= 0xDF) {
      n = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      n = 3;
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 4;
    } else {
      return false;
    }
    if (i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    i += n;
  }
  return true;
}

TEST(SubscriberMail, AConfirmationMailIsTheLinkAndNoUnsubscribeHeader) {
  SubscriberRecord s;
  s.id = 5;
  s.email = "ann@a.test";
  s.created = kSmailNow;
  const OutboxRow row = confirmation_mail(s, smail_mailing(), kSmailNow, "c0");
  const std::string url =
      "https://status.test/subscribe/confirm/" +
      confirm_token(kSmailKey, 5, to_unix_ms(kSmailNow) / 1000 + kConfirmLifetimeS);
  const std::string m = subscriber_message(kSmailFrom, row, kSmailNow);
  EXPECT_EQ(m,
            "Date: Tue, 01 Dec 2026 02:01:00 +0000\r\n"
            "From: status@acme.test\r\n"
            "To: ann@a.test\r\n"
            "Message-ID: <evt_c0@lookout>\r\n"
            "Subject: Confirm your subscription to Acme status\r\n"
            "MIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            "Content-Transfer-Encoding: 8bit\r\n"
            "X-Lookout-Event: subscription.confirm\r\n"
            "Auto-Submitted: auto-generated\r\n"
            "\r\n"
            "Someone, most likely you, asked for mail about Acme status (https://status.test).\r\n"
            "\r\n"
            "To confirm, open this link and press the button:\r\n" +
                url +
                "\r\n"
                "\r\n"
                "The link works for 7 days. If you did not ask, ignore this mail: nothing more "
                "will come.\r\n");
  const SmailParts p = smail_parse(m);
  EXPECT_EQ(p.count("List-Unsubscribe"), 0u);
  EXPECT_EQ(p.count("List-Unsubscribe-Post"), 0u);
  EXPECT_EQ(m.find("nsubscribe"), std::string::npos) << "nothing to unsubscribe from yet";
}

TEST(SubscriberMail, AnOpeningSaysTheStateAndCauseWithOneClickUnsubscribe) {
  const OutboxRow row = smail_incident_row(smail_incident());
  const std::string m = subscriber_message(kSmailFrom, row, kSmailNow);
  const SmailParts p = smail_parse(m);
  EXPECT_EQ(smail_names(p), kSmailServiceHeaders);
  EXPECT_EQ(p.value("To"), "ann@a.test");
  EXPECT_EQ(p.value("From"), "status@acme.test");
  EXPECT_EQ(p.value("Message-ID"), "<" + row.id + "@lookout>");
  EXPECT_EQ(p.value("Subject"), "[Acme status] api is down");
  EXPECT_EQ(p.value("X-Lookout-Event"), "incident.opened");
  EXPECT_EQ(p.value("List-Unsubscribe"), "<" + smail_unsubscribe_url() + ">");
  EXPECT_EQ(p.value("List-Unsubscribe-Post"), "List-Unsubscribe=One-Click");
  EXPECT_EQ(p.value("Auto-Submitted"), "auto-generated");
  EXPECT_EQ(p.body,
            "api is down since 2026-12-01T02:00:00.000Z: expected status 200, got 503\r\n"
            "\r\n"
            "Details: https://status.test/monitor/api\r\n"
            "\r\n"
            "-- \r\n"
            "You get this mail because you subscribed to Acme status (https://status.test).\r\n"
            "Unsubscribe: " +
                smail_unsubscribe_url() + "\r\n");
  EXPECT_EQ(m.find("/ack/"), std::string::npos);
}

TEST(SubscriberMail, AResolutionSaysUpAgainAndWhenItBegan) {
  IncidentRecord i = smail_incident();
  i.state = State::kDegraded;
  i.resolved_at = kSmailStart + minutes(25);
  const std::string m = subscriber_message(kSmailFrom, smail_incident_row(i), kSmailNow);
  const SmailParts p = smail_parse(m);
  EXPECT_EQ(smail_names(p), kSmailServiceHeaders);
  EXPECT_EQ(p.value("Subject"), "[Acme status] api is up again");
  EXPECT_EQ(p.value("X-Lookout-Event"), "incident.resolved");
  EXPECT_EQ(p.body.substr(0, p.body.find("\r\n") + 2),
            "api is up again since 2026-12-01T02:25:00.000Z (the incident began "
            "2026-12-01T02:00:00.000Z).\r\n");
  EXPECT_EQ(p.body.find("expected status"), std::string::npos);
  EXPECT_NE(p.body.find("Unsubscribe: " + smail_unsubscribe_url() + "\r\n"), std::string::npos);
}

TEST(SubscriberMail, APostsMailIsThePostsTextNamingOnlyPublicMonitors) {
  const std::string m = subscriber_message(kSmailFrom, smail_post_row(smail_post()), kSmailNow);
  const SmailParts p = smail_parse(m);
  EXPECT_EQ(smail_names(p), kSmailServiceHeaders);
  EXPECT_EQ(p.value("To"), "ann@a.test");
  EXPECT_EQ(p.value("Subject"), "[Acme status] Investigating: Database failover");
  EXPECT_EQ(p.value("X-Lookout-Event"), "incident.posted");
  EXPECT_EQ(p.value("List-Unsubscribe"), "<" + smail_unsubscribe_url() + ">");
  EXPECT_EQ(p.body,
            "Post:      Database failover\r\n"
            "Status:    investigating\r\n"
            "Impact:    major\r\n"
            "Monitors:  api\r\n"
            "Posted:    2026-12-01T02:00:00.000Z\r\n"
            "\r\n"
            "Replicas lag behind.\r\n"
            "Failing over.\r\n"
            "\r\n"
            "Read it on the status page: https://status.test/posts/7\r\n"
            "\r\n"
            "-- \r\n"
            "You get this mail because you subscribed to Acme status (https://status.test).\r\n"
            "Unsubscribe: " +
                smail_unsubscribe_url() + "\r\n");
  EXPECT_EQ(m.find("internal-db"), std::string::npos);
}

TEST(SubscriberMail, APostCannotAddAHeader) {
  const std::string title = "Outage\r\nBcc: eve@evil.test\r\n\r\nX-Injected: 1";
  const std::string body =
      "first\r\nBcc: eve@evil.test\n\nTo: eve@evil.test\rCc: eve@evil.test\r\n.\r\n";
  const SubscriberMailing m = smail_mailing("Acme\r\nBcc: eve@evil.test");
  for (const OutboxRow& row :
       {smail_post_row(smail_post(title, body), m),
        smail_incident_row(smail_incident("bad\r\nBcc: eve@evil.test"), m),
        confirmation_mail(SubscriberRecord{3, "ann@a.test", kSmailNow, {}, {}}, m, kSmailNow,
                          "c1")}) {
    SCOPED_TRACE(row.event);
    const std::string mail = subscriber_message(kSmailFrom, row, kSmailNow);
    const SmailParts p = smail_parse(mail);
    for (const char* name : {"Date", "From", "To", "Message-ID", "Subject", "X-Lookout-Event"})
      EXPECT_EQ(p.count(name), 1u) << name;
    EXPECT_EQ(p.count("Bcc"), 0u);
    EXPECT_EQ(p.count("Cc"), 0u);
    EXPECT_EQ(p.count("X-Injected"), 0u);
    EXPECT_EQ(p.value("To"), "ann@a.test");
    EXPECT_EQ(p.headers.back().first, "Auto-Submitted") << "the header ends where it should";
    EXPECT_NE(p.value("Subject").find("Bcc: eve@evil.test"), std::string::npos)
        << "kept as text, on the Subject's line";
  }
}

TEST(SubscriberMail, ANonAsciiSubjectIsEncodedWordsThatDecodeToIt) {
  const std::string m =
      subscriber_message(kSmailFrom,
                         smail_post_row(smail_post("St\xc3\xb6rung der Kasse \xe2\x80\x94 "
                                                   "\xe6\x94\xaf\xe4\xbb\x98"),
                                        smail_mailing("Caf\xc3\xa9 status")),
                         kSmailNow);
  const SmailParts p = smail_parse(m);  // ASCII header lines
  const std::string subject = p.value("Subject");
  EXPECT_EQ(subject.rfind("=?UTF-8?B?", 0), 0u) << subject;
  EXPECT_EQ(smail_decoded(subject),
            "[Caf\xc3\xa9 status] Investigating: St\xc3\xb6rung der Kasse \xe2\x80\x94 "
            "\xe6\x94\xaf\xe4\xbb\x98");
  // The body is 8bit UTF-8 as it was written.
  EXPECT_NE(p.body.find("Post:      St\xc3\xb6rung der Kasse"), std::string::npos) << p.body;
  EXPECT_NE(p.body.find("subscribed to Caf\xc3\xa9 status"), std::string::npos) << p.body;
}

TEST(SubscriberMail, LongTextStaysWithinTheLineLimit) {
  std::string body(5'000, 'x');
  for (int i = 0; i < 700; ++i) body += "\xc3\xa9\xe2\x82\xac";  // no line break at all
  const std::string long_title(300, 'T');
  const std::string long_page_title(400, 'P');
  for (const OutboxRow& row :
       {smail_post_row(smail_post(long_title, body), smail_mailing(long_page_title)),
        smail_incident_row(smail_incident(std::string(3'000, 'c')), smail_mailing(long_page_title)),
        confirmation_mail(SubscriberRecord{3, "ann@a.test", kSmailNow, {}, {}},
                          smail_mailing(long_page_title), kSmailNow, "c2")}) {
    SCOPED_TRACE(row.event);
    const std::string m = subscriber_message(kSmailFrom, row, kSmailNow);
    const SmailParts p = smail_parse(m);  // every line at most 998 bytes
    EXPECT_LE(p.value("Subject").size(), 250u);
    EXPECT_TRUE(smail_valid_utf8(p.body));
  }
}

TEST(SubscriberMail, TextCutToLengthIsCutAtACharacter) {
  const std::string e_acute = "\xc3\xa9", u_uml = "\xc3\xbc";
  std::string cause, post_title, page_title;
  for (int i = 0; i < 600; ++i) cause += e_acute;       // 1,200 bytes: cut in the body
  for (int i = 0; i < 100; ++i) post_title += e_acute;  // 200 bytes, the most a post has
  for (int i = 0; i < 80; ++i) page_title += u_uml;     // 160 bytes: cut in the subjects
  for (const OutboxRow& row : {smail_incident_row(smail_incident(cause), smail_mailing(page_title)),
                               smail_post_row(smail_post(post_title), smail_mailing(page_title))}) {
    SCOPED_TRACE(row.event);
    const SmailParts p = smail_parse(subscriber_message(kSmailFrom, row, kSmailNow));
    EXPECT_TRUE(smail_valid_utf8(p.body)) << p.body;
    const std::string subject = smail_decoded(p.value("Subject"));
    EXPECT_TRUE(smail_valid_utf8(subject)) << subject;
    EXPECT_EQ(subject.find("\xef\xbf\xbd"), std::string::npos)
        << "no character was cut in two: " << subject;
    EXPECT_EQ(subject.rfind("[\xc3\xbc\xc3\xbc", 0), 0u) << subject;
    EXPECT_NE(subject.find("..."), std::string::npos) << subject;
  }
}

TEST(MailText, LinesEndInCrlfAndControlCharactersBecomeSpaces) {
  struct Case {
    std::string text, mail;
  };
  const std::vector<Case> cases{
      {"", ""},
      {"one", "one"},
      {"a\nb", "a\r\nb"},
      {"a\r\nb", "a\r\nb"},
      {"a\n\nb\n", "a\r\n\r\nb\r\n"},
      {"a\rb", "a b"},
      {"a\r", "a "},
      {"\r\r\n", " \r\n"},
      {"a\r\rb", "a  b"},
      {"tab\there", "tab\there"},
      {"bell\x07 nul", "bell  nul"},
      {std::string("nul\0x", 5), "nul x"},
      {"esc\x1b[31m", "esc [31m"},
      {"caf\xc3\xa9", "caf\xc3\xa9"},
      {"bad \xff byte", "bad \xef\xbf\xbd byte"},
      {"cut \xc3", "cut \xef\xbf\xbd"},
      {"Bcc: x\r\n.\r\n", "Bcc: x\r\n.\r\n"},
  };
  for (const auto& c : cases)
    EXPECT_EQ(mail_text(c.text), c.mail) << testing::PrintToString(c.text);
}

TEST(MailText, LongLinesBreakAt900BytesAtACharacter) {
  EXPECT_EQ(mail_text(std::string(900, 'a')), std::string(900, 'a'));
  EXPECT_EQ(mail_text(std::string(901, 'a')), std::string(900, 'a') + "\r\na");
  EXPECT_EQ(
      mail_text(std::string(2'000, 'a')),
      std::string(900, 'a') + "\r\n" + std::string(900, 'a') + "\r\n" + std::string(200, 'a'));
  // A break restarts the count; so does a line end.
  EXPECT_EQ(mail_text(std::string(899, 'a') + "\n" + std::string(901, 'b')),
            std::string(899, 'a') + "\r\n" + std::string(900, 'b') + "\r\nb");
  // Characters of two, three and four bytes are never split, whatever the offset.
  for (const std::string ch : {"\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80"}) {
    for (size_t lead = 0; lead < 4; ++lead) {
      std::string text(lead, 'a');
      while (text.size() < 3'000) text += ch;
      const std::string out = mail_text(text);
      size_t at = 0;
      size_t lines = 0;
      while (at <= out.size()) {
        size_t end = out.find("\r\n", at);
        if (end == std::string::npos) end = out.size();
        const std::string line = out.substr(at, end - at);
        // At most 900 bytes, and broken only where the next character would not fit.
        EXPECT_LE(line.size(), 900u);
        EXPECT_GE(line.size(), 897u * (end < out.size() ? 1 : 0));
        EXPECT_TRUE(smail_valid_utf8(line)) << ch.size() << " bytes, lead " << lead;
        ++lines;
        at = end + 2;
      }
      EXPECT_GE(lines, 4u);
      std::string joined = out;
      for (size_t p = joined.find("\r\n"); p != std::string::npos; p = joined.find("\r\n"))
        joined.erase(p, 2);
      EXPECT_EQ(joined, text) << "only breaks added";
    }
  }
}

ChannelConfig smail_channel() {
  ChannelConfig c;
  c.name = "mailer";
  c.type = "email";
  c.url = Secret::plain("smtp://mail.test:587");
  auto spec = std::make_shared<EmailSpec>();
  spec->from = kSmailFrom;
  c.spec = spec;
  c.to = {"oncall@acme.test", "boss@acme.test"};
  return c;
}

TEST(SubscriberEmailRequest, ASubscribersMailGoesToThatAddressAlone) {
  const ChannelConfig c = smail_channel();
  const OutboxRow row = smail_post_row(smail_post());
  const SmtpRequest r = email_request(c, {row}, "https://status.test", kSmailNow);
  EXPECT_EQ(r.url, "smtp://mail.test:587");
  EXPECT_TRUE(r.require_starttls);
  EXPECT_EQ(r.mail_from, "<status@acme.test>");
  EXPECT_EQ(r.recipients, std::vector<std::string>{"<ann@a.test>"});
  EXPECT_EQ(r.message, subscriber_message(kSmailFrom, row, kSmailNow));
  EXPECT_EQ(r.message.find("oncall@acme.test"), std::string::npos);
  EXPECT_EQ(r.message.find("boss@acme.test"), std::string::npos);

  // The same channel's on-call mail goes to its list, without the subscriber headers.
  OutboxRow oncall = row;
  oncall.audience = Audience::kOnCall;
  oncall.recipient.clear();
  oncall.payload = post_payload(smail_post(), "https://status.test");
  const SmtpRequest o = email_request(c, {oncall}, "https://status.test", kSmailNow);
  EXPECT_EQ(o.recipients, (std::vector<std::string>{"<oncall@acme.test>", "<boss@acme.test>"}));
  EXPECT_EQ(o.message.find("List-Unsubscribe"), std::string::npos);
  EXPECT_EQ(o.message.find("ann@a.test"), std::string::npos);
}

TEST(SubscriberEmailRequest, AConfirmationGoesToTheAddressThatAsked) {
  const OutboxRow row = confirmation_mail(SubscriberRecord{9, "new@n.test", kSmailNow, {}, {}},
                                          smail_mailing(), kSmailNow, "c3");
  const SmtpRequest r = email_request(smail_channel(), {row}, "https://status.test", kSmailNow);
  EXPECT_EQ(r.recipients, std::vector<std::string>{"<new@n.test>"});
  EXPECT_NE(r.message.find("\r\nTo: new@n.test\r\n"), std::string::npos);
  EXPECT_NE(r.message.find("/subscribe/confirm/"), std::string::npos);
}

}  // namespace
}  // namespace lookout
