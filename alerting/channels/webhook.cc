#include "alerting/channels/webhook.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "config/channels/webhook_spec.h"
#include "core/digest.h"

namespace lookout {

namespace {

// The event's own fields: its incident, and a post's event its post as well.
nlohmann::json webhook_event(const OutboxRow& row) {
  nlohmann::json e{{"id", row.id}, {"event", row.event}, {"incident", incident_of(row)}};
  if (is_post_event(row.event)) e["post"] = post_of(row);
  return e;
}

}  // namespace

std::string webhook_body(const OutboxRow& row, WallTime sent_at) {
  nlohmann::json body{{"version", 1}, {"sent_at", rfc3339(sent_at)}};
  body.update(webhook_event(row));
  return body.dump();
}

std::string webhook_body(const Batch& rows, WallTime sent_at, const std::string& public_url) {
  if (rows.size() == 1) return webhook_body(rows.front(), sent_at);
  nlohmann::json counts = nlohmann::json::object();
  nlohmann::json events = nlohmann::json::array();
  for (const auto& r : rows) {
    counts[r.event] = counts.value(r.event, 0) + 1;
    events.push_back(webhook_event(r));
  }
  return nlohmann::json{{"version", 1},
                        {"id", notification_id(rows)},
                        {"event", "group"},
                        {"sent_at", rfc3339(sent_at)},
                        {"route", rows.front().route},
                        {"count", rows.size()},
                        {"counts", counts},
                        {"status_url", status_url(public_url)},
                        {"events", events}}
      .dump();
}

std::string webhook_signature(const std::string& secret, const std::string& body) {
  return "sha256=" + hmac_sha256_hex(secret, body);
}

HttpPost webhook_request(const ChannelConfig& c, const Batch& rows, WallTime sent_at,
                         const std::string& public_url) {
  HttpPost r;
  r.url = c.url.reveal();
  r.body = webhook_body(rows, sent_at, public_url);
  r.headers = {
      "Content-Type: application/json", fmt::format("User-Agent: lookout/{}", LOOKOUT_VERSION),
      "Idempotency-Key: " + notification_id(rows), "X-Lookout-Event: " + notification_event(rows)};
  const auto& spec = c.spec_as<WebhookSpec>();
  if (spec.secret)
    r.headers.push_back("X-Lookout-Signature: " + webhook_signature(spec.secret->reveal(), r.body));
  for (const auto& [k, v] : spec.headers) r.headers.push_back(k + ": " + v.reveal());
  return r;
}

void WebhookChannel::send(const std::vector<OutboxRow>& rows, Done done) {
  post(webhook_request(config(), rows, clock().wall(), public_url()), std::move(done));
}

}  // namespace lookout
