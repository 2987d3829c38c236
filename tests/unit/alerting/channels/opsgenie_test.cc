#include "alerting/channels/opsgenie.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "config/channels/opsgenie_spec.h"
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

const std::string kApiKey = "eb243592-faa2-4ba2-a551q-1afdf565c889";

ChannelConfig opsgenie_config(const std::string& url = "https://api.opsgenie.test",
                              std::vector<OpsgenieResponder> responders = {}) {
  ChannelConfig c;
  c.name = "og";
  c.type = "opsgenie";
  c.url = Secret::plain(url);
  auto spec = std::make_shared<OpsgenieSpec>();
  spec->api_key = Secret(kApiKey, true);
  spec->responders = std::move(responders);
  c.spec = spec;
  return c;
}

const std::vector<std::string> kOpsgenieHeaders{
    "Authorization: GenieKey " + kApiKey, "Content-Type: application/json",
    fmt::format("User-Agent: lookout/{}", LOOKOUT_VERSION)};

TEST(OpsgenieChannel, OpenedCreatesTheIncidentsAlert) {
  const ChannelConfig c = opsgenie_config("https://api.opsgenie.test/",
                                          {{"team", "platform"}, {"user", "ana@acme.test"}});
  const auto requests =
      opsgenie_requests(c, incident_row("incident.opened"), "https://status.test");
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].url, "https://api.opsgenie.test/v2/alerts");
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].headers, kOpsgenieHeaders);
  EXPECT_FALSE(requests[0].basic_auth);
  EXPECT_EQ(json::parse(requests[0].body),
            (json{{"message", "DOWN portal-home: expected status 200, got 503"},
                  {"alias", "lookout-42"},
                  {"description",
                   "DOWN portal-home: expected status 200, got 503\n"
                   "state down since 2026-12-01T02:00:00.000Z\n" +
                       kMonitorPage + "\nacknowledge: " + kAckLink + "\n"},
                  {"responders", json::array({{{"type", "team"}, {"name", "platform"}},
                                              {{"type", "user"}, {"username", "ana@acme.test"}}})},
                  {"tags", {"lookout", "down", "http"}},
                  {"details",
                   {{"monitor", "portal-home"},
                    {"group", "Portal"},
                    {"type", "http"},
                    {"state", "down"},
                    {"cause", "expected status 200, got 503"},
                    {"since", "2026-12-01T02:00:00.000Z"},
                    {"monitor_page", kMonitorPage},
                    {"ack_link", kAckLink}}},
                  {"entity", "portal-home"},
                  {"priority", "P1"},
                  {"source", "lookout"}}));
}

TEST(OpsgenieChannel, TheMessageKeepsWithinOpsgeniesLimit) {
  const auto r =
      opsgenie_requests(opsgenie_config(), incident_row("incident.opened", std::string(300, 'x')),
                        "https://status.test");
  const std::string message = json::parse(r[0].body)["message"];
  EXPECT_EQ(message.size(), 130u);
  EXPECT_EQ(message.substr(0, 19), "DOWN portal-home: x");
  EXPECT_EQ(message.substr(127), "...");
}

TEST(OpsgenieChannel, EscalationsRemindersAndUpdatesCreateUnderTheSameAlias) {
  const ChannelConfig c = opsgenie_config();
  for (const std::string event : {"incident.escalated", "incident.reminder"}) {
    const auto r = opsgenie_requests(c, incident_row(event), "https://status.test");
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].url, "https://api.opsgenie.test/v2/alerts");
    const auto b = json::parse(r[0].body);
    EXPECT_EQ(b["alias"], "lookout-42");
    EXPECT_EQ(b["priority"], "P1");
    EXPECT_FALSE(b.contains("responders")) << "none configured: the integration's own";
  }
  const auto degraded = opsgenie_requests(
      c, incident_row_of(42, "portal-home", State::kDegraded, "incident.updated", kIncidentStart),
      "https://status.test");
  const auto b = json::parse(degraded[0].body);
  EXPECT_EQ(b["alias"], "lookout-42");
  EXPECT_EQ(b["priority"], "P3");
  EXPECT_EQ(b["message"], "DEGRADED portal-home: expected status 200, got 503");
  EXPECT_EQ(b["tags"], (json{"lookout", "degraded", "http"}));
}

TEST(OpsgenieChannel, AcknowledgedAndResolvedActOnTheAlertByItsAlias) {
  const ChannelConfig c = opsgenie_config();
  const auto ack = opsgenie_requests(c, incident_row("incident.acknowledged"), "https://s.test");
  ASSERT_EQ(ack.size(), 1u);
  EXPECT_EQ(ack[0].url,
            "https://api.opsgenie.test/v2/alerts/lookout-42/acknowledge?identifierType=alias");
  EXPECT_EQ(ack[0].headers, kOpsgenieHeaders);
  EXPECT_EQ(json::parse(ack[0].body),
            (json{{"source", "lookout"},
                  {"user", "lookout"},
                  {"note", "ACK DOWN portal-home: expected status 200, got 503"}}));
  const auto resolved = opsgenie_requests(
      c, incident_row_of(42, "portal-home", State::kDown, "incident.resolved", kIncidentStart),
      "https://s.test");
  ASSERT_EQ(resolved.size(), 1u);
  EXPECT_EQ(resolved[0].url,
            "https://api.opsgenie.test/v2/alerts/lookout-42/close?identifierType=alias");
  EXPECT_EQ(json::parse(resolved[0].body),
            (json{{"source", "lookout"}, {"user", "lookout"}, {"note", "RESOLVED portal-home"}}));
}

