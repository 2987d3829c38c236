// The value types storage keeps and the layers above it share: a monitor's state, an
// incident, an event and the notifications (outbox rows) it made. Plain data, so storage
// never depends on the alerting logic that produces them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"

namespace lookout {

enum class State : uint8_t { kUnknown, kUp, kDegraded, kDown, kMaintenance };
const char* to_string(State s);
std::optional<State> state_from_string(const std::string& s);

struct IncidentRecord {
  int64_t id = 0;
  std::string monitor, group, type;
  State state = State::kDown;  // the latest bad state
  std::string cause;
  WallTime started_at;
  std::optional<WallTime> resolved_at, acknowledged_at;
  std::string acknowledged_by;  // "link" or "api"
  bool flapping = false;
  bool flap_notified = false;      // the one notification of this flapping period went out
  std::vector<std::string> fired;  // escalation tiers fired, as "route#index"
  std::optional<WallTime> next_reminder;
  bool open() const { return !resolved_at; }
};

// Who a notification is for: the people on call (routes, tests), or one stakeholder who
// subscribed to the status page by email (alerting/subscribers.h). Subscriber mail waits
// behind every on-call notification of its channel and never groups.
enum class Audience : uint8_t { kOnCall, kSubscriber };

// One notification: a row of the outbox, sent at least once, always with this id.
struct OutboxRow {
  std::string id;           // "evt_" + 32 hex digits
  int64_t incident_id = 0;  // 0 for a test and for a status-page post's event
  std::string event;
  std::string channel;
  std::string route;      // whose group_wait and group_interval apply; empty for a test
  std::string recipient;  // sms: one number per row; a subscriber's address; else empty
  WallTime created;
  std::string payload;  // the incident (or the post) as JSON, as the event saw it; null for a test
  Audience audience = Audience::kOnCall;
};

// A post people write on the status page: what is wrong, what is being done, when it is over.
enum class PostStatus : uint8_t { kInvestigating, kIdentified, kMonitoring, kResolved };
enum class PostImpact : uint8_t { kNone, kMinor, kMajor, kCritical };
const char* to_string(PostStatus s);
const char* to_string(PostImpact i);
std::optional<PostStatus> post_status_from_string(const std::string& s);
std::optional<PostImpact> post_impact_from_string(const std::string& s);

struct PostUpdate {
  PostStatus status = PostStatus::kInvestigating;
  std::string body;  // plain text
  WallTime at;
};

struct PostRecord {
  int64_t id = 0;
  std::string title;
  PostImpact impact = PostImpact::kNone;
  std::vector<std::string> monitors;  // the monitors it is about; none: the whole service
  WallTime created_at;
  std::optional<WallTime> resolved_at;
  std::vector<PostUpdate> updates;  // oldest first; the first is the post's opening
  PostStatus status() const {
    return updates.empty() ? PostStatus::kInvestigating : updates.back().status;
  }
  bool open() const { return !resolved_at; }
};

// A maintenance window: no alerts for its monitors, which read `maintenance` while it lasts.
// Those made through the API are stored; a [[maintenance]] block of the config has id 0.
struct MaintenanceRecord {
  int64_t id = 0;
  std::string title, body;
  std::vector<std::string> monitors;  // names or shell globs
  WallTime start;
  Duration duration{0};
  WallTime end() const { return start + duration; }
  bool operator==(const MaintenanceRecord&) const = default;
};

// A stakeholder who subscribed to the status page by email. Pending until the link of the
// confirmation mail is followed; an address that unsubscribes, or never confirms, is erased
// and its row stays as a tombstone, so that its id (which links carry) is never given again.
struct SubscriberRecord {
  int64_t id = 0;
  std::string email;  // empty once erased
  WallTime created;
  std::optional<WallTime> confirmed_at;
  std::optional<WallTime> mailed_at;  // the last confirmation mail
  bool erased() const { return email.empty(); }
  bool confirmed() const { return !erased() && confirmed_at.has_value(); }
};

struct EventRecord {
  int64_t incident_id = 0;
  std::string event;
  WallTime at;
  std::vector<OutboxRow> notifications;
};

struct AlertChanges {
  std::vector<IncidentRecord> incidents;  // rows to upsert
  std::vector<EventRecord> events;
  bool empty() const { return incidents.empty() && events.empty(); }
};

}  // namespace lookout
