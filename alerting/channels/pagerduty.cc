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

std::vector<HttpPost> pagerduty_requests(const ChannelConfig& c, const Batch& rows,
                                         const std::string& public_url) {
  const std::string& routing_key = c.spec_as<PagerDutySpec>().routing_key.reveal();
  std::vector<HttpPost> out;
  for (const auto& row : in_event_order(rows)) {
    for (auto& event : pagerduty_events(row, public_url)) {
      event["routing_key"] = routing_key;
      HttpPost r;
      r.url = api_url(c.url.reveal(), "/v2/enqueue");
      r.headers = {"Content-Type: application/json",
                   fmt::format("User-Agent: lookout/{}", LOOKOUT_VERSION)};
      r.body = event.dump();
      out.push_back(std::move(r));
    }
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
