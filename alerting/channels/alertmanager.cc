#include "alerting/channels/alertmanager.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "config/channels/alertmanager_spec.h"
#include "core/curl_bridge.h"
#include "core/units.h"

namespace lookout {
namespace {

constexpr std::string_view kDownAlertname = "LookoutMonitorDown";
constexpr std::string_view kDegradedAlertname = "LookoutMonitorDegraded";

Notice alert_notice(const OutboxRow& row, const std::string& public_url) {
  Notice n = notice_of(row, public_url);
  // Alertmanager repeats and escalates by its own route; "ESCALATED" or "REMINDER" in the
  // summary would stick to the alert through every resend after it.
  if (n.event == "incident.escalated" || n.event == "incident.reminder")
    n.label = event_label("incident.opened", n.state);
  return n;
}

// `ends_at` is set when the alert ends; a firing alert has none (Alertmanager then keeps it for
// its resolve_timeout after each post).
nlohmann::json alert_of(const Notice& n, std::string_view alertname,
                        const std::optional<std::string>& ends_at) {
  nlohmann::json labels{{"alertname", alertname},
                        {"monitor", n.monitor},
                        {"type", n.type},
                        {"severity", alertname == kDownAlertname ? "critical" : "warning"}};
  // An empty label is no label to Alertmanager: leave it out rather than send one.
  if (!n.group.empty()) labels["group"] = n.group;
  nlohmann::json annotations{{"summary", n.title()}, {"cause", n.cause}};
  if (!n.ack_url.empty()) annotations["ack_url"] = n.ack_url;
  nlohmann::json alert{{"labels", labels},
                       {"annotations", annotations},
                       {"startsAt", n.since},
                       {"generatorURL", n.monitor_url}};
  if (ends_at) alert["endsAt"] = *ends_at;
  return alert;
}

std::string_view alertname_of(const Notice& n) {
  return n.state == "down" ? kDownAlertname : kDegradedAlertname;
}

nlohmann::json firing_alert(const Notice& n) { return alert_of(n, alertname_of(n), std::nullopt); }

std::string_view other_alertname(std::string_view name) {
  return name == kDownAlertname ? kDegradedAlertname : kDownAlertname;
}

// `fired_as`: the state the incident's alert fires under, "" when unknown.
void add_alerts(const OutboxRow& row, WallTime now, const std::string& public_url,
                const std::string& fired_as, std::vector<nlohmann::json>& out) {
  const Notice n = alert_notice(row, public_url);
  if (n.test) {
    out.push_back(
        {{"labels", {{"alertname", "LookoutTest"}, {"severity", "info"}, {"event_id", row.id}}},
         {"annotations", {{"summary", n.text()}}},
         {"startsAt", rfc3339(now)},
         {"endsAt", rfc3339(now + kAlertmanagerTestFiresFor)},
         {"generatorURL", status_url(public_url)}});
    return;
  }
  if (n.resolved()) {
    std::string at = incident_field(incident_of(row), "resolved_at");
    if (at.empty()) at = rfc3339(row.created);
    if (fired_as != "degraded") out.push_back(alert_of(n, kDownAlertname, at));
    if (fired_as != "down") out.push_back(alert_of(n, kDegradedAlertname, at));
    return;
  }
  // The new alert first, then the end of the old one: no moment without a firing alert.
  out.push_back(firing_alert(n));
  if (n.event == "incident.updated")
    out.push_back(alert_of(n, other_alertname(alertname_of(n)), rfc3339(now)));
}

// Alertmanager has no acknowledgement, and takes no posts (the alert engine makes none for it;
// one stored for a channel that a reload has since made an Alertmanager one sends nothing).
bool alertmanager_ignores(const OutboxRow& r) {
  return r.event == "incident.acknowledged" || is_post_event(r.event);
}

}  // namespace

std::vector<nlohmann::json> alertmanager_alerts(const Batch& rows, WallTime now,
                                                const std::string& public_url,
                                                const FiringAlerts& firing) {
  const Batch ordered = in_event_order(rows);
  std::vector<const OutboxRow*> latest;
  std::map<int64_t, size_t> slot;              // incident id -> its place in `latest`
  std::map<int64_t, std::string> batch_state;  // incident id -> its last open state here
  for (const auto& r : ordered) {
    if (alertmanager_ignores(r)) continue;
    if (r.incident_id != 0) {
      if (r.event != "incident.resolved")
        batch_state[r.incident_id] = incident_field(incident_of(r), "state");
      const auto [it, fresh] = slot.emplace(r.incident_id, latest.size());
      if (!fresh) {
        latest[it->second] = &r;
        continue;
      }
    }
    latest.push_back(&r);
  }
  std::vector<nlohmann::json> out;
  for (const OutboxRow* r : latest) {
    std::string fired_as = firing.state_of(r->incident_id);
    if (fired_as.empty()) fired_as = batch_state[r->incident_id];
    add_alerts(*r, now, public_url, fired_as, out);
  }
  return out;
}

std::vector<nlohmann::json> alertmanager_firing(const std::vector<OutboxRow>& rows,
                                                const std::string& public_url) {
  std::vector<nlohmann::json> out;
  out.reserve(rows.size());
  for (const auto& r : rows) out.push_back(firing_alert(alert_notice(r, public_url)));
  return out;
}

HttpPost alertmanager_request(const ChannelConfig& c, const nlohmann::json& alert) {
  HttpPost r;
  r.url = api_url(c.url.reveal(), "/api/v2/alerts");
  r.headers = {"Content-Type: application/json",
               fmt::format("User-Agent: lookout/{}", LOOKOUT_VERSION)};
  r.body = nlohmann::json::array({alert}).dump();
  const auto& spec = c.spec_as<AlertmanagerSpec>();
  if (spec.username && spec.password)
    r.basic_auth = HttpPost::BasicAuth{spec.username->reveal(), spec.password->reveal()};
  return r;
}

std::vector<HttpPost> alertmanager_requests(const ChannelConfig& c,
                                            const std::vector<nlohmann::json>& alerts) {
  std::vector<HttpPost> out;
  out.reserve(alerts.size());
  for (const auto& a : alerts) out.push_back(alertmanager_request(c, a));
  return out;
}

DeliveryOutcome alertmanager_outcome(CURLcode code, long status, const std::string& answer) {
  return exact_http_outcome(code, status, code == CURLE_OK ? provider_error(answer) : answer, 200);
}

void FiringAlerts::add(const std::vector<OutboxRow>& rows) {
  for (const auto& r : in_event_order(rows)) {
    if (r.incident_id == 0) continue;  // a test fires once, by its own endsAt
    if (r.event == "incident.resolved") {
      firing_.erase(r.incident_id);
      ended_.insert(r.incident_id);
      // Incident ids grow, so the smallest is the oldest resolution.
      if (ended_.size() > kEndedKept) ended_.erase(ended_.begin());
      continue;
    }
    if (ended_.count(r.incident_id) != 0 || alertmanager_ignores(r)) continue;
    const auto it = firing_.find(r.incident_id);
    if (it != firing_.end() && r.created < it->second.created) continue;
    firing_[r.incident_id] = r;
  }
}

std::string FiringAlerts::state_of(int64_t incident_id) const {
  const auto it = firing_.find(incident_id);
  return it == firing_.end() ? "" : incident_field(incident_of(it->second), "state");
}

std::vector<OutboxRow> FiringAlerts::rows() const {
  std::vector<OutboxRow> out;
  out.reserve(firing_.size());
  for (const auto& [id, row] : firing_) out.push_back(row);
  return out;
}

AlertmanagerChannel::AlertmanagerChannel(const ChannelConfig& c, CurlBridge& curl,
                                         const Clock& clock, std::string public_url,
                                         std::shared_ptr<const Redactor> redactor,
                                         Duration resend_every)
    : CurlChannel(c, curl, clock, std::move(public_url), std::move(redactor)),
      resend_every_(resend_every),
      timer_(curl.loop()) {
  // Resends are best effort and must not keep a loop running on their own (`lookout
  // alert-test` runs its loop until every delivery has finished).
  timer_.unref();
}

void AlertmanagerChannel::send(const std::vector<OutboxRow>& rows, Done done) {
  if (resending_) {
    waiting_.push_back({rows, std::move(done)});
    return;
  }
  post_alerts(rows, std::move(done));
}

void AlertmanagerChannel::post_alerts(const std::vector<OutboxRow>& rows, Done done) {
  ++sending_;
  // The channel outlives this callback: the dispatcher keeps a channel until its deliveries
  // have reported.
  post_each(alertmanager_requests(config(),
                                  alertmanager_alerts(rows, clock().wall(), public_url(), firing_)),
            alertmanager_outcome, [this, rows, done = std::move(done)](DeliveryOutcome o) {
              --sending_;
              // Only what Alertmanager took keeps firing; the rest comes again by its retry.
              if (o.kind == DeliveryOutcome::Kind::kDelivered) keep_firing(rows);
              done(std::move(o));
            });
}

void AlertmanagerChannel::resume(const std::vector<OutboxRow>& delivered) {
  keep_firing(delivered);
}

void AlertmanagerChannel::keep_firing(const std::vector<OutboxRow>& rows) {
  firing_.add(rows);
  if (!firing_.empty() && !timer_running_) {
    timer_.start_repeating(resend_every_, [this] { resend(); });
    timer_running_ = true;
  } else if (firing_.empty() && timer_running_) {
    timer_.stop();
    timer_running_ = false;
  }
}

void AlertmanagerChannel::resend() {
  // Not through the outbox: the first post and the resolution are durable, and a lost resend is
  // made good by the next one well before Alertmanager's resolve_timeout passes.
  if (sending_ > 0 || resending_ || firing_.empty()) return;
  resending_ = true;
  post_each(alertmanager_requests(config(), alertmanager_firing(firing_.rows(), public_url())),
            alertmanager_outcome,
            [this, alive = std::weak_ptr<bool>(alive_)](const DeliveryOutcome& o) {
              if (alive.expired()) return;
              resent(o);
            });
}

void AlertmanagerChannel::resent(const DeliveryOutcome& o) {
  resending_ = false;
  const bool failed = o.kind != DeliveryOutcome::Kind::kDelivered;
  if (failed && !resend_failing_) {
    spdlog::warn(
        "alertmanager channel {}: resending the firing alerts failed ({}); Alertmanager resolves "
        "each one its resolve_timeout (5m unless set) after the last post it took",
        config().name, o.detail);
  } else if (!failed && resend_failing_) {
    spdlog::info("alertmanager channel {}: resending the firing alerts works again", config().name);
  }
  resend_failing_ = failed;
  std::vector<Waiting> waiting = std::move(waiting_);
  waiting_.clear();
  for (auto& w : waiting) post_alerts(w.rows, std::move(w.done));
}

}  // namespace lookout
