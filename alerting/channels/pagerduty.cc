#include "alerting/channels/pagerduty.h"

#include <fmt/format.h>

#include "config/channels/pagerduty_spec.h"

namespace lookout {
namespace {

// PagerDuty cuts a summary at 1024 characters; the cause is already at most 300.
constexpr size_t kSummaryMax = 1024;

nlohmann::json pagerduty_trigger(const Notice& n, const std::string& dedup_key,
                                 const OutboxRow& row) {
  nlohmann::json details{
      {"cause", n.cause}, {"state", n.state}, {"since", n.since}, {"monitor_page", n.monitor_url}};
  nlohmann::json links = nlohmann::json::array();
  links.push_back({{"href", n.monitor_url}, {"text", "Monitor page"}});
  if (!n.ack_url.empty()) {
    details["ack_link"] = n.ack_url;
    links.push_back({{"href", n.ack_url}, {"text", "Acknowledge in lookout"}});
  }
  nlohmann::json payload{{"summary", one_line(n.title(), kSummaryMax)},
                         {"source", n.monitor},
                         {"severity", n.state == "down" ? "critical" : "warning"},
                         {"timestamp", rfc3339(row.created)},
                         {"component", n.type},
                         {"custom_details", details}};
  if (!n.group.empty()) payload["group"] = n.group;
  return {{"event_action", "trigger"}, {"dedup_key", dedup_key},
          {"payload", payload},        {"links", links},
          {"client", "lookout"},       {"client_url", n.monitor_url}};
}

}  // namespace

std::vector<nlohmann::json> pagerduty_events(const OutboxRow& row, const std::string& public_url) {
  const Notice n = notice_of(row, public_url);
  if (n.test) {
    const std::string key = "lookout-test-" + row.id;
    const nlohmann::json payload{{"summary", n.text()},
                                 {"source", "lookout"},
                                 {"severity", "info"},
                                 {"timestamp", rfc3339(row.created)}};
    return {{{"event_action", "trigger"}, {"dedup_key", key}, {"payload", payload}},
            {{"event_action", "resolve"}, {"dedup_key", key}}};
  }
  const std::string key = fmt::format("lookout-{}", row.incident_id);
  if (n.event == "incident.acknowledged")
    return {{{"event_action", "acknowledge"}, {"dedup_key", key}}};
  if (n.resolved()) return {{{"event_action", "resolve"}, {"dedup_key", key}}};
  return {pagerduty_trigger(n, key, row)};
}

nlohmann::json pagerduty_change_event(const OutboxRow& row, const std::string& public_url) {
  const Notice n = notice_of(row, public_url);
  const PostNotice& p = *n.post;
  nlohmann::json details{{"post_id", p.id},
                         {"status", p.status},
                         {"impact", p.impact},
                         {"monitors", p.monitors},
                         {"update", p.summary(kSummaryMax)},
                         {"created_at", p.created_at},
                         {"resolved_at", p.resolved_at.empty() ? nlohmann::json(nullptr)
                                                               : nlohmann::json(p.resolved_at)}};
  return {{"payload",
           {{"summary", one_line(n.title(), kSummaryMax)},
            {"timestamp", rfc3339(row.created)},
            {"source", "lookout"},
            {"custom_details", details}}},
          {"links", nlohmann::json::array({{{"href", p.url}, {"text", "Status page post"}}})}};
}

std::vector<HttpPost> pagerduty_requests(const ChannelConfig& c, const Batch& rows,
                                         const std::string& public_url) {
  const std::string& routing_key = c.spec_as<PagerDutySpec>().routing_key.reveal();
  std::vector<HttpPost> out;
  auto add = [&](nlohmann::json event, const char* path) {
    event["routing_key"] = routing_key;
    HttpPost r;
    r.url = api_url(c.url.reveal(), path);
    r.headers = {"Content-Type: application/json",
                 fmt::format("User-Agent: lookout/{}", LOOKOUT_VERSION)};
    r.body = event.dump();
    out.push_back(std::move(r));
  };
  for (const auto& row : in_event_order(rows)) {
    if (is_post_event(row.event)) {
      add(pagerduty_change_event(row, public_url), "/v2/change/enqueue");
      continue;
    }
    for (auto& event : pagerduty_events(row, public_url)) add(std::move(event), "/v2/enqueue");
  }
  return out;
}

DeliveryOutcome pagerduty_outcome(CURLcode code, long status, const std::string& answer) {
  return exact_http_outcome(code, status, code == CURLE_OK ? provider_error(answer) : answer, 202);
}

void PagerDutyChannel::send(const std::vector<OutboxRow>& rows, Done done) {
  // A storm goes as one request per row, not one digest: PagerDuty has no batch endpoint, and
  // each incident must stay its own alert under its own dedup key, or its acknowledgement and
  // resolution would find nothing to act on. A retry sends them all again, which the dedup keys
  // make harmless (a trigger of an open alert only adds to its log).
  post_each(pagerduty_requests(config(), rows, public_url()), pagerduty_outcome, std::move(done));
}

}  // namespace lookout
