// A silent location's meta-incident: a name no monitor can take, the shard that decides it, and
// its notifications routed by `match` like a monitor's incidents.
#include "alerting/location_incidents.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "store/lease_plan.h"

namespace lookout {
namespace {

const WallTime kSilentAt = from_unix_ms(1'765'000'000'000);

std::shared_ptr<Config> silent_config() {
  auto c = std::make_shared<Config>();
  for (const char* name : {"hook", "ops-hook"}) {
    ChannelConfig ch;
    ch.name = name;
    ch.type = "webhook";
    c->channels.push_back(ch);
  }
  ChannelConfig sms;
  sms.name = "sms";
  sms.type = "sms";
  sms.to = {"+1555", "+1666"};
  c->channels.push_back(sms);
  RouteConfig everything;  // no match: every incident
  everything.name = "everything";
  everything.notify = {"hook"};
  RouteConfig http_only;
  http_only.name = "http-only";
  http_only.match = {{"type", "http"}};
  http_only.notify = {"sms"};
  RouteConfig watchers;
  watchers.name = "watchers";
  watchers.match = {{"type", "location"}};
  watchers.notify = {"hook", "sms", "ops-hook"};
  watchers.on_resolve = false;
  c->routes = {everything, http_only, watchers};
  return c;
}

SilentLocation nyc_silent() {
  return {"nyc", std::chrono::seconds(45), "location nyc has sent no results for 45s"};
}

TEST(LocationIncidents, ANameNoMonitorCanTakeAndItsShard) {
  EXPECT_EQ(location_incident_monitor("nyc"), "location nyc");
  EXPECT_EQ(location_of_incident("location nyc"), "nyc");
  EXPECT_EQ(location_of_incident("nyc"), std::nullopt);
  EXPECT_EQ(location_of_incident("location"), std::nullopt);
  EXPECT_EQ(location_of_incident("location "), std::nullopt);
  EXPECT_EQ(location_of_incident("location-nyc"), std::nullopt);
  EXPECT_EQ(location_incident_shard("nyc"), shard_of("location nyc"));
}

// Bound 35 s (every 10 s, timeout 5 s, lease 10 s). Without an open meta-incident, one opens
// once the location has been silent past the bound, counted from its newest report or from
// when this node began to watch, whichever is later.
TEST(LocationIncidentStep, OpensOnceSilentPastTheBoundFromTheLaterOfReportAndWatch) {
  using K = LocationIncidentStep::Kind;
  const Duration bound = std::chrono::seconds(35);
  const WallTime report = kSilentAt;
  const WallTime early = kSilentAt - std::chrono::minutes(10);
  EXPECT_EQ(location_incident_step("nyc", false, bound, report, early, report + bound).kind,
            K::kNone);
  const auto found =
      location_incident_step("nyc", false, bound, report, early, report + std::chrono::seconds(45));
  ASSERT_EQ(found.kind, K::kOpen);
  EXPECT_EQ(found.silent->message, "location nyc has sent no results for 45s");
  // A node that began to watch 20 s ago gives the location its whole bound first.
  const WallTime watched = report + std::chrono::seconds(25);
  EXPECT_EQ(location_incident_step("nyc", false, bound, report, watched,
                                   report + std::chrono::seconds(45))
                .kind,
            K::kNone);
  // Never heard from: counted from the watch alone.
  EXPECT_EQ(location_incident_step("nyc", false, bound, std::nullopt, watched,
                                   watched + std::chrono::seconds(36))
                .kind,
            K::kOpen);
  // A location that runs no monitor is never silent.
  EXPECT_EQ(location_incident_step("nyc", false, std::nullopt, std::nullopt, early, report).kind,
            K::kNone);
}

// With one open, only a report within the bound resolves it, or the location running no monitor
// any more: a node that has just taken the lease (or whose reads came back) carries it on.
TEST(LocationIncidentStep, AnOpenOneResolvesOnAReportNotOnATakeover) {
  using K = LocationIncidentStep::Kind;
  const Duration bound = std::chrono::seconds(35);
  const WallTime report = kSilentAt;
  const WallTime takeover = kSilentAt + std::chrono::minutes(5);
  const auto carried = location_incident_step("nyc", true, bound, report, takeover,
                                              takeover + std::chrono::seconds(1));
  EXPECT_EQ(carried.kind, K::kNone);
  const WallTime back = takeover + std::chrono::seconds(3);
  const auto again =
      location_incident_step("nyc", true, bound, back, takeover, back + std::chrono::seconds(1));
  EXPECT_EQ(again.kind, K::kResolve);
  EXPECT_TRUE(again.heard_again);
  const auto gone = location_incident_step("nyc", true, std::nullopt, report, takeover, back);
  EXPECT_EQ(gone.kind, K::kResolve);
  EXPECT_FALSE(gone.heard_again);
}

TEST(LocationIncidents, OpensDownWithTheSilenceAsItsCause) {
  const IncidentRecord i = location_incident(42, nyc_silent(), kSilentAt);
  EXPECT_EQ(i.id, 42);
  EXPECT_EQ(i.monitor, "location nyc");
  EXPECT_EQ(i.type, "location");
  EXPECT_EQ(i.group, "");
  EXPECT_EQ(i.state, State::kDown);
  EXPECT_EQ(i.cause, "location nyc has sent no results for 45s");
  EXPECT_EQ(i.started_at, kSilentAt);
  EXPECT_TRUE(i.open());
}

// Routed by `match`: a route without it and one matching the type hear of it, each channel once
// under the first route naming it, every sms number a row; a route for http monitors does not.
TEST(LocationIncidents, NotifiesTheRoutesWhoseMatchFitsEachChannelOnce) {
  const auto config = silent_config();
  const IncidentRecord i = location_incident(42, nyc_silent(), kSilentAt);
  int n = 0;
  const EventRecord ev = location_incident_event(*config, i, "incident.opened", kSilentAt,
                                                 [&] { return std::to_string(++n); });
  EXPECT_EQ(ev.incident_id, 42);
  EXPECT_EQ(ev.event, "incident.opened");
  std::vector<std::string> rows;
  for (const OutboxRow& r : ev.notifications) {
    rows.push_back(r.id + " " + r.channel + " " + r.route + " " + r.recipient);
    EXPECT_EQ(r.incident_id, 42);
    EXPECT_EQ(r.event, "incident.opened");
    const auto payload = nlohmann::json::parse(r.payload);
    EXPECT_EQ(payload["monitor"], "location nyc");
    EXPECT_EQ(payload["type"], "location");
    EXPECT_EQ(payload["state"], "down");
    EXPECT_EQ(payload["cause"], "location nyc has sent no results for 45s");
    EXPECT_TRUE(payload["ack_url"].is_null());
  }
  EXPECT_EQ(rows,
            (std::vector<std::string>{"evt_1 hook everything ", "evt_2 sms watchers +1555",
                                      "evt_3 sms watchers +1666", "evt_4 ops-hook watchers "}));
}

TEST(LocationIncidents, ResolvesOnlyThroughRoutesWithOnResolve) {
  const auto config = silent_config();
  IncidentRecord i = location_incident(42, nyc_silent(), kSilentAt);
  i.resolved_at = kSilentAt + std::chrono::seconds(30);
  const EventRecord ev = location_incident_event(*config, i, "incident.resolved", *i.resolved_at,
                                                 [] { return std::string("x"); });
  ASSERT_EQ(ev.notifications.size(), 1U);
  EXPECT_EQ(ev.notifications[0].channel, "hook");
  EXPECT_EQ(nlohmann::json::parse(ev.notifications[0].payload)["state"], "up");
}

TEST(LocationIncidents, ANameGlobTellsLocationsApart) {
  auto config = silent_config();
  config->routes = {config->routes.back()};
  config->routes[0].match = {{"name", "location sgp"}};
  const EventRecord nyc =
      location_incident_event(*config, location_incident(1, nyc_silent(), kSilentAt),
                              "incident.opened", kSilentAt, [] { return std::string("x"); });
  EXPECT_TRUE(nyc.notifications.empty());
  config->routes[0].match = {{"name", "location *"}, {"state", "down"}};
  const EventRecord any =
      location_incident_event(*config, location_incident(1, nyc_silent(), kSilentAt),
                              "incident.opened", kSilentAt, [] { return std::string("x"); });
  EXPECT_EQ(any.notifications.size(), 4U);
}

}  // namespace
}  // namespace lookout
