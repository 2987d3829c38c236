// What every channel's message is made of, as pure functions of outbox rows: the incident a
// row carries, the labels of events and states, and the id and event a batch goes out under.
// Each channel renders its own message from these (alerting/channels/).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "alerting/incidents.h"

namespace lookout {

// A batch: the notifications of one group that go together, worst first (at least one row).
// One row renders exactly as a single notification, so a quiet day looks as it always did;
// more render as one grouped message that counts them, lists the worst first and links to
// the status page.
using Batch = std::vector<OutboxRow>;

// The incident of a row's payload; null for a test, or a payload that does not parse.
nlohmann::json incident_of(const OutboxRow& row);
// A string field of that incident, or "" when it is missing or not a string.
std::string incident_field(const nlohmann::json& incident, const char* key);

// Causes come from the network: control characters become spaces (they would forge mail
// headers) and more than `max` characters are cut with "...".
std::string one_line(std::string s, size_t max);

// "DOWN", "RESOLVED", "ACK DOWN", "ESCALATED DOWN", "REMINDER DOWN", "TEST".
std::string event_label(const std::string& event, const std::string& state);
std::string event_label(const OutboxRow& row);
// "480 DOWN, 20 DEGRADED", in the batch's (worst first) order.
std::string counted_labels(const Batch& rows);
std::string monitor_of(const OutboxRow& row);

// "02:00:00Z" of an RFC 3339 time, for the one-line entries of a grouped message; any other
// text as it is.
std::string time_of_day(const std::string& rfc3339);

// The status page's address; a public_url always ends without a slash.
std::string status_url(const std::string& public_url);

// The row's id, or "grp_" + 32 hex digits derived from the ids (the same on every retry).
std::string notification_id(const Batch& rows);
// The row's event, or "group".
std::string notification_event(const Batch& rows);

// One notification as the chat and on-call channels render it: what each of their messages
// names (the monitor, its state, the cause, since when, its page and, while open, the ack link).
struct Notice {
  std::string event;  // incident.opened, ..., or test
  std::string label;  // event_label(): "DOWN", "ACK DOWN", "RESOLVED", "TEST"
  int64_t incident_id = 0;
  std::string monitor, group, type;
  std::string state;        // down | degraded | up (resolved); "" for a test
  std::string cause;        // one line, at most 300 characters
  std::string since;        // when the incident started, RFC 3339
  std::string monitor_url;  // public_url + /monitor/NAME ("" for a test)
  std::string ack_url;      // "" once acknowledged or resolved
  bool test = false;
  bool resolved() const { return event == "incident.resolved"; }
  // The state as a message says it: "down", "down, acknowledged", "resolved", "test".
  std::string state_text() const;
  // "DOWN portal-home: expected status 200, got 503", or the test's line.
  std::string title() const;
  // Plain text, one fact a line: the title, since when, the page and the ack link.
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
