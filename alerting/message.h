// What every channel's message is made of, as pure functions of outbox rows: the incident a
// row carries, the labels of events and states, and the id and event a batch goes out under.
// Each channel renders its own message from these (alerting/channels/).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "alerting/incidents.h"

namespace lookout {

// A batch: the notifications of one group that go together, worst first (at least one row).
// One row renders exactly as a single notification, so a quiet day looks as it always did;
// more render as one grouped message that counts them, lists the worst first and links to
// the status page.
using Batch = std::vector<OutboxRow>;

// The incident of a row's payload; null for a test, a post's event, or a payload that does
// not parse.
nlohmann::json incident_of(const OutboxRow& row);
// The post of a post's event (post_json); null for any other row.
nlohmann::json post_of(const OutboxRow& row);
// A string field of that incident, or "" when it is missing or not a string.
std::string incident_field(const nlohmann::json& incident, const char* key);

// Causes come from the network: control characters become spaces (they would forge mail
// headers) and more than `max` characters are cut with "...".
std::string one_line(std::string s, size_t max);

// "DOWN", "RESOLVED", "ACK DOWN", "ESCALATED DOWN", "REMINDER DOWN", "TEST".
std::string event_label(const std::string& event, const std::string& state);
// A post's event: "POST" (made), "POST UPDATE", or "POST RESOLVED" once its status is resolved.
std::string post_label(const std::string& event, const std::string& status);
std::string event_label(const OutboxRow& row);
// "480 DOWN, 20 DEGRADED", in the batch's (worst first) order.
std::string counted_labels(const Batch& rows);
// What a row is about, as a grouped message lists it: the monitor, or a post's title.
std::string subject_of(const OutboxRow& row);

// "02:00:00Z" of an RFC 3339 time, for the one-line entries of a grouped message; any other
// text as it is.
std::string time_of_day(const std::string& rfc3339);

// The status page's address; a public_url always ends without a slash.
std::string status_url(const std::string& public_url);

// The row's id, or "grp_" + 32 hex digits derived from the ids (the same on every retry).
std::string notification_id(const Batch& rows);
// The row's event, or "group".
std::string notification_event(const Batch& rows);

// A post people wrote on the status page, as its notifications carry it (post_json): what a
// message about it names. Its text comes from the admin API, not the network, yet is still
// made one line where a message needs one.
struct PostNotice {
  int64_t id = 0;
  std::string title;   // one line
  std::string status;  // investigating | identified | monitoring | resolved
  std::string impact;  // none | minor | major | critical
  std::vector<std::string> monitors;
  std::string created_at, resolved_at;  // RFC 3339; resolved_at is "" while open
  std::string body;  // the latest update's text as written: plain text, maybe several lines
  std::string at;    // when the latest update was written
  std::string url;   // its page: public_url + /posts/ID
  bool resolved() const { return status == "resolved"; }
  // The latest update's text on one line, at most `max` characters.
  std::string summary(size_t max = 300) const;
  // "portal-home, billing-db", or "the whole service" for a post that names none.
  std::string monitors_text() const;
};
// Reads post_json's form; missing fields stay empty.
PostNotice post_notice(const nlohmann::json& post);

// One notification as the chat and on-call channels render it: what each of their messages
// names (the monitor, its state, the cause, since when, its page and, while open, the ack link;
// or the post people wrote).
struct Notice {
  std::string event;  // incident.opened, ..., incident.posted, incident.post_updated, or test
  std::string label;  // event_label(): "DOWN", "ACK DOWN", "RESOLVED", "POST", "TEST"
  int64_t incident_id = 0;
  std::string monitor, group, type;
  std::string state;        // down | degraded | up (resolved); "" for a test
  std::string cause;        // one line, at most 300 characters
  std::string since;        // when the incident started, RFC 3339
  std::string monitor_url;  // public_url + /monitor/NAME or /api/v1/cluster; "" for a test
  std::string ack_url;      // "" once acknowledged or resolved
  bool test = false;
  // A post's event: the post (the incident's fields above are empty, and it is no test).
  std::optional<PostNotice> post;
  bool resolved() const { return event == "incident.resolved"; }
  // The state as a message says it: "down", "down, acknowledged", "resolved", "test"; a post's
  // status.
  std::string state_text() const;
  // "DOWN portal-home: expected status 200, got 503", "POST [major] Database failover:
  // investigating" (no impact when it is none, no status once resolved), or the test's line.
  std::string title() const;
  // Plain text, one fact a line: the title, since when, the page and the ack link; for a post,
  // the title, the latest update on one line, the monitors it names and its page.
  std::string text() const;
};
Notice notice_of(const OutboxRow& row, const std::string& public_url);

// A grouped notification (an alert storm) as one message: its counts ("480 DOWN, 20 DEGRADED"),
// the first `kShown` notices (worst first) and how many more the status page lists.
struct Digest {
  static constexpr size_t kShown = 10;
  std::string title;  // "lookout: 480 DOWN, 20 DEGRADED"
  std::vector<Notice> shown;
  size_t more = 0;
  std::string status_url;
  // The title, then a line per shown notice, then "... and N more: URL".
  std::string text() const;
};
Digest digest_of(const Batch& rows, const std::string& public_url);

// The batch in the order its events happened (stable for equal times). A batch comes worst
// first, for reading; a provider that keeps each incident's state (on-call alerts) must see
// an incident's events in their own order.
Batch in_event_order(Batch rows);

}  // namespace lookout
