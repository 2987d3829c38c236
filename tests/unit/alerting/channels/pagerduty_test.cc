#include "alerting/channels/pagerduty.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "config/channels/pagerduty_spec.h"
#include "core/curl_bridge.h"
#include "core/event_loop.h"
#include "tests/support/fake_clock.h"
#include "tests/support/http_recorder.h"
#include "tests/support/outbox_rows.h"

namespace lookout {
namespace {

using Kind = DeliveryOutcome::Kind;
using nlohmann::json;
using test::incident_row;
using test::incident_row_of;
using test::kAckLink;
using test::kIncidentStart;
using test::kMonitorPage;

const std::string kRoutingKey = "R0ut1ngK3yOfTh1rtyTw0Charact3rs0";

ChannelConfig pagerduty_config(const std::string& url = "https://events.test/") {
  ChannelConfig c;
  c.name = "pd";
  c.type = "pagerduty";
  c.url = Secret::plain(url);
  auto spec = std::make_shared<PagerDutySpec>();
  spec->routing_key = Secret(kRoutingKey, true);
  c.spec = spec;
  return c;
}

std::vector<json> pagerduty_bodies(const std::vector<HttpPost>& requests) {
  std::vector<json> out;
  out.reserve(requests.size());
  for (const auto& r : requests) out.push_back(json::parse(r.body));
  return out;
}

json opened_trigger() {
  return {{"routing_key", kRoutingKey},
          {"event_action", "trigger"},
          {"dedup_key", "lookout-42"},
          {"payload",
           {{"summary", "DOWN portal-home: expected status 200, got 503"},
            {"source", "portal-home"},
            {"severity", "critical"},
            {"timestamp", "2026-12-01T02:00:00.000Z"},
            {"component", "http"},
            {"group", "Portal"},
            {"custom_details",
             {{"cause", "expected status 200, got 503"},
              {"state", "down"},
              {"since", "2026-12-01T02:00:00.000Z"},
              {"monitor_page", kMonitorPage},
              {"ack_link", kAckLink}}}}},
          {"links", json::array({{{"href", kMonitorPage}, {"text", "Monitor page"}},
                                 {{"href", kAckLink}, {"text", "Acknowledge in lookout"}}})},
          {"client", "lookout"},
          {"client_url", kMonitorPage}};
}

TEST(PagerDutyChannel, OpenedTriggersTheIncidentsAlert) {
  const auto requests = pagerduty_requests(pagerduty_config(), {incident_row("incident.opened")},
                                           "https://status.test");
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].url, "https://events.test/v2/enqueue");
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].headers,
            (std::vector<std::string>{"Content-Type: application/json",
                                      fmt::format("User-Agent: lookout/{}", LOOKOUT_VERSION)}));
  EXPECT_FALSE(requests[0].basic_auth);
  EXPECT_EQ(json::parse(requests[0].body), opened_trigger());
}

TEST(PagerDutyChannel, EscalationsRemindersAndUpdatesTriggerTheSameAlertAgain) {
  const ChannelConfig c = pagerduty_config();
  for (const std::string event : {"incident.escalated", "incident.reminder"}) {
    const auto b =
        pagerduty_bodies(pagerduty_requests(c, {incident_row(event)}, "https://status.test"));
    ASSERT_EQ(b.size(), 1u);
    json expected = opened_trigger();
    expected["payload"]["summary"] = (event == "incident.escalated" ? "ESCALATED" : "REMINDER") +
                                     std::string(" DOWN portal-home: expected status 200, got 503");
    EXPECT_EQ(b[0], expected) << event;
  }
  const auto degraded = pagerduty_bodies(pagerduty_requests(
      c, {incident_row_of(42, "portal-home", State::kDegraded, "incident.updated", kIncidentStart)},
      "https://status.test"));
  ASSERT_EQ(degraded.size(), 1u);
  EXPECT_EQ(degraded[0]["event_action"], "trigger");
  EXPECT_EQ(degraded[0]["dedup_key"], "lookout-42");
  EXPECT_EQ(degraded[0]["payload"]["severity"], "warning");
  EXPECT_EQ(degraded[0]["payload"]["summary"],
            "DEGRADED portal-home: expected status 200, got 503");
  EXPECT_EQ(degraded[0]["payload"]["custom_details"]["state"], "degraded");
}

TEST(PagerDutyChannel, AcknowledgedAndResolvedActOnTheAlertByItsDedupKey) {
  const ChannelConfig c = pagerduty_config();
  EXPECT_EQ(pagerduty_bodies(
                pagerduty_requests(c, {incident_row("incident.acknowledged")}, "https://s.test")),
            (std::vector<json>{{{"routing_key", kRoutingKey},
                                {"event_action", "acknowledge"},
                                {"dedup_key", "lookout-42"}}}));
  EXPECT_EQ(
      pagerduty_bodies(pagerduty_requests(
          c,
          {incident_row_of(42, "portal-home", State::kDown, "incident.resolved", kIncidentStart)},
          "https://s.test")),
      (std::vector<json>{{{"routing_key", kRoutingKey},
                          {"event_action", "resolve"},
                          {"dedup_key", "lookout-42"}}}));
}

