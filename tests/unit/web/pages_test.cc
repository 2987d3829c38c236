#include "web/pages.h"

#include <gtest/gtest.h>

#include "tests/unit/web/snapshot_fixture.h"

namespace lookout {
namespace {

using test::kWebDay;
using test::monitor_view;
using test::snapshot_of;

const std::string kHostileName = "<script>alert(\"x\")</script>";
const std::string kHostileNameEscaped = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;";
const std::string kHostileCause = "got <b>500</b> & 'oops'";
const std::string kHostileCauseEscaped = "got &lt;b&gt;500&lt;/b&gt; &amp; &#39;oops&#39;";

void expect_in(const std::string& page, const std::vector<std::string>& parts) {
  for (const auto& part : parts)
    EXPECT_NE(page.find(part), std::string::npos) << "missing: " << part;
}

void expect_not_in(const std::string& page, const std::vector<std::string>& parts) {
  for (const auto& part : parts)
    EXPECT_EQ(page.find(part), std::string::npos) << "present: " << part;
}

TEST(Pages, BannerOverTheVisibleMonitors) {
  struct Case {
    std::vector<State> states;
    std::string banner;
  };
  const std::vector<Case> cases = {
      {{}, "operational"},
      {{State::kUp, State::kUp}, "operational"},
      {{State::kUp, State::kUnknown}, "operational"},
      {{State::kUp, State::kMaintenance}, "maintenance"},
      {{State::kUp, State::kDegraded, State::kMaintenance}, "partial"},
      {{State::kUp, State::kUp, State::kDown}, "partial"},
      {{State::kUp, State::kDown}, "major"},
      {{State::kUp, State::kUp, State::kDown, State::kDown}, "major"},
      {{State::kDown, State::kDegraded, State::kDegraded}, "partial"},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    std::vector<MonitorView> views;
    for (State s : cases[i].states) views.push_back(monitor_view("m", "", s));
    std::vector<const MonitorView*> visible;
    visible.reserve(views.size());
    for (const auto& v : views) visible.push_back(&v);
    EXPECT_EQ(overall_banner(visible), cases[i].banner) << "case " << i;
  }
}

struct StatusPage {
  Snapshot snapshot;
  SummaryMap summaries;
  std::vector<IncidentRecord> resolved;
  std::string render(bool admin) const {
    return render_status_page({snapshot, summaries, resolved, admin, kWebDay, {}});
  }
};

IncidentRecord incident_of(int64_t id, const std::string& monitor, const std::string& cause) {
  IncidentRecord i;
  i.id = id;
  i.monitor = monitor;
  i.cause = cause;
  i.started_at = kWebDay - std::chrono::hours(1);
  return i;
}

StatusPage portal_status_page() {
  StatusPage p;
  p.snapshot = snapshot_of("Acme status", {monitor_view("portal-api", "Portal", State::kUp),
                                           monitor_view("mx", "", State::kDegraded),
                                           monitor_view("portal-web", "Portal", State::kDown),
                                           monitor_view("db-main", "Data", State::kDown, false)});
  p.snapshot.open_incidents = {incident_of(7, "portal-web", "connection refused"),
                               incident_of(8, "db-main", "disk full")};
  p.summaries["portal-api"].p95_ms_24h = 231.6;
  p.summaries["portal-api"].uptime_90d = 99.954;
  p.summaries["portal-api"].first_day_ms = to_unix_ms(kWebDay);
  p.summaries["portal-api"].days = {DaySummary{1440, 99.5f, 120.0f}};
  IncidentRecord old = incident_of(5, "db-main", "disk full");
  old.resolved_at = kWebDay - std::chrono::minutes(30);
  p.resolved = {old};
  return p;
}

TEST(Pages, StatusPageShowsGroupsStatesAndFigures) {
  const std::string page = portal_status_page().render(false);
  // Groups in the order they first appear; no group is "Other".
  const size_t portal = page.find("data-group=\"Portal\""),
               other = page.find("data-group=\"Other\"");
  ASSERT_NE(portal, std::string::npos);
  ASSERT_NE(other, std::string::npos);
  EXPECT_LT(portal, other);
  const std::vector<std::string> shown = {
      "<title>Acme status</title>",
      // One of three public monitors down: a partial outage, the private one not counted.
      "<p class=\"banner banner-partial\" role=\"status\">Partial outage</p>",
      "data-monitor=\"portal-api\" data-state=\"up\"",
      "<span class=\"state\">Operational</span>",
      "data-monitor=\"mx\" data-state=\"degraded\"",
      "<span class=\"state\">Degraded</span>",
      "<span class=\"p95\">p95 232 ms (24 h)</span>",
      "<span class=\"uptime\">99.95% uptime (90 days)</span>",
      "<title>2026-11-01: 99.50% uptime, p95 120 ms</title>",
      // mx has no history yet.
      "<span class=\"p95\">p95: no data</span><span class=\"uptime\">uptime: no data</span>",
      "data-incident=\"7\"",
      ("Updated <time datetime=\"2026-11-01T00:00:00.000Z\">2026-11-01 00:00 UTC</time>. This "
       "page refreshes every 60 seconds.</p>"),
  };
  expect_in(page, shown);
}

TEST(Pages, PrivateMonitorsAndTheirIncidentsOnlyForTheAdmin) {
  const StatusPage p = portal_status_page();
  const std::string open = p.render(false);
  expect_not_in(open,
                {"db-main", "disk full", "data-group=\"Data\"", "Private monitors are shown."});
  // The only resolved incident is the private monitor's.
  expect_in(open, {"<p>No incidents.</p>"});
  const std::string admin = p.render(true);
  const std::vector<std::string> shown = {
      "data-monitor=\"db-main\" data-state=\"down\"",
      "data-incident=\"8\"",
      "data-incident=\"5\"",
      "Private monitors are shown.",
      // Two of four down now.
      "Major outage",
  };
  expect_in(admin, shown);
}

TEST(Pages, StatusPageEscapesNamesCausesAndTitle) {
  StatusPage p;
  p.snapshot = snapshot_of("Acme & <Co>", {monitor_view(kHostileName, "<g>", State::kDown)});
  IncidentRecord i = incident_of(1, kHostileName, kHostileCause);
  i.acknowledged_at = kWebDay;
  i.acknowledged_by = "<api>";
  p.snapshot.open_incidents = {i};
  const std::string page = p.render(false);
  expect_not_in(page, {"<script>", "<b>", "<g>", "<api>", "<Co>"});
  const std::vector<std::string> shown = {
      "<title>Acme &amp; &lt;Co&gt;</title>",
      "data-monitor=\"" + kHostileNameEscaped + "\"",
      "<span class=\"cause\">" + kHostileCauseEscaped + "</span>",
      "data-group=\"&lt;g&gt;\"",
      "acknowledged (&lt;api&gt;)",
  };
  expect_in(page, shown);
}

struct MonitorPage {
  MonitorView monitor = monitor_view("portal-api", "Portal", State::kDown);
  HistorySummary summary;
  std::vector<IncidentRecord> incidents;
  std::vector<IncidentEventRow> events;
  std::string render() const {
    return render_monitor_page({monitor, summary, {}, incidents, events, "Acme status", kWebDay});
  }
};

TEST(Pages, MonitorPageShowsTheStateAndFigures) {
  MonitorPage p;
  p.monitor.cause = "connection refused";
  p.monitor.since = kWebDay - std::chrono::hours(2);
  p.monitor.cert_not_after = kWebDay + std::chrono::hours(24 * 20 + 5);
  p.monitor.slo_budget = Duration{500};
  p.monitor.slo_window = Duration{15 * 60'000};
  SloJudgement j;
  j.samples = 40;
  j.p95_ms = 612.4;
  j.breached = true;
  p.monitor.slo = j;
  p.summary.uptime_24h = 99.95;
  p.summary.uptime_30d = 98.0;
  p.incidents = {incident_of(7, "portal-api", "connection refused")};
  p.events = {{7, "incident.opened", kWebDay - std::chrono::hours(1), "hook delivered"},
              {9, "incident.opened", kWebDay, "of another incident"}};
  const std::string page = p.render();
  const std::vector<std::string> shown = {
      "<title>portal-api: Acme status</title>",
      "<p class=\"banner state-down\" role=\"status\">Down: connection refused</p>",
      "<dt>Group</dt><dd>Portal</dd><dt>Type</dt><dd>http</dd>",
      "<dt>State since</dt><dd><time datetime=\"2026-10-31T22:00:00.000Z\">",
      "<dd>99.950% / 98.000% / no data</dd>",
      ("<dt>Certificate expires</dt><dd><time datetime=\"2026-11-21T05:00:00.000Z\">2026-11-21 "
       "05:00 UTC</time> (20 days)</dd>"),
      "<dt>p95 over the last 15m</dt><dd>612 ms of 40 samples (budget 500 ms, over)</dd>",
      "data-incident=\"7\"",
      "incident.opened: hook delivered</li>",
  };
  expect_in(page, shown);
  // Another incident's event, and a last check that never happened.
  expect_not_in(page, {"of another incident", "Last check"});
}

TEST(Pages, MonitorPageLeavesOutWhatItDoesNotHave) {
  MonitorPage p;
  p.monitor.state = State::kUp;
  p.monitor.group = "";
  p.monitor.cause = "stale cause of an earlier run";
  const std::string page = p.render();
  const std::vector<std::string> shown = {
      // No cause while up.
      "role=\"status\">Operational</p>",
      "<dt>Group</dt><dd>-</dd>",
      "<dd>no data / no data / no data</dd>",
      "<h2>Incidents</h2><p>No incidents.</p>",
  };
  expect_in(page, shown);
  expect_not_in(page, {"stale cause", "Certificate expires", "p95 over the last"});
}

TEST(Pages, MonitorPageEscapesNameCauseAndEvents) {
  MonitorPage p;
  p.monitor.name = kHostileName;
  p.monitor.cause = kHostileCause;
  p.incidents = {incident_of(3, kHostileName, kHostileCause)};
  p.events = {{3, "incident.<opened>", kWebDay, "<hook> delivered"}};
  const std::string page = p.render();
  expect_not_in(page, {"<script>", "<b>", "<opened>", "<hook>"});
  const std::vector<std::string> shown = {
      "<h1>" + kHostileNameEscaped + "</h1>",
      "Down: " + kHostileCauseEscaped + "</p>",
      "<a href=\"/monitor/" + kHostileNameEscaped + "\">",
      "incident.&lt;opened&gt;: &lt;hook&gt; delivered",
  };
  expect_in(page, shown);
}

}  // namespace
}  // namespace lookout
