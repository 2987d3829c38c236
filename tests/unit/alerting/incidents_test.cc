#include "alerting/incidents.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

#include "alerting/ack_token.h"
#include "core/random.h"

namespace lookout {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

std::shared_ptr<Config> config() {
  auto c = std::make_shared<Config>();
  c->server.public_url = "https://status.test";
  MonitorConfig m;
  m.name = "portal-home";
  m.group = "Portal";
  m.flap_window = 6;
  m.flap_threshold = 3;
  c->monitors.push_back(m);
  for (const char* name : {"mail", "hook"}) {
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
  RouteConfig r;
  r.name = "oncall";
  r.match = {{"group", "Portal"}};
  r.notify = {"mail", "hook"};
  r.escalate = {EscalationTier{Duration{600'000}, {"sms"}}};
  r.repeat = Duration{3'600'000};
  c->routes.push_back(r);
  return c;
}

struct Harness {
  std::shared_ptr<Config> cfg = config();
  int n = 0;
  AlertEngine engine{"k3y-for-tests-0123456789abcdef",
                     [this] { return fmt::format("{:032}", ++n); }};
  WallTime now{std::chrono::sys_days{std::chrono::year{2026} / 11 / 1}};
  Harness() { engine.configure(cfg); }
  AlertChanges run(State s, bool changed, bool maintenance = false) {
    AlertChanges out;
    engine.on_run(cfg->monitors[0], s, changed,
                  s == State::kUp ? "" : "expected status 2xx, got 503", now, maintenance, out);
    return out;
  }
  AlertChanges tick() {
    AlertChanges out;
    engine.tick(now, out);
    return out;
  }
};

std::vector<std::string> channels(const AlertChanges& c) {
  std::vector<std::string> out;
  for (const auto& e : c.events) {
    for (const auto& n : e.notifications)
      out.push_back(e.event + ":" + n.channel + (n.recipient.empty() ? "" : "/" + n.recipient));
  }
  return out;
}

TEST(Incidents, OpenOncePerStateChangeAndResolve) {
  Harness h;
  h.cfg->monitors[0].flap_threshold = 4;  // three changes here are not a flap
  auto opened = h.run(State::kDown, true);
  EXPECT_EQ(channels(opened),
            (std::vector<std::string>{"incident.opened:mail", "incident.opened:hook"}));
  ASSERT_EQ(opened.incidents.size(), 1u);
  EXPECT_EQ(opened.incidents[0].id, 1);
  const auto payload = nlohmann::json::parse(opened.events[0].notifications[0].payload);
  EXPECT_EQ(payload["state"], "down");
  EXPECT_EQ(payload["cause"], "expected status 2xx, got 503");
  EXPECT_EQ(payload["ack_url"].get<std::string>().rfind("https://status.test/ack/1.", 0), 0u);
  // More down runs: nothing new.
  EXPECT_TRUE(h.run(State::kDown, false).empty());
  // Down to degraded while open: one update.
  EXPECT_EQ(channels(h.run(State::kDegraded, true)),
            (std::vector<std::string>{"incident.updated:mail", "incident.updated:hook"}));
  auto resolved = h.run(State::kUp, true);
  EXPECT_EQ(channels(resolved),
            (std::vector<std::string>{"incident.resolved:mail", "incident.resolved:hook"}));
  EXPECT_TRUE(resolved.incidents[0].resolved_at.has_value());
  EXPECT_TRUE(h.engine.open_incidents().empty());
  // The next failure is a new incident.
  EXPECT_EQ(h.run(State::kDown, true).incidents[0].id, 2);
}

TEST(Incidents, AClusterNodeNumbersWithReservedIdsAdoptsAndDropsIncidents) {
  Harness h;
  std::vector<int64_t> reserved{907, 908};
  h.engine.number_with([&] {
    const int64_t id = reserved.front();
    reserved.erase(reserved.begin());
    return id;
  });
  EXPECT_EQ(h.run(State::kDown, true).incidents.at(0).id, 907);
  EXPECT_EQ(reserved, std::vector<int64_t>{908});
  // The shard is lost: the incident stays open in the database, not here, and nothing is sent.
  h.engine.drop([](const std::string& m) { return m == "portal-home"; });
  EXPECT_TRUE(h.engine.open_incidents().empty());
  EXPECT_TRUE(h.tick().empty());
  // Gained again as the database has it: an up run resolves that incident, not a new one.
  IncidentRecord open;
  open.id = 907;
  open.monitor = "portal-home";
  open.group = "Portal";
  open.state = State::kDown;
  open.started_at = h.now;
  h.engine.adopt({open});
  const auto resolved = h.run(State::kUp, true);
  ASSERT_EQ(resolved.incidents.size(), 1u);
  EXPECT_EQ(resolved.incidents[0].id, 907);
  EXPECT_TRUE(resolved.incidents[0].resolved_at.has_value());
  EXPECT_EQ(reserved, std::vector<int64_t>{908});
}

TEST(Incidents, EscalateWhileUnacknowledgedAndRemindEveryone) {
  Harness h;
  h.run(State::kDown, true);
  h.now += minutes(9);
  EXPECT_TRUE(h.tick().empty());
  h.now += minutes(1);
  EXPECT_EQ(channels(h.tick()), (std::vector<std::string>{"incident.escalated:sms/+1555",
                                                          "incident.escalated:sms/+1666"}));
  EXPECT_TRUE(h.tick().empty()) << "a tier fires once";
  h.now += minutes(50);
  // Reminders go to notify and to every tier already fired.
  EXPECT_EQ(channels(h.tick()), (std::vector<std::string>{
                                    "incident.reminder:mail", "incident.reminder:hook",
                                    "incident.reminder:sms/+1555", "incident.reminder:sms/+1666"}));
  h.now += minutes(59);
  EXPECT_TRUE(h.tick().empty());
  h.now += minutes(1);
  EXPECT_EQ(h.tick().events.size(), 1u);
}

TEST(Incidents, AcknowledgementStopsEscalationAndReminders) {
  Harness h;
  const int64_t id = h.run(State::kDown, true).incidents[0].id;
  h.now += minutes(5);
  AlertChanges acked;
  EXPECT_EQ(h.engine.acknowledge(id, "link", h.now, acked), AlertEngine::AckResult::kDone);
  EXPECT_EQ(channels(acked),
            (std::vector<std::string>{"incident.acknowledged:mail", "incident.acknowledged:hook"}));
  EXPECT_EQ(acked.incidents[0].acknowledged_by, "link");
  AlertChanges again;
  EXPECT_EQ(h.engine.acknowledge(id, "api", h.now, again), AlertEngine::AckResult::kAlready);
  EXPECT_TRUE(again.empty());
  h.now += std::chrono::hours(3);
  EXPECT_TRUE(h.tick().empty());
  h.run(State::kUp, true);
  AlertChanges late;
  EXPECT_EQ(h.engine.acknowledge(id, "link", h.now, late), AlertEngine::AckResult::kResolved);
  EXPECT_EQ(h.engine.acknowledge(99, "link", h.now, late), AlertEngine::AckResult::kUnknown);
}

TEST(Incidents, AnAcknowledgementMakesNoNotificationForAlertmanager) {
  Harness h;
  ChannelConfig am;
  am.name = "am";
  am.type = "alertmanager";
  h.cfg->channels.push_back(am);
  h.cfg->routes[0].notify = {"mail", "am"};
  const auto opened = h.run(State::kDown, true);
  EXPECT_EQ(channels(opened),
            (std::vector<std::string>{"incident.opened:mail", "incident.opened:am"}));
  AlertChanges acked;
  ASSERT_EQ(h.engine.acknowledge(opened.incidents[0].id, "api", h.now, acked),
            AlertEngine::AckResult::kDone);
  EXPECT_EQ(channels(acked), (std::vector<std::string>{"incident.acknowledged:mail"}))
      << "Alertmanager has no acknowledgement";
  EXPECT_EQ(channels(h.run(State::kUp, true)),
            (std::vector<std::string>{"incident.resolved:mail", "incident.resolved:am"}));
}

TEST(Incidents, FlappingSendsOneNotificationThenQuietUntilStable) {
  Harness h;
  size_t sent = 0;
  State s = State::kUp;
  h.run(State::kUp, true);
  for (int i = 0; i < 12; ++i) {
    s = s == State::kUp ? State::kDown : State::kUp;
    for (const auto& e : h.run(s, true).events) sent += e.notifications.size();
  }
  // opened (2 channels), then the resolve and reopen before the guard trips, then one flap note.
  EXPECT_LE(sent, 8u);
  ASSERT_EQ(h.engine.open_incidents().size(), 1u);
  EXPECT_TRUE(h.engine.open_incidents().begin()->second.flapping);
  // Stable up for a whole window: flapping ends and the incident resolves, once.
  std::vector<std::string> after;
  for (int i = 0; i < 6; ++i) {
    for (const auto& c : channels(h.run(State::kUp, false))) after.push_back(c);
  }
  EXPECT_EQ(after, (std::vector<std::string>{"incident.resolved:mail", "incident.resolved:hook"}));
}

TEST(Incidents, MaintenanceOpensNothingAndTheStateTakesOverAfter) {
  Harness h;
  EXPECT_TRUE(h.run(State::kDown, true, true).empty());
  EXPECT_TRUE(h.engine.open_incidents().empty());
  auto after = h.run(State::kDown, false, false);
  EXPECT_EQ(channels(after),
            (std::vector<std::string>{"incident.opened:mail", "incident.opened:hook"}));
}

TEST(Incidents, RestoredIncidentsContinueWithoutReopening) {
  Harness h;
  IncidentRecord open;
  open.id = 41;
  open.monitor = "portal-home";
  open.group = "Portal";
  open.started_at = h.now - minutes(3);
  h.engine.restore({open}, 42);
  EXPECT_TRUE(h.run(State::kDown, false).empty());
  h.now += minutes(7);
  EXPECT_EQ(h.tick().events.at(0).event, "incident.escalated");
  EXPECT_EQ(h.run(State::kUp, true).incidents.at(0).id, 41);
  EXPECT_EQ(h.run(State::kDown, true).incidents.at(0).id, 42);
}

TEST(AckToken, SignedExpiringAndForOneIncident) {
  const std::string key = "0123456789abcdef0123456789abcdef";
  const std::string t = make_ack_token(key, 42, 2'000'000'000);
  EXPECT_LT(t.size(), 40u);
  auto claim = verify_ack_token(key, t, 1'999'999'999);
  ASSERT_TRUE(claim);
  EXPECT_EQ(claim->incident_id, 42);
  EXPECT_FALSE(verify_ack_token(key, t, 2'000'000'000)) << "expired";
  EXPECT_FALSE(verify_ack_token("another key", t, 1'000));
  // Without a key anyone could sign: nothing verifies.
  EXPECT_FALSE(verify_ack_token("", make_ack_token("", 42, 2'000'000'000), 1'000));
  EXPECT_FALSE(verify_group_ack_token("", make_group_ack_token("", {42}, 2'000'000'000), 1'000));
  std::string other = t;
  other[0] = '4';
  other[1] = '3';
  EXPECT_FALSE(verify_ack_token(key, other, 1'000)) << "the signature covers the id";
  for (const char* bad : {"", "42", "42.1", "a.b.c", "42.2000000000.", "-1.2000000000.abcd"}) {
    EXPECT_FALSE(verify_ack_token(key, bad, 1'000)) << bad;
  }
  EXPECT_EQ(random_hex(16).size(), 32u);
  EXPECT_NE(random_hex(16), random_hex(16));
}

TEST(AckToken, AGroupTokenNamesEachIncidentAndIsSignedTheSameWay) {
  const std::string key = "0123456789abcdef0123456789abcdef";
  const std::string t = make_group_ack_token(key, {7, 8, 1234}, 2'000'000'000);
  EXPECT_EQ(t.substr(0, t.find('.')), "7-8-1234");
  EXPECT_EQ(verify_group_ack_token(key, t, 1'999'999'999), (std::vector<int64_t>{7, 8, 1234}));
  EXPECT_FALSE(verify_group_ack_token(key, t, 2'000'000'000)) << "expired";
  EXPECT_FALSE(verify_group_ack_token("another key", t, 1'000));
  EXPECT_FALSE(verify_ack_token(key, t, 1'000)) << "an /ack/ link names one incident";
  std::string other = t;
  other[0] = '9';
  EXPECT_FALSE(verify_group_ack_token(key, other, 1'000)) << "the signature covers the ids";
  // One incident: the same token as an ack link's, and both read it.
  const std::string one = make_ack_token(key, 42, 2'000'000'000);
  EXPECT_EQ(make_group_ack_token(key, {42}, 2'000'000'000), one);
  EXPECT_EQ(verify_group_ack_token(key, one, 1'000), (std::vector<int64_t>{42}));
  std::vector<int64_t> many(kMaxAckTokenIncidents + 1, 5);
  EXPECT_FALSE(verify_group_ack_token(key, make_group_ack_token(key, many, 2'000'000'000), 1'000))
      << "at most " << kMaxAckTokenIncidents;
  for (const char* bad : {"", "7-", "-7.2000000000.x", "7--8.2000000000.x", "7-a.2000000000.x"}) {
    EXPECT_FALSE(verify_group_ack_token(key, bad, 1'000)) << bad;
  }
}

}  // namespace
}  // namespace lookout

namespace lookout {
namespace {

TEST(Incidents, AMonitorRemovedByAReloadResolvesQuietly) {
  Harness h;
  const int64_t id = h.run(State::kDown, true).incidents[0].id;
  AlertChanges out;
  h.engine.forget("portal-home", h.now, out);
  ASSERT_EQ(out.incidents.size(), 1u);
  EXPECT_EQ(out.incidents[0].id, id);
  EXPECT_TRUE(out.incidents[0].resolved_at.has_value());
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_TRUE(out.events[0].notifications.empty());
  EXPECT_TRUE(h.engine.open_incidents().empty());
}

}  // namespace
}  // namespace lookout

namespace lookout {
namespace {

// notify channels "mail" and "hook" (webhooks), "sms" (two numbers) and "og" (opsgenie):
// "oncall" (group Portal) and "status" (no match) hear about posts, "pages" too while the
// monitor is down, "quiet" never.
struct PostHarness : Harness {
  PostHarness() {
    ChannelConfig og;
    og.name = "og";
    og.type = "opsgenie";
    cfg->channels.push_back(og);
    cfg->routes[0].on_post = true;
    RouteConfig status;
    status.name = "status";
    status.notify = {"hook", "sms", "og"};
    status.on_post = true;
    RouteConfig pages;
    pages.name = "pages";
    pages.match = {{"state", "down"}};
    pages.notify = {"og", "mail"};
    pages.on_post = true;
    RouteConfig quiet;
    quiet.name = "quiet";
    quiet.notify = {"mail", "hook"};
    cfg->routes.push_back(status);
    cfg->routes.push_back(pages);
    cfg->routes.push_back(quiet);
    engine.configure(cfg);
  }
  PostRecord post(std::vector<std::string> monitors) const {
    PostRecord p;
    p.id = 7;
    p.title = "Database failover";
    p.impact = PostImpact::kMajor;
    p.monitors = std::move(monitors);
    p.created_at = now;
    p.updates.push_back({PostStatus::kInvestigating, "Replicas lag.\nLooking.", now});
    return p;
  }
  AlertChanges posted(const PostRecord& p, bool created = true) {
    AlertChanges out;
    engine.on_post(p, created, now, out);
    return out;
  }
};

std::vector<std::string> routed(const AlertChanges& c) {
  std::vector<std::string> out;
  for (const auto& e : c.events) {
    for (const auto& n : e.notifications) {
      out.push_back(fmt::format("{}:{}{}@{}", e.event, n.channel,
                                n.recipient.empty() ? "" : "/" + n.recipient, n.route));
    }
  }
  return out;
}

TEST(PostEvents, APostNotifiesEachChannelOfTheOnPostRoutesItFitsOnce) {
  PostHarness h;
  // portal-home is private: the post is private, and its routes still hear about it.
  ASSERT_FALSE(h.cfg->monitors[0].is_public);
  const auto made = h.posted(h.post({"portal-home"}));
  ASSERT_EQ(made.events.size(), 1u);
  EXPECT_TRUE(made.incidents.empty());
  const EventRecord& e = made.events[0];
  EXPECT_EQ(e.event, "incident.posted");
  EXPECT_EQ(e.incident_id, 0);
  EXPECT_EQ(e.at, h.now);
  // Each channel once, under the first route that names it; opsgenie takes no posts; "pages"
  // wants a down monitor, and portal-home has no open incident.
  EXPECT_EQ(routed(made),
            (std::vector<std::string>{"incident.posted:mail@oncall", "incident.posted:hook@oncall",
                                      "incident.posted:sms/+1555@status",
                                      "incident.posted:sms/+1666@status"}));
  std::set<std::string> ids;
  for (const auto& n : e.notifications) {
    EXPECT_EQ(n.id.rfind("evt_", 0), 0u);
    EXPECT_EQ(n.id.size(), 36u);
    ids.insert(n.id);
    EXPECT_EQ(n.incident_id, 0);
    EXPECT_EQ(n.event, "incident.posted");
    EXPECT_EQ(n.created, h.now);
    EXPECT_EQ(n.payload, e.notifications[0].payload);
  }
  EXPECT_EQ(ids.size(), e.notifications.size()) << "every notification its own id";
  const auto payload = nlohmann::json::parse(e.notifications[0].payload);
  EXPECT_EQ(payload, (nlohmann::json{{"id", 7},
                                     {"title", "Database failover"},
                                     {"status", "investigating"},
                                     {"impact", "major"},
                                     {"monitors", {"portal-home"}},
                                     {"created_at", "2026-11-01T00:00:00.000Z"},
                                     {"resolved_at", nullptr},
                                     {"url", "https://status.test/posts/7"},
                                     {"update",
                                      {{"status", "investigating"},
                                       {"body", "Replicas lag.\nLooking."},
                                       {"at", "2026-11-01T00:00:00.000Z"}}}}));
  EXPECT_TRUE(payload_fields(e.notifications[0].payload).monitor.empty());
}

TEST(PostEvents, AnUpdateGoesOutAsPostUpdatedAndADownMonitorReachesStateRoutes) {
  PostHarness h;
  h.run(State::kDown, true);
  PostRecord p = h.post({"portal-home"});
  h.now += minutes(5);
  p.updates.push_back({PostStatus::kResolved, "Fixed.", h.now});
  p.resolved_at = h.now;
  const auto updated = h.posted(p, false);
  EXPECT_EQ(routed(updated), (std::vector<std::string>{"incident.post_updated:mail@oncall",
                                                       "incident.post_updated:hook@oncall",
                                                       "incident.post_updated:sms/+1555@status",
                                                       "incident.post_updated:sms/+1666@status"}))
      << "mail is oncall's already; opsgenie takes no posts";
  const auto payload = nlohmann::json::parse(updated.events.at(0).notifications.at(0).payload);
  EXPECT_EQ(payload["status"], "resolved");
  EXPECT_EQ(payload["resolved_at"], "2026-11-01T00:05:00.000Z");
  EXPECT_EQ(payload["update"]["body"], "Fixed.");
  // Without "oncall", the down monitor's post reaches "pages" for mail.
  h.cfg->routes[0].on_post = false;
  EXPECT_EQ(routed(h.posted(p, false)),
            (std::vector<std::string>{
                "incident.post_updated:hook@status", "incident.post_updated:sms/+1555@status",
                "incident.post_updated:sms/+1666@status", "incident.post_updated:mail@pages"}));
}

TEST(PostEvents, APostAboutTheWholeServiceReachesTheRoutesWithoutAMatch) {
  PostHarness h;
  EXPECT_EQ(
      routed(h.posted(h.post({}))),
      (std::vector<std::string>{"incident.posted:hook@status", "incident.posted:sms/+1555@status",
                                "incident.posted:sms/+1666@status"}));
  // No route hears about it: the event is still made, with no notification.
  for (auto& r : h.cfg->routes) r.on_post = false;
  const auto none = h.posted(h.post({}));
  ASSERT_EQ(none.events.size(), 1u);
  EXPECT_TRUE(none.events[0].notifications.empty());
}

}  // namespace
}  // namespace lookout