TEST(PagerDutyChannel, TestTriggersAndResolvesAnAlertOfItsOwn) {
  OutboxRow t = test::test_row();
  t.created = kIncidentStart;
  const auto requests = pagerduty_requests(pagerduty_config(), {t}, "https://status.test");
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[1].url, "https://events.test/v2/enqueue");
  EXPECT_EQ(
      pagerduty_bodies(requests),
      (std::vector<json>{{{"routing_key", kRoutingKey},
                          {"event_action", "trigger"},
                          {"dedup_key", "lookout-test-evt_1"},
                          {"payload",
                           {{"summary", "TEST lookout: this channel delivers. Nothing is wrong."},
                            {"source", "lookout"},
                            {"severity", "info"},
                            {"timestamp", "2026-12-01T02:00:00.000Z"}}}},
                         {{"routing_key", kRoutingKey},
                          {"event_action", "resolve"},
                          {"dedup_key", "lookout-test-evt_1"}}}));
}

TEST(PagerDutyChannel, AStormIsAnEventPerIncidentInTheOrderTheyHappened) {
  // As the dispatcher hands it over: worst first.
  const WallTime t0 = kIncidentStart;
  const std::vector<OutboxRow> batch{
      incident_row_of(7, "api-007", State::kDown, "incident.opened", t0 + Duration{2000}),
      incident_row_of(5, "api-005", State::kDegraded, "incident.opened", t0),
      incident_row_of(5, "api-005", State::kDegraded, "incident.acknowledged", t0 + Duration{1000}),
      incident_row_of(3, "api-003", State::kDown, "incident.resolved", t0 + Duration{500}),
  };
  const auto b =
      pagerduty_bodies(pagerduty_requests(pagerduty_config(), batch, "https://status.test"));
  ASSERT_EQ(b.size(), 4u);
  std::vector<std::pair<std::string, std::string>> seen;
  for (const auto& e : b) {
    seen.emplace_back(e["event_action"], e["dedup_key"]);
    EXPECT_EQ(e["routing_key"], kRoutingKey);
  }
  EXPECT_EQ(seen, (std::vector<std::pair<std::string, std::string>>{{"trigger", "lookout-5"},
                                                                    {"resolve", "lookout-3"},
                                                                    {"acknowledge", "lookout-5"},
                                                                    {"trigger", "lookout-7"}}));
  EXPECT_EQ(b[0]["payload"]["severity"], "warning");
  EXPECT_EQ(b[0]["payload"]["source"], "api-005");
  EXPECT_EQ(b[3]["payload"]["severity"], "critical");
  EXPECT_EQ(b[3]["links"][1]["href"], "https://status.test/ack/7.1.abc");
}

TEST(PagerDutyChannel, OnlyA202IsDeliveredAndAnInvalidEventFailsWithPagerDutysWords) {
  EXPECT_EQ(pagerduty_outcome(CURLE_OK, 202, R"({"status":"success","message":"Event processed",
            "dedup_key":"lookout-42"})")
                .kind,
            Kind::kDelivered);
  const auto ok = pagerduty_outcome(CURLE_OK, 202, "");
  EXPECT_EQ(ok.detail, "HTTP 202");
  const auto other = pagerduty_outcome(CURLE_OK, 200, "<html>proxy</html>");
  EXPECT_EQ(other.kind, Kind::kPermanent);
  EXPECT_EQ(other.detail, "HTTP 200 where 202 means delivered");
  const auto invalid = pagerduty_outcome(CURLE_OK, 400, R"js({"status":"invalid event",
      "message":"Event object is invalid",
      "errors":["Length of 'routing_key' is incorrect (should be 32 characters)"]})js");
  EXPECT_EQ(invalid.kind, Kind::kPermanent);
  EXPECT_EQ(invalid.detail,
            "HTTP 400: Event object is invalid (Length of 'routing_key' is incorrect (should be 32 "
            "characters))");
  for (const long status : {429L, 500L, 502L, 503L}) {
    const auto o = pagerduty_outcome(CURLE_OK, status, R"({"status":"throttle"})");
    EXPECT_EQ(o.kind, Kind::kRetry) << status;
    EXPECT_EQ(o.detail, fmt::format("HTTP {}", status));
  }
  EXPECT_EQ(pagerduty_outcome(CURLE_OK, 404, "no such path").detail, "HTTP 404: no such path");
  EXPECT_EQ(pagerduty_outcome(CURLE_COULDNT_CONNECT, 0, "connection refused").kind, Kind::kRetry);
}

// Sends `rows` through a real channel and loop to `server`, and waits for the outcome.
DeliveryOutcome deliver_to_pagerduty(const test::HttpRecorder& server,
                                     const std::vector<OutboxRow>& rows,
                                     std::shared_ptr<const Redactor> redactor = nullptr) {
  EventLoop loop;
  FakeClock clock;
  CurlBridge curl(loop, clock);
  PagerDutyChannel channel(pagerduty_config(server.url()), curl, clock, "https://status.test",
                           std::move(redactor));
  DeliveryOutcome out{Kind::kRetry, "no answer"};
  channel.send(rows, [&out](DeliveryOutcome o) { out = std::move(o); });
  loop.run();
  return out;
}