TEST(OpsgenieChannel, TestCreatesAnAlertOfItsOwnAndClosesIt) {
  const auto r = opsgenie_requests(opsgenie_config("https://api.opsgenie.test", {{"team", "ops"}}),
                                   test::test_row(), "https://status.test");
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].url, "https://api.opsgenie.test/v2/alerts");
  EXPECT_EQ(json::parse(r[0].body),
            (json{{"message", "TEST lookout: this channel delivers"},
                  {"alias", "lookout-test-evt_1"},
                  {"description", "TEST lookout: this channel delivers. Nothing is wrong."},
                  {"responders", json::array({{{"type", "team"}, {"name", "ops"}}})},
                  {"tags", {"lookout", "test"}},
                  {"priority", "P5"},
                  {"source", "lookout"}}));
  EXPECT_EQ(r[1].url,
            "https://api.opsgenie.test/v2/alerts/lookout-test-evt_1/close?identifierType=alias");
  EXPECT_EQ(json::parse(r[1].body), (json{{"source", "lookout"},
                                          {"user", "lookout"},
                                          {"note", "lookout test: nothing is wrong"}}));
}

TEST(OpsgenieChannel, AStormIsARequestPerIncidentInTheOrderTheyHappened) {
  const WallTime t0 = kIncidentStart;
  const std::vector<OutboxRow> batch{
      incident_row_of(7, "api-007", State::kDown, "incident.opened", t0 + Duration{2000}),
      incident_row_of(5, "api-005", State::kDegraded, "incident.opened", t0),
      incident_row_of(5, "api-005", State::kDegraded, "incident.acknowledged", t0 + Duration{1000}),
      incident_row_of(3, "api-003", State::kDown, "incident.resolved", t0 + Duration{500}),
  };
  std::vector<std::string> urls;
  for (const auto& r : opsgenie_requests(opsgenie_config(), batch, "https://status.test"))
    urls.push_back(r.url.substr(std::string("https://api.opsgenie.test").size()));
  EXPECT_EQ(urls, (std::vector<std::string>{
                      "/v2/alerts",
                      "/v2/alerts/lookout-3/close?identifierType=alias",
                      "/v2/alerts/lookout-5/acknowledge?identifierType=alias",
                      "/v2/alerts",
                  }));
}

TEST(OpsgenieChannel, OnlyA202IsDeliveredAndRefusalsFailWithOpsgeniesWords) {
  const auto ok = opsgenie_outcome(
      CURLE_OK, 202,
      R"({"result":"Request will be processed","took":0.302,"requestId":"43a29c5c-3dbf"})");
  EXPECT_EQ(ok.kind, Kind::kDelivered);
  EXPECT_EQ(ok.detail, "HTTP 202");
  EXPECT_EQ(opsgenie_outcome(CURLE_OK, 200, "{}").kind, Kind::kPermanent);
  const auto unprocessable = opsgenie_outcome(CURLE_OK, 422, R"({"message":
      "Request body is not processable. Please check the errors.",
      "errors":{"message":"Message can not be empty."},"took":0.001,"requestId":"9b"})");
  EXPECT_EQ(unprocessable.kind, Kind::kPermanent);
  EXPECT_EQ(unprocessable.detail,
            "HTTP 422: Request body is not processable. Please check the errors. (message: "
            "Message can not be empty.)");
  for (const long status : {400L, 401L, 403L}) {
    const auto o = opsgenie_outcome(
        CURLE_OK, status, R"({"message":"Could not authenticate","took":0.0,"requestId":"1"})");
    EXPECT_EQ(o.kind, Kind::kPermanent) << status;
    EXPECT_EQ(o.detail, fmt::format("HTTP {}: Could not authenticate", status));
  }
  for (const long status : {429L, 500L, 503L}) {
    EXPECT_EQ(opsgenie_outcome(CURLE_OK, status, R"({"message":"too many"})").kind, Kind::kRetry)
        << status;
  }
  EXPECT_EQ(opsgenie_outcome(CURLE_OPERATION_TIMEDOUT, 0, "timed out").kind, Kind::kRetry);
}

TEST(OpsgenieChannel, ATestIsDeliveredOnceTheAlertIsCreatedAndClosed) {
  test::HttpRecorder server({{202, R"({"result":"Request will be processed"})"}});
  EventLoop loop;
  FakeClock clock;
  CurlBridge curl(loop, clock);
  OpsgenieChannel channel(opsgenie_config(server.url() + "/"), curl, clock, "https://status.test",
                          nullptr);
  DeliveryOutcome out{Kind::kRetry, "no answer"};
  channel.send({test::test_row()}, [&out](DeliveryOutcome o) { out = std::move(o); });
  loop.run();
  EXPECT_EQ(out.kind, Kind::kDelivered);
  EXPECT_EQ(out.detail, "HTTP 202 (2 requests)");
  const auto seen = server.seen();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].path, "/v2/alerts");
  EXPECT_EQ(seen[1].path, "/v2/alerts/lookout-test-evt_1/close?identifierType=alias");
  for (const auto& s : seen) {
    EXPECT_EQ(s.header("Authorization"), "GenieKey " + kApiKey);
    EXPECT_EQ(s.header("Content-Type"), "application/json");
    EXPECT_EQ(s.header("User-Agent"), fmt::format("lookout/{}", LOOKOUT_VERSION));
  }
}

TEST(OpsgenieChannel, APostSendsNothing) {
  EXPECT_TRUE(opsgenie_requests(opsgenie_config(), test::post_row(), test::kPublicUrl).empty());
  EXPECT_EQ(opsgenie_requests(opsgenie_config(),
                              {incident_row("incident.opened"), test::post_row()}, test::kPublicUrl)
                .size(),
            1u);
}

}  // namespace
}  // namespace lookout
