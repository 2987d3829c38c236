// Notifications of a made-up incident, for the tests of what the channels render.
#pragma once

#include <fmt/format.h>

#include <string>
#include <vector>

#include "alerting/incidents.h"

namespace lookout::test {

// The public_url the rows' links and the channels under test are built on.
inline const std::string kPublicUrl = "https://status.test";

// 2026-12-01T02:00:00Z, when the incidents below started.
inline const WallTime kIncidentStart{std::chrono::seconds{1'796'090'400}};

// A notification of incident 42 of `monitor` (group "Portal", http, down since kIncidentStart,
// with an ack link), id evt_0123, on channel "c" of route "oncall" for "+1555".
inline OutboxRow incident_row(const std::string& event,
                              const std::string& cause = "expected status 200, got 503",
                              const std::string& monitor = "portal-home") {
  IncidentRecord i;
  i.id = 42;
  i.monitor = monitor;
  i.group = "Portal";
  i.type = "http";
  i.cause = cause;
  i.started_at = kIncidentStart;
  const std::string payload = incident_payload(i, "https://status.test/ack/42.1.abc");
  return OutboxRow{"evt_0123", 42, event, "c", "oncall", "+1555", kIncidentStart, payload};
}

// The monitor page and the ack link of incident_row()'s notifications.
inline const std::string kMonitorPage = "https://status.test/monitor/portal-home";
inline const std::string kAckLink = "https://status.test/ack/42.1.abc";

// A notification of `event` for incident `id` of `monitor` in `state` (group "Portal", http,
// since kIncidentStart), made at `created`, with id "evt_" and the incident id in four digits;
// an open incident's has an ack link, a resolved one was resolved at `created`.
inline OutboxRow incident_row_of(int64_t id, const std::string& monitor, State state,
                                 const std::string& event, WallTime created) {
  IncidentRecord i;
  i.id = id;
  i.monitor = monitor;
  i.group = "Portal";
  i.type = "http";
  i.state = state;
  i.cause = "expected status 200, got 503";
  i.started_at = kIncidentStart;
  if (event == "incident.resolved") i.resolved_at = created;
  const std::string ack = i.open() ? fmt::format("https://status.test/ack/{}.1.abc", id) : "";
  return OutboxRow{fmt::format("evt_{:04}", id), id, event, "c", "oncall", "", created,
                   incident_payload(i, ack)};
}

// When post_row()'s update was written: ten minutes after kIncidentStart.
inline const WallTime kPostUpdatedAt = kIncidentStart + std::chrono::minutes(10);

// A notification of post 7 "Database failover" (impact major, about portal-home and
// billing-db, made at kIncidentStart), id evt_post, on channel "c" of route "oncall".
// incident.posted: its opening update has `status` and `body`; incident.post_updated: it was
// opened investigating and updated at kPostUpdatedAt with them (resolved sets resolved_at).
inline OutboxRow post_row(const std::string& event = "incident.posted",
                          const std::string& status = "investigating",
                          const std::string& body = "Replicas lag behind.\nFailing over.") {
  PostRecord p;
  p.id = 7;
  p.title = "Database failover";
  p.impact = PostImpact::kMajor;
  p.monitors = {"portal-home", "billing-db"};
  p.created_at = kIncidentStart;
  const PostStatus st = post_status_from_string(status).value_or(PostStatus::kInvestigating);
  const bool update = event == "incident.post_updated";
  if (update) p.updates.push_back({PostStatus::kInvestigating, "Looking.", kIncidentStart});
  p.updates.push_back({st, body, update ? kPostUpdatedAt : kIncidentStart});
  if (st == PostStatus::kResolved) p.resolved_at = p.updates.back().at;
  return OutboxRow{
      "evt_post", 0, event, "c", "oncall", "", p.updates.back().at, post_payload(p, kPublicUrl)};
}
inline const std::string kPostPage = "https://status.test/posts/7";

// What `lookout alert-test` sends: no incident.
inline OutboxRow test_row() { return OutboxRow{"evt_1", 0, "test", "c", "", "", WallTime{}, ""}; }

// A batch of `n` as the dispatcher sends it, worst first: api-000 ... opened, the last one
// resolved, with ids evt_0000, evt_0001, ...
inline std::vector<OutboxRow> storm(size_t n) {
  std::vector<OutboxRow> rows;
  for (size_t i = 0; i < n; ++i) {
    OutboxRow r = incident_row(i + 1 == n ? "incident.resolved" : "incident.opened",
                               "expected status 200, got 503", fmt::format("api-{:03}", i));
    r.id = fmt::format("evt_{:04}", i);
    rows.push_back(r);
  }
  return rows;
}

}  // namespace lookout::test
