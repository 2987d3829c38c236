#include "alerting/routing.h"

#include <gtest/gtest.h>

#include "alerting/incidents.h"

namespace lookout {
namespace {

using std::chrono::minutes;

RouteConfig route_of(std::string name, std::vector<std::pair<std::string, std::string>> match) {
  RouteConfig r;
  r.name = std::move(name);
  r.match = std::move(match);
  return r;
}

MonitorConfig monitor_of(std::string name, std::string group, std::string type) {
  MonitorConfig m;
  m.name = std::move(name);
  m.group = std::move(group);
  m.type = std::move(type);
  return m;
}

TEST(Routing, MatchGlobsEveryKeyTheRouteNames) {
  struct Case {
    std::vector<std::pair<std::string, std::string>> match;
    RouteSubject subject;
    bool matches;
  };
  const RouteSubject api{"portal-api", "Portal", "http", "down"};
  const std::vector<Case> cases = {
      {{}, api, true},
      {{{"name", "portal-api"}}, api, true},
      {{{"name", "portal-*"}}, api, true},
      {{{"name", "portal-*"}}, {"billing-api", "Portal", "http", "down"}, false},
      {{{"name", "portal-?pi"}}, api, true},
      {{{"name", "portal-?"}}, api, false},
      {{{"name", "db-0[12]"}}, {"db-02", "", "http", "down"}, true},
      {{{"name", "db-0[12]"}}, {"db-03", "", "http", "down"}, false},
      {{{"group", "Portal"}}, api, true},
      {{{"group", "portal"}}, api, false},
      {{{"group", "*"}}, {"lone", "", "http", "down"}, true},
      {{{"type", "http"}}, api, true},
      {{{"type", "dns"}}, api, false},
      {{{"state", "down"}}, api, true},
      {{{"state", "down"}}, {"portal-api", "Portal", "http", "degraded"}, false},
      {{{"state", "d*"}}, {"portal-api", "Portal", "http", "degraded"}, true},
      {{{"group", "Portal"}, {"state", "down"}}, api, true},
      {{{"group", "Portal"}, {"state", "down"}},
       {"portal-api", "Portal", "http", "degraded"},
       false},
      {{{"group", "Billing"}, {"state", "down"}}, api, false},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    const auto& c = cases[i];
    EXPECT_EQ(route_matches(route_of("r", c.match), c.subject), c.matches) << "case " << i;
  }
}

std::vector<std::string> route_names(const std::vector<const RouteConfig*>& routes) {
  std::vector<std::string> out;
  out.reserve(routes.size());
  for (const RouteConfig* r : routes) out.push_back(r->name);
  return out;
}

TEST(Routing, RoutesForKeepsConfigOrderAndTheMonitorsRestriction) {
  Config c;
  c.routes = {route_of("everything", {}), route_of("portal", {{"group", "Portal"}}),
              route_of("pages", {{"state", "down"}}), route_of("dns", {{"type", "dns"}})};
  MonitorConfig api = monitor_of("portal-api", "Portal", "http");
  struct Case {
    std::optional<std::vector<std::string>> restriction;
    std::string state;
    std::vector<std::string> routes;
  };
  const std::vector<Case> cases = {
      {std::nullopt, "down", {"everything", "portal", "pages"}},
      {std::nullopt, "degraded", {"everything", "portal"}},
      // Only the routes the monitor names, still in config order and still filtered by match.
      {std::vector<std::string>{"pages", "portal"}, "down", {"portal", "pages"}},
      {std::vector<std::string>{"pages", "portal"}, "degraded", {"portal"}},
      {std::vector<std::string>{"dns"}, "down", {}},
      {std::vector<std::string>{"no-such-route"}, "down", {}},
      {std::vector<std::string>{}, "down", {}},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    api.routes = cases[i].restriction;
    EXPECT_EQ(route_names(routes_for(c, api, cases[i].state)), cases[i].routes) << "case " << i;
  }
  EXPECT_EQ(route_names(routes_for(c, monitor_of("mx", "", "dns"), "degraded")),
            (std::vector<std::string>{"everything", "dns"}));
}

TEST(Routing, AnUnknownKeyFitsOnlyTheGlobThatMatchesAnything) {
  struct Case {
    std::vector<std::pair<std::string, std::string>> match;
    PartialSubject subject;
    bool fits;
  };
  const PartialSubject unknown_state{"portal-api", "Portal", "http", std::nullopt};
  const std::vector<Case> cases = {
      {{}, {}, true},
      {{{"name", "*"}, {"group", "*"}, {"type", "*"}, {"state", "*"}}, {}, true},
      {{{"name", "portal-*"}}, {}, false},
      {{{"group", "?*"}}, {}, false},
      {{{"state", "down"}}, {}, false},
      {{{"state", "down"}}, unknown_state, false},
      {{{"state", "*"}}, unknown_state, true},
      {{{"state", "[a-z]*"}}, unknown_state, false},
      {{{"group", "Portal"}, {"state", "*"}}, unknown_state, true},
      {{{"group", "Portal"}}, {"portal-api", std::nullopt, std::nullopt, "down"}, false},
      {{{"state", "d*"}}, {"portal-api", "Portal", "http", "down"}, true},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    const auto& c = cases[i];
    EXPECT_EQ(route_fits(route_of("r", c.match), c.subject), c.fits) << "case " << i;
  }
}

TEST(Routing, APostReachesTheOnPostRoutesThatFitAnyMonitorItNames) {
  Config c;
  c.monitors = {monitor_of("portal-api", "Portal", "http"),
                monitor_of("portal-web", "Portal", "http"), monitor_of("db-main", "", "latency")};
  c.monitors[1].routes = std::vector<std::string>{"databases"};
  c.routes = {route_of("everything", {}),
              route_of("portal", {{"group", "Portal"}}),
              route_of("pages", {{"state", "down"}}),
              route_of("databases", {{"name", "db-*"}}),
              route_of("quiet", {}),
              route_of("any-state", {{"state", "*"}})};
  for (auto& r : c.routes) r.on_post = r.name != "quiet";
  // db-main has an open incident (down); the others' state is not known.
  const auto state_of = [](const std::string& name) -> std::optional<std::string> {
    if (name == "db-main") return "down";
    return std::nullopt;
  };
  struct Case {
    std::vector<std::string> monitors;
    std::vector<std::string> routes;
  };
  const std::vector<Case> cases = {
      // The whole service: the routes without a match (or only "*" globs), never "quiet".
      {{}, {"everything", "any-state"}},
      {{"portal-api"}, {"everything", "portal", "any-state"}},
      // portal-web may use only the databases route, whose match its name does not fit.
      {{"portal-web"}, {}},
      {{"db-main"}, {"everything", "pages", "databases", "any-state"}},
      // Any monitor that fits is enough; config order is kept.
      {{"portal-web", "db-main", "portal-api"},
       {"everything", "portal", "pages", "databases", "any-state"}},
      // A monitor that left the config is known by its name alone.
      {{"db-gone"}, {"everything", "databases", "any-state"}},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    PostRecord post;
    post.monitors = cases[i].monitors;
    EXPECT_EQ(route_names(routes_for_post(c, post, state_of)), cases[i].routes) << "case " << i;
  }
}

// A route for the Portal group that escalates twice, and one that pages for any database down.
std::shared_ptr<Config> escalation_config() {
  auto c = std::make_shared<Config>();
  c->monitors = {monitor_of("portal-api", "Portal", "http"),
                 monitor_of("portal-web", "Portal", "http"), monitor_of("db-main", "", "latency")};
  c->monitors[1].routes = std::vector<std::string>{"databases"};
  for (const char* name : {"mail", "pager", "phone"}) {
    ChannelConfig ch;
    ch.name = name;
    c->channels.push_back(ch);
  }
  RouteConfig portal = route_of("portal", {{"group", "Portal"}});
  portal.notify = {"mail"};
  portal.escalate = {EscalationTier{Duration{minutes(10)}, {"pager"}},
                     EscalationTier{Duration{minutes(30)}, {"phone"}}};
  RouteConfig databases = route_of("databases", {{"name", "db-*"}, {"state", "down"}});
  databases.notify = {"pager"};
  databases.escalate = {EscalationTier{Duration{minutes(5)}, {"phone"}}};
  c->routes = {portal, databases};
  return c;
}

std::vector<std::string> notified(const AlertChanges& c) {
  std::vector<std::string> out;
  for (const auto& e : c.events) {
    for (const auto& n : e.notifications) out.push_back(e.event + ":" + n.channel + "@" + n.route);
  }
  return out;
}

// Opens an incident for monitor `i` of escalation_config() in `state`, then ticks at each of
// `at` minutes after it opened; returns what the opening and each tick notified.
std::vector<std::vector<std::string>> escalations(size_t i, State state,
                                                  const std::vector<int>& at) {
  const auto cfg = escalation_config();
  int n = 0;
  AlertEngine engine("k3y-for-tests-0123456789abcdef", [&n] { return fmt::format("{:032}", ++n); });
  engine.configure(cfg);
  const WallTime opened{std::chrono::sys_days{std::chrono::year{2026} / 11 / 1}};
  std::vector<std::vector<std::string>> out;
  AlertChanges first;
  engine.on_run(cfg->monitors[i], state, true, "timeout", opened, false, first);
  out.push_back(notified(first));
  for (int m : at) {
    AlertChanges tick;
    engine.tick(opened + minutes(m), tick);
    out.push_back(notified(tick));
  }
  return out;
}

using Sent = std::vector<std::vector<std::string>>;

TEST(Routing, EscalationTiersFireInTurnForTheRoutesThatMatch) {
  EXPECT_EQ(escalations(0, State::kDown, {9, 10, 11, 29, 30}),
            (Sent{{"incident.opened:mail@portal"},
                  {},
                  {"incident.escalated:pager@portal"},
                  {},
                  {},
                  {"incident.escalated:phone@portal"}}));
  // Both tiers overdue at the first tick: both fire then, in order.
  EXPECT_EQ(escalations(0, State::kDegraded, {45}),
            (Sent{{"incident.opened:mail@portal"},
                  {"incident.escalated:pager@portal", "incident.escalated:phone@portal"}}));
}

TEST(Routing, EscalationFollowsTheStateAndTheMonitorsRoutes) {
  // Down matches the databases route: it pages and escalates after 5 minutes.
  EXPECT_EQ(
      escalations(2, State::kDown, {4, 5}),
      (Sent{{"incident.opened:pager@databases"}, {}, {"incident.escalated:phone@databases"}}));
  // Degraded does not: nobody is told and nothing escalates.
  EXPECT_EQ(escalations(2, State::kDegraded, {5, 60}), (Sent{{}, {}, {}}));
  // portal-web may use only the databases route, which its name does not match: the Portal
  // route's tiers never fire for it.
  EXPECT_EQ(escalations(1, State::kDown, {10, 30}), (Sent{{}, {}, {}}));
}

}  // namespace
}  // namespace lookout