TEST(PagerDutyChannel, AStormIsDeliveredOnlyWhenEveryEventWas) {
  const std::vector<OutboxRow> batch{
      incident_row_of(1, "api-001", State::kDown, "incident.opened", kIncidentStart),
      incident_row_of(2, "api-002", State::kDown, "incident.opened", kIncidentStart + Duration{1}),
      incident_row_of(3, "api-003", State::kDown, "incident.opened", kIncidentStart + Duration{2}),
  };
  {
    test::HttpRecorder server({{202, R"({"status":"success","message":"Event processed"})"}});
    const auto o = deliver_to_pagerduty(server, batch);
    EXPECT_EQ(o.kind, Kind::kDelivered);
    EXPECT_EQ(o.detail, "HTTP 202 (3 requests)");
    const auto seen = server.seen();
    ASSERT_EQ(seen.size(), 3u);
    for (size_t i = 0; i < seen.size(); ++i) {
      EXPECT_EQ(seen[i].path, "/v2/enqueue");
      EXPECT_EQ(seen[i].header("Content-Type"), "application/json");
      EXPECT_EQ(seen[i].header("User-Agent"), fmt::format("lookout/{}", LOOKOUT_VERSION));
      EXPECT_EQ(json::parse(seen[i].body)["dedup_key"], fmt::format("lookout-{}", i + 1));
    }
  }
  {
    // The second is refused, and names the routing key: the rest is not sent, the key masked.
    auto redactor = std::make_shared<Redactor>();
    redactor->add(kRoutingKey);
    test::HttpRecorder server(
        {{202, ""},
         {400, R"({"status":"invalid event","message":"Event object is invalid","errors":[")" +
                   kRoutingKey + R"( is not a known routing key"]})"}});
    const auto o = deliver_to_pagerduty(server, batch, redactor);
    EXPECT_EQ(o.kind, Kind::kPermanent);
    EXPECT_EQ(o.detail,
              "request 2 of 3: HTTP 400: Event object is invalid (*** is not a known routing key)");
    EXPECT_EQ(server.seen().size(), 2u);
  }
  {
    test::HttpRecorder server({{202, ""}, {429, ""}});
    const auto o = deliver_to_pagerduty(server, batch);
    EXPECT_EQ(o.kind, Kind::kRetry);
    EXPECT_EQ(o.detail, "request 2 of 3: HTTP 429");
  }
}

TEST(PagerDutyChannel, APostIsAChangeEventThatPagesNobody) {
  const auto requests =
      pagerduty_requests(pagerduty_config(), {test::post_row()}, test::kPublicUrl);
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].url, "https://events.test/v2/change/enqueue");
  EXPECT_EQ(requests[0].headers[0], "Content-Type: application/json");
  EXPECT_EQ(
      json::parse(requests[0].body),
      (json{{"routing_key", kRoutingKey},
            {"payload",
             {{"summary", "POST [major] Database failover: investigating"},
              {"timestamp", "2026-12-01T02:00:00.000Z"},
              {"source", "lookout"},
              {"custom_details",
               {{"post_id", 7},
                {"status", "investigating"},
                {"impact", "major"},
                {"monitors", {"portal-home", "billing-db"}},
                {"update", "Replicas lag behind. Failing over."},
                {"created_at", "2026-12-01T02:00:00.000Z"},
                {"resolved_at", nullptr}}}}},
            {"links", json::array({{{"href", test::kPostPage}, {"text", "Status page post"}}})}}));
  const json resolved = json::parse(
      pagerduty_requests(pagerduty_config(),
                         {test::post_row("incident.post_updated", "resolved", "Fixed.")},
                         test::kPublicUrl)[0]
          .body);
  EXPECT_EQ(resolved["payload"]["summary"], "POST RESOLVED [major] Database failover");
  EXPECT_EQ(resolved["payload"]["timestamp"], "2026-12-01T02:10:00.000Z");
  EXPECT_EQ(resolved["payload"]["custom_details"]["resolved_at"], "2026-12-01T02:10:00.000Z");
  EXPECT_FALSE(resolved.contains("event_action")) << "not an alert event";
  EXPECT_FALSE(resolved.contains("dedup_key"));
}

TEST(PagerDutyChannel, AStormWithAPostSendsItsChangeEventBesideTheAlertEvents) {
  std::vector<OutboxRow> rows{
      incident_row_of(7, "api-7", State::kDown, "incident.opened", kIncidentStart),
      test::post_row()};
  rows[1].created = kIncidentStart + Duration{5};
  const auto requests = pagerduty_requests(pagerduty_config(), rows, test::kPublicUrl);
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].url, "https://events.test/v2/enqueue");
  EXPECT_EQ(requests[1].url, "https://events.test/v2/change/enqueue");
}

}  // namespace
}  // namespace lookout
