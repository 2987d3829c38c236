#include "alerting/channels/opsgenie.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "config/channels/opsgenie_spec.h"

namespace lookout {
namespace {

// Opsgenie refuses a longer message (422).
constexpr size_t kMessageMax = 130;

HttpPost opsgenie_post(const ChannelConfig& c, const std::string& path,
                       const nlohmann::json& body) {
  HttpPost r;
  r.url = api_url(c.url.reveal(), path);
  r.headers = {"Authorization: GenieKey " + c.spec_as<OpsgenieSpec>().api_key.reveal(),
               "Content-Type: application/json",
               fmt::format("User-Agent: lookout/{}", LOOKOUT_VERSION)};
  r.body = body.dump();
  return r;
}

nlohmann::json opsgenie_responders(const ChannelConfig& c) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& r : c.spec_as<OpsgenieSpec>().responders) {
    out.push_back({{"type", r.type}, {r.type == "user" ? "username" : "name", r.name}});
  }
  return out;
}

nlohmann::json opsgenie_create(const ChannelConfig& c, const Notice& n, const std::string& alias) {
  nlohmann::json body{{"message", one_line(n.title(), kMessageMax)},
                      {"alias", alias},
                      {"description", n.text()},
                      {"source", "lookout"}};
  if (n.test) {
    body["tags"] = {"lookout", "test"};
    body["priority"] = "P5";
  } else {
    nlohmann::json details{{"monitor", n.monitor}, {"type", n.type},
                           {"state", n.state},     {"cause", n.cause},
                           {"since", n.since},     {"monitor_page", n.monitor_url}};
    if (!n.group.empty()) details["group"] = n.group;
    if (!n.ack_url.empty()) details["ack_link"] = n.ack_url;
    body["tags"] = {"lookout", n.state, n.type};
    body["details"] = details;
    body["entity"] = n.monitor;
    body["priority"] = n.state == "down" ? "P1" : "P3";
  }
  if (const auto who = opsgenie_responders(c); !who.empty()) body["responders"] = who;
  return body;
}

// An alias is "lookout-" and digits, or an event id ([a-z0-9_]): nothing in it needs escaping
// in a path.
HttpPost opsgenie_action(const ChannelConfig& c, const std::string& alias, const std::string& verb,
                         const std::string& note) {
  return opsgenie_post(c, fmt::format("/v2/alerts/{}/{}?identifierType=alias", alias, verb),
                       {{"source", "lookout"}, {"user", "lookout"}, {"note", note}});
}

}  // namespace

std::vector<HttpPost> opsgenie_requests(const ChannelConfig& c, const OutboxRow& row,
                                        const std::string& public_url) {
  // Opsgenie takes no posts (the alert engine makes none for it); one stored for a channel that
  // a reload has since made an Opsgenie one sends nothing.
  if (is_post_event(row.event)) return {};
  const Notice n = notice_of(row, public_url);
  if (n.test) {
    const std::string alias = "lookout-test-" + row.id;
    return {opsgenie_post(c, "/v2/alerts", opsgenie_create(c, n, alias)),
            opsgenie_action(c, alias, "close", "lookout test: nothing is wrong")};
  }
  const std::string alias = fmt::format("lookout-{}", row.incident_id);
  if (n.event == "incident.acknowledged")
    return {opsgenie_action(c, alias, "acknowledge", n.title())};
  if (n.resolved()) return {opsgenie_action(c, alias, "close", n.title())};
  return {opsgenie_post(c, "/v2/alerts", opsgenie_create(c, n, alias))};
}

std::vector<HttpPost> opsgenie_requests(const ChannelConfig& c, const Batch& rows,
                                        const std::string& public_url) {
  std::vector<HttpPost> out;
  for (const auto& row : in_event_order(rows)) {
    for (auto& r : opsgenie_requests(c, row, public_url)) out.push_back(std::move(r));
  }
  return out;
}

DeliveryOutcome opsgenie_outcome(CURLcode code, long status, const std::string& answer) {
  return exact_http_outcome(code, status, code == CURLE_OK ? provider_error(answer) : answer, 202);
}

void OpsgenieChannel::send(const std::vector<OutboxRow>& rows, Done done) {
  // A storm goes as one request per row, not one digest: each incident must stay its own alert
  // under its own alias, or its acknowledgement and close would find nothing to act on, and
  // Opsgenie takes one alert a request. A retry sends them all again, which the aliases make
  // harmless (a create of an open alias only counts it again).
  post_each(opsgenie_requests(config(), rows, public_url()), opsgenie_outcome, std::move(done));
}

}  // namespace lookout
