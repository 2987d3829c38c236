#include "alerting/channels/alertmanager.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <optional>

#include "config/channels/alertmanager_spec.h"
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

const WallTime kPostedAt = kIncidentStart + Duration{60'000};  // 02:01:00Z

ChannelConfig alertmanager_config(const std::string& url = "https://am.test:9093/",
                                  AlertmanagerSpec spec = {}) {
  ChannelConfig c;
  c.name = "am";
  c.type = "alertmanager";
  c.url = Secret::plain(url);
  c.spec = std::make_shared<AlertmanagerSpec>(std::move(spec));
  return c;
}

// The alert of the down incident 42; `ends_at` only once it ended.
json down_alert(const std::optional<std::string>& ends_at = std::nullopt) {
  json a = {{"labels",
             {{"alertname", "LookoutMonitorDown"},
              {"monitor", "portal-home"},
              {"group", "Portal"},
              {"type", "http"},
              {"severity", "critical"}}},
            {"annotations",
             {{"summary", "DOWN portal-home: expected status 200, got 503"},
              {"cause", "expected status 200, got 503"},
              {"ack_url", kAckLink}}},
            {"startsAt", "2026-12-01T02:00:00.000Z"},
            {"generatorURL", kMonitorPage}};
  if (ends_at) a["endsAt"] = *ends_at;
  return a;
}

using Alerts = std::vector<json>;

// The alert of the degraded incident 42.
json degraded_alert(const std::optional<std::string>& ends_at = std::nullopt) {
  json a = down_alert(ends_at);
  a["labels"]["alertname"] = "LookoutMonitorDegraded";
  a["labels"]["severity"] = "warning";
  a["annotations"]["summary"] = "DEGRADED portal-home: expected status 200, got 503";
  return a;
}

TEST(AlertmanagerChannel, OpenedFiresAnAlertWithoutAnEnd) {
  EXPECT_EQ(
      alertmanager_alerts({incident_row("incident.opened")}, kPostedAt, "https://status.test"),
      Alerts{down_alert()});
}

TEST(AlertmanagerChannel, EscalationsAndRemindersKeepTheAlertAsItIs) {
  for (const std::string event : {"incident.escalated", "incident.reminder"}) {
    EXPECT_EQ(alertmanager_alerts({incident_row(event)}, kPostedAt, "https://status.test"),
              Alerts{down_alert()})
        << event;
  }
}

TEST(AlertmanagerChannel, AnAcknowledgementPostsNothing) {
  EXPECT_TRUE(
      alertmanager_alerts({incident_row("incident.acknowledged")}, kPostedAt, "https://status.test")
          .empty())
      << "Alertmanager has no acknowledgement";
}

TEST(AlertmanagerChannel, AChangeOfStateFiresTheNewAlertFirstThenEndsTheOldOne) {
  const auto alerts = alertmanager_alerts(
      {incident_row_of(42, "portal-home", State::kDegraded, "incident.updated", kPostedAt)},
      kPostedAt, "https://status.test");
  json down_ended = degraded_alert("2026-12-01T02:01:00.000Z");
  down_ended["labels"]["alertname"] = "LookoutMonitorDown";
  down_ended["labels"]["severity"] = "critical";
  EXPECT_EQ(alerts, (Alerts{degraded_alert(), down_ended}));
}

// The resolving alert as posted for the incident 42 that fired under `alertname`.
json resolved_alert(const std::string& alertname) {
  json a = down_alert("2026-12-01T02:00:30.000Z");
  a["annotations"] = {{"summary", "RESOLVED portal-home"},
                      {"cause", "expected status 200, got 503"}};
  a["labels"]["alertname"] = alertname;
  a["labels"]["severity"] = alertname == "LookoutMonitorDown" ? "critical" : "warning";
  return a;
}

TEST(AlertmanagerChannel, AResolutionRepeatsTheFiringAlertsLabelsAtItsResolveTime) {
  const WallTime resolved_at = kIncidentStart + Duration{30'000};
  const auto resolved =
      incident_row_of(42, "portal-home", State::kDown, "incident.resolved", resolved_at);
  FiringAlerts firing;
  firing.add(
      {incident_row_of(42, "portal-home", State::kDegraded, "incident.opened", kIncidentStart)});
  EXPECT_EQ(alertmanager_alerts({resolved}, kPostedAt, "https://status.test", firing),
            Alerts{resolved_alert("LookoutMonitorDegraded")})
      << "it fired degraded";
  // The incident's earlier row in the same batch says how it fired when nothing was kept.
  EXPECT_EQ(alertmanager_alerts({resolved, incident_row("incident.opened")}, kPostedAt,
                                "https://status.test"),
            Alerts{resolved_alert("LookoutMonitorDown")});
  // Nothing says (a restart lost it): the alert ends under both names, one post each.
  EXPECT_EQ(
      alertmanager_alerts({resolved}, kPostedAt, "https://status.test"),
      (Alerts{resolved_alert("LookoutMonitorDown"), resolved_alert("LookoutMonitorDegraded")}));
}

TEST(AlertmanagerChannel, TestFiresALookoutTestAlertOfItsOwn) {
  EXPECT_EQ(
      alertmanager_alerts({test::test_row()}, kPostedAt, "https://status.test"),
      (Alerts{
          {{"labels", {{"alertname", "LookoutTest"}, {"severity", "info"}, {"event_id", "evt_1"}}},
           {"annotations", {{"summary", "TEST lookout: this channel delivers. Nothing is wrong."}}},
           {"startsAt", "2026-12-01T02:01:00.000Z"},
           {"endsAt", "2026-12-01T02:05:00.000Z"},
           {"generatorURL", "https://status.test/"}}}));
}

TEST(AlertmanagerChannel, AStormIsAPostOfEachIncidentsLatestAlert) {
  const WallTime t0 = kIncidentStart;
  // Worst first, as the dispatcher hands it over.
  const std::vector<OutboxRow> batch{
      incident_row_of(7, "api-007", State::kDown, "incident.opened", t0 + Duration{2000}),
      incident_row_of(5, "api-005", State::kDegraded, "incident.opened", t0),
      incident_row_of(5, "api-005", State::kDegraded, "incident.acknowledged", t0 + Duration{1000}),
      incident_row_of(3, "api-003", State::kDown, "incident.resolved", t0 + Duration{500}),
  };
  const auto alerts = alertmanager_alerts(batch, kPostedAt, "https://status.test");
  std::vector<std::string> seen;
  seen.reserve(alerts.size());
  for (const auto& a : alerts) {
    seen.push_back(fmt::format("{} {} {} {}", a["labels"]["monitor"].get<std::string>(),
                               a["labels"]["alertname"].get<std::string>(),
                               a["annotations"]["summary"].get<std::string>().substr(0, 12),
                               a.value("endsAt", "firing")));
  }
  EXPECT_EQ(seen, (std::vector<std::string>{
                      "api-005 LookoutMonitorDegraded DEGRADED api firing",
                      "api-003 LookoutMonitorDown RESOLVED api 2026-12-01T02:00:00.500Z",
                      "api-003 LookoutMonitorDegraded RESOLVED api 2026-12-01T02:00:00.500Z",
                      "api-007 LookoutMonitorDown DOWN api-007 firing",
                  }));
  const auto requests = alertmanager_requests(alertmanager_config(), alerts);
  ASSERT_EQ(requests.size(), alerts.size());
  for (size_t i = 0; i < alerts.size(); ++i)
    EXPECT_EQ(json::parse(requests[i].body), json::array({alerts[i]})) << "one alert a post";
}

TEST(AlertmanagerChannel, RequestPostsAnArrayOfOneAlertWithBasicAuthWhenSet) {
  const auto alert =
      alertmanager_alerts({incident_row("incident.opened")}, kPostedAt, "https://s.t").at(0);
  const HttpPost plain = alertmanager_request(alertmanager_config(), alert);
  EXPECT_EQ(plain.url, "https://am.test:9093/api/v2/alerts");
  EXPECT_EQ(plain.method, "POST");
  EXPECT_EQ(plain.headers,
            (std::vector<std::string>{"Content-Type: application/json",
                                      fmt::format("User-Agent: lookout/{}", LOOKOUT_VERSION)}));
  EXPECT_FALSE(plain.basic_auth);
  EXPECT_EQ(plain.body, json::array({alert}).dump());
  AlertmanagerSpec spec;
  spec.username = Secret("lookout", true);
  spec.password = Secret("am-pass-1", true);
  const HttpPost authed = alertmanager_request(alertmanager_config("http://am.test", spec), alert);
  EXPECT_EQ(authed.url, "http://am.test/api/v2/alerts");
  ASSERT_TRUE(authed.basic_auth);
  EXPECT_EQ(authed.basic_auth->user, "lookout");
  EXPECT_EQ(authed.basic_auth->password, "am-pass-1");
}

TEST(AlertmanagerChannel, OnlyA200IsDeliveredAndARefusedAlertFailsWithAlertmanagersWords) {
  EXPECT_EQ(alertmanager_outcome(CURLE_OK, 200, "").kind, Kind::kDelivered);
  EXPECT_EQ(alertmanager_outcome(CURLE_OK, 204, "").kind, Kind::kPermanent);
  const auto bad = alertmanager_outcome(CURLE_OK, 400, R"("start time must be before end time")");
  EXPECT_EQ(bad.kind, Kind::kPermanent);
  EXPECT_EQ(bad.detail, "HTTP 400: start time must be before end time");
  EXPECT_EQ(
      alertmanager_outcome(CURLE_OK, 422, R"({"code":602,"message":"labels in body is required"})")
          .detail,
      "HTTP 422: labels in body is required");
  EXPECT_EQ(alertmanager_outcome(CURLE_OK, 401, "Unauthorized\n").detail,
            "HTTP 401: Unauthorized\n");
  for (const long status : {429L, 500L, 503L})
    EXPECT_EQ(alertmanager_outcome(CURLE_OK, status, "").kind, Kind::kRetry) << status;
  EXPECT_EQ(alertmanager_outcome(CURLE_COULDNT_CONNECT, 0, "refused").kind, Kind::kRetry);
}

std::vector<int64_t> firing_ids(const FiringAlerts& f) {
  std::vector<int64_t> out;
  for (const auto& r : f.rows()) out.push_back(r.incident_id);
  return out;
}

TEST(FiringAlerts, KeepsTheLatestRowOfEachOpenIncidentUntilItResolves) {
  const WallTime t0 = kIncidentStart;
  FiringAlerts f;
  EXPECT_TRUE(f.empty());
  f.add({test::test_row()});
  EXPECT_TRUE(f.empty()) << "a test is not resent";
  f.add({incident_row_of(2, "b", State::kDown, "incident.opened", t0),
         incident_row_of(1, "a", State::kDegraded, "incident.opened", t0)});
  EXPECT_EQ(firing_ids(f), (std::vector<int64_t>{1, 2}));
  f.add({incident_row_of(2, "b", State::kDown, "incident.acknowledged", t0 + Duration{10})});
  ASSERT_EQ(f.rows().size(), 2u);
  EXPECT_EQ(f.rows()[1].event, "incident.opened") << "an ack keeps it firing as it was";
  EXPECT_EQ(f.state_of(1), "degraded");
  EXPECT_EQ(f.state_of(2), "down");
  EXPECT_EQ(f.state_of(9), "") << "not firing";
  f.add({incident_row_of(2, "b", State::kDown, "incident.reminder", t0 + Duration{10})});
  // A retried notification delivered after a newer one changes nothing.
  f.add({incident_row_of(2, "b", State::kDown, "incident.escalated", t0 + Duration{5})});
  EXPECT_EQ(f.rows()[1].event, "incident.reminder");
  f.add({incident_row_of(1, "a", State::kDown, "incident.resolved", t0 + Duration{20})});
  EXPECT_EQ(firing_ids(f), (std::vector<int64_t>{2}));
  f.add({incident_row_of(1, "a", State::kDegraded, "incident.reminder", t0 + Duration{15})});
  EXPECT_EQ(firing_ids(f), (std::vector<int64_t>{2})) << "a resolved incident does not fire again";
  // In one batch the rows count in the order they happened, not worst first.
  f.add({incident_row_of(3, "c", State::kDown, "incident.opened", t0 + Duration{30}),
         incident_row_of(3, "c", State::kDown, "incident.resolved", t0 + Duration{40}),
         incident_row_of(2, "b", State::kDown, "incident.resolved", t0 + Duration{50})});
  EXPECT_TRUE(f.empty());
}

TEST(AlertmanagerChannel, TheResendIsEveryFiringAlertStillWithoutAnEnd) {
  FiringAlerts f;
  f.add({incident_row("incident.reminder"),
         incident_row_of(5, "api-005", State::kDegraded, "incident.opened", kIncidentStart)});
  const auto alerts = alertmanager_firing(f.rows(), "https://status.test");
  ASSERT_EQ(alerts.size(), 2u);
  EXPECT_EQ(alerts[0]["labels"]["monitor"], "api-005");
  EXPECT_EQ(alerts[0]["labels"]["alertname"], "LookoutMonitorDegraded");
  EXPECT_FALSE(alerts[0].contains("endsAt"));
  EXPECT_EQ(alerts[1], down_alert());
}

// What each post to `server` carried: "MONITOR ALERTNAME" and " ended" when it had an endsAt
// (each post carries one alert).
std::vector<std::string> posted_alerts(const test::HttpRecorder& server) {
  std::vector<std::string> out;
  for (const auto& s : server.seen()) {
    const json alerts = json::parse(s.body);
    EXPECT_EQ(alerts.size(), 1u) << "one alert a post: " << s.body;
    out.push_back(alerts[0]["labels"]["monitor"].get<std::string>() + " " +
                  alerts[0]["labels"]["alertname"].get<std::string>() +
                  (alerts[0].contains("endsAt") ? " ended" : ""));
  }
  return out;
}

// The channel on a real loop against a server on loopback, with a resend every 30 ms.
class AlertmanagerLoop : public ::testing::Test {
 protected:
  AlertmanagerLoop()
      : channel_(alertmanager_config(server_.url()), curl_, clock_, "https://status.test", nullptr,
                 Duration{30}) {}

  DeliveryOutcome send(const std::vector<OutboxRow>& rows) {
    DeliveryOutcome out{Kind::kRetry, "no answer"};
    channel_.send(rows, [&out](DeliveryOutcome o) { out = std::move(o); });
    // The resend timer does not keep the loop running: this returns once the post is answered.
    loop_.run();
    return out;
  }
  // Turns the loop for `ms` of real time.
  void run_for(int ms) {
    Timer stop(loop_);
    stop.start(Duration{ms}, [this] { loop_.stop(); });
    loop_.run();
  }
  std::vector<std::string> posted_monitors() const { return posted_alerts(server_); }

  test::HttpRecorder server_{{{200, ""}}};
  EventLoop loop_;
  FakeClock clock_;
  CurlBridge curl_{loop_, clock_};
  AlertmanagerChannel channel_;
};

TEST_F(AlertmanagerLoop, AnOpenIncidentIsPostedAgainUntilItResolves) {
  EXPECT_EQ(send({incident_row("incident.opened")}).kind, Kind::kDelivered);
  ASSERT_EQ(server_.seen().size(), 1u);
  EXPECT_EQ(channel_.firing().rows().size(), 1u);
  run_for(200);
  const auto resent = server_.seen();
  ASSERT_GE(resent.size(), 3u) << "a resend every 30 ms";
  for (const auto& s : resent) {
    EXPECT_EQ(s.path, "/api/v2/alerts");
    EXPECT_EQ(s.header("User-Agent"), fmt::format("lookout/{}", LOOKOUT_VERSION));
  }
  EXPECT_EQ(json::parse(resent.back().body), json::array({down_alert()}));
  EXPECT_EQ(posted_monitors().back(), "portal-home LookoutMonitorDown");

  EXPECT_EQ(
      send({incident_row_of(42, "portal-home", State::kDown, "incident.resolved", kPostedAt)}).kind,
      Kind::kDelivered);
  EXPECT_TRUE(channel_.firing().empty());
  const size_t after_resolve = server_.seen().size();
  run_for(150);
  EXPECT_EQ(server_.seen().size(), after_resolve) << "nothing is resent once resolved";
}

TEST_F(AlertmanagerLoop, ResumedIncidentsAreResentLaterNotAtOnce) {
  channel_.resume({incident_row_of(4, "api-004", State::kDown, "incident.opened", kIncidentStart),
                   incident_row_of(9, "api-009", State::kDegraded, "incident.opened", kPostedAt)});
  EXPECT_TRUE(server_.seen().empty());
  run_for(100);
  const auto posted = posted_monitors();
  ASSERT_GE(posted.size(), 2u);
  EXPECT_EQ(posted[0], "api-004 LookoutMonitorDown") << "every firing alert, one post each";
  EXPECT_EQ(posted[1], "api-009 LookoutMonitorDegraded");
}

// A channel on a loop of its own against a server answering `answer`, resending every
// `resend_every`.
struct AlertmanagerRig {
  AlertmanagerRig(test::HttpRecorder::Answer answer, Duration resend_every)
      : server({std::move(answer)}),
        channel(alertmanager_config(server.url()), curl, clock, "https://status.test", nullptr,
                resend_every) {}
  DeliveryOutcome send(const std::vector<OutboxRow>& rows) {
    DeliveryOutcome out{Kind::kRetry, "no answer"};
    channel.send(rows, [&out](DeliveryOutcome o) { out = std::move(o); });
    loop.run();
    return out;
  }
  test::HttpRecorder server;
  EventLoop loop;
  FakeClock clock;
  CurlBridge curl{loop, clock};
  AlertmanagerChannel channel;
};

TEST(AlertmanagerChannelLoop, AChangeOfStatePostsTheNewAlertBeforeEndingTheOld) {
  AlertmanagerRig rig({200, ""}, Duration{3'600'000});
  auto& server = rig.server;
  auto send = [&](const OutboxRow& row) { return rig.send({row}).kind; };
  const WallTime t0 = kIncidentStart;
  EXPECT_EQ(send(incident_row_of(42, "portal-home", State::kDegraded, "incident.opened", t0)),
            Kind::kDelivered);
  EXPECT_EQ(send(incident_row_of(42, "portal-home", State::kDegraded, "incident.acknowledged",
                                 t0 + Duration{1000})),
            Kind::kDelivered);
  EXPECT_EQ(server.seen().size(), 1u) << "an acknowledgement posts nothing";
  EXPECT_EQ(send(incident_row_of(42, "portal-home", State::kDown, "incident.updated",
                                 t0 + Duration{2000})),
            Kind::kDelivered);
  EXPECT_EQ(send(incident_row_of(42, "portal-home", State::kDown, "incident.resolved",
                                 t0 + Duration{3000})),
            Kind::kDelivered);
  EXPECT_EQ(posted_alerts(server), (std::vector<std::string>{
                                       "portal-home LookoutMonitorDegraded",
                                       "portal-home LookoutMonitorDown",
                                       "portal-home LookoutMonitorDegraded ended",
                                       "portal-home LookoutMonitorDown ended",
                                   }));
}

TEST(AlertmanagerChannelLoop, WhatWasNotDeliveredIsNotResent) {
  AlertmanagerRig rig({503, "overloaded"}, Duration{30});
  const DeliveryOutcome out = rig.send({incident_row("incident.opened")});
  EXPECT_EQ(out.kind, Kind::kRetry);
  EXPECT_EQ(out.detail, "HTTP 503");
  EXPECT_TRUE(rig.channel.firing().empty()) << "its retry posts it, through the outbox";
}

TEST(AlertmanagerChannel, APostPostsNothingAndNeverFires) {
  EXPECT_TRUE(alertmanager_alerts({test::post_row()}, kPostedAt, "https://status.test").empty());
  FiringAlerts f;
  f.add({test::post_row("incident.post_updated", "identified", "x")});
  EXPECT_TRUE(f.empty());
}

}  // namespace
}  // namespace lookout
