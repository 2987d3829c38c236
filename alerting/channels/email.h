// The email channel: one message per batch over SMTP (or SMTPS). The message text and the
// envelope are pure functions of the rows (email_request); EmailChannel only sends them.
#pragma once

#include <curl/curl.h>

#include <optional>
#include <string>
#include <vector>

#include "alerting/channels/curl_channel.h"
#include "alerting/message.h"

namespace lookout {

// The header of a mail, up to and including the blank line: Date, From, To, Message-ID,
// Subject (RFC 2047 words when it is not ASCII), plain UTF-8 text, X-Lookout-Event, then
// `extra` (whole header lines, each ending in CRLF).
std::string mail_header(const std::string& from, const std::string& to, const std::string& id,
                        const std::string& subject, const std::string& event, WallTime now,
                        const std::string& extra = "");

// "[DOWN] portal-home: expected status 200, got 503"; one line, at most 200 characters. A
// post's event: post_mail_subject().
std::string headline(const OutboxRow& row);
// One row: the headline above. More: "[480 DOWN, 20 DEGRADED] api-1 and 499 more".
std::string headline(const Batch& rows);

// People's text (a post's body) as mail lines: CRLF ends, valid UTF-8, no other control
// characters, no line over 900 bytes (RFC 5322 allows 998), broken at a character.
std::string mail_text(const std::string& text);

// A post's mail, apart from any channel so that every mail about a post reads the same.
// "[POST major] Database failover: investigating" (`label` is post_label(): POST, POST UPDATE,
// POST RESOLVED; no impact when it is none; no status once resolved), one line, at most 200
// characters.
std::string post_mail_subject(const std::string& label, const PostNotice& post);
// The body (CRLF line ends): the title, status, impact, the monitors it names (or the whole
// service), when it was posted, updated and resolved, the latest update as written, and the
// post's page. Subscribers' mails use it too (subscriber_mail.h).
std::string post_mail_body(const PostNotice& post);

// A complete RFC 5322 message (CRLF line ends, dot-stuffing left to the SMTP client).
std::string email_message(const ChannelConfig& c, const OutboxRow& row,
                          const std::string& public_url, WallTime now);
// One row: the message above. More: one message that counts them, lists the first 100 worst
// first and links to the status page for the rest.
std::string email_message(const ChannelConfig& c, const Batch& rows, const std::string& public_url,
                          WallTime now);

struct SmtpRequest {
  std::string url;
  bool require_starttls = false;  // smtp:// with starttls; smtps:// is TLS from the start
  std::optional<std::string> username, password;
  std::string mail_from;  // "<from>"
  // "<to>", each of the channel's addresses; a subscriber's mail goes to that address only.
  std::vector<std::string> recipients;
  std::string message;
};
SmtpRequest email_request(const ChannelConfig& c, const Batch& rows, const std::string& public_url,
                          WallTime now);

// The server accepted the message after DATA: delivered. Refused credentials, or a server
// without the TLS we require, fail for good; anything else, from the network or the server,
// is retried.
DeliveryOutcome smtp_outcome(CURLcode code, long status, const std::string& detail);

class EmailChannel final : public CurlChannel {
 public:
  using CurlChannel::CurlChannel;
  void send(const std::vector<OutboxRow>& rows, Done done) override;
};

}  // namespace lookout
