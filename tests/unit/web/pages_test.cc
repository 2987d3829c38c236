#include "web/pages.h"

#include <fmt/format.h>
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
    return render_status_page({snapshot, summaries, resolved, admin, kWebDay, {}, {}});
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
      // The day's bar, the legend of the colours, and the day's figures as text.
      "<path class=\"minor\" d=\"M0 .5h1\"/>",
      "<p class=\"bar-legend\">Daily uptime, last 90 days: <span class=\"key key-up\">",
      ("<details class=\"weeks\"><summary>Uptime by week</summary><ol><li>11-01: "
       "99.50%</li></ol></details>"),
      // mx has no history yet.
      "<span class=\"p95\">p95: no data</span><span class=\"uptime\">uptime: no data</span>",
      "data-incident=\"7\"",
      ("Updated <time datetime=\"2026-11-01T00:00:00.000Z\">2026-11-01 00:00 UTC</time>. This "
       "page refreshes every 60 seconds.</p>"),
  };
  expect_in(page, shown);
  // Small groups are shown whole.
  expect_not_in(page, {"<details class=\"more\">", "class=\"counts\""});
}

TEST(Pages, NoLegendWithoutHistory) {
  StatusPage p = portal_status_page();
  p.summaries.clear();
  expect_not_in(p.render(false), {"bar-legend", "<svg", "<details"});
}

// 90 days of a monitor that had a bad day every `every` days, the worst on day 85.
HistorySummary ninety_days(int every) {
  HistorySummary h;
  h.first_day_ms = to_unix_ms(kWebDay);
  h.uptime_90d = 99.5;
  h.p95_ms_24h = 80;
  for (int i = 0; i < 90; ++i) {
    const float uptime = i == 85 ? 42.5F : i % every == 0 ? 98.25F : 100.0F;
    h.days.push_back(DaySummary{1440, uptime, 60.0F + static_cast<float>(i % 17)});
  }
  h.days[3].count = 0;  // a day without runs
  return h;
}

TEST(Pages, WeeklyFiguresEndTodayAndNameTheLowestDay) {
  StatusPage p;
  p.snapshot = snapshot_of("Acme", {monitor_view("api", "", State::kUp)});
  p.summaries["api"] = ninety_days(10);
  const std::string page = p.render(false);
  size_t weeks = 0;
  for (size_t at = page.find("<li>"); at != std::string::npos; at = page.find("<li>", at + 1))
    ++weeks;
  EXPECT_EQ(weeks, 13u) << "6 days, then 12 weeks up to the last day";
  const std::vector<std::string> shown = {
      // Days 0..5 (day 3 without runs): days 0 at 98.25%, four at 100%.
      "<li>11-01: 99.65%, lowest day 98.25%</li>",
      // Days 6..12, day 10 at 98.25%.
      "<li>11-07: 99.75%, lowest day 98.25%</li>",
      // Days 13..19, all up.
      "<li>11-14: 100.00%</li>",
      // The last week, days 83..89: 42.5% on day 85 (01-25).
      "<li>01-23: 91.79%, lowest day 42.50%</li>",
      "<path class=\"down\" d=\"M85 .5h1\"/>",
      "<path class=\"none\" d=\"M3 .5h1\"/>",
  };
  expect_in(page, shown);
}

TEST(Pages, BigGroupsFoldAwayAllButTheirFailingMonitors) {
  std::vector<MonitorView> views;
  views.reserve(70);
  for (int i = 0; i < 40; ++i) {
    const State s = i == 7 || i == 31 ? State::kDown : i == 12 ? State::kDegraded : State::kUp;
    views.push_back(monitor_view(fmt::format("web-{}", i), "Web", s));
  }
  for (int i = 0; i < 30; ++i)
    views.push_back(monitor_view(fmt::format("db-{}", i), "Data", State::kUp));
  StatusPage p;
  p.snapshot = snapshot_of("Acme", std::move(views));
  const std::string page = p.render(false);
  const size_t web = page.find("data-group=\"Web\""), data = page.find("data-group=\"Data\"");
  ASSERT_NE(web, std::string::npos);
  ASSERT_NE(data, std::string::npos);
  const std::string big = page.substr(web, data - web), small = page.substr(data);
  expect_in(big, {"<p class=\"counts\">40 monitors: 37 operational, 1 degraded, 2 down</p>",
                  "<details class=\"more\"><summary>The other 37 monitors</summary>"});
  const size_t folded = big.find("<details");
  // The failing monitors are listed above the fold, the others inside it, each once.
  for (const char* name : {"web-7", "web-12", "web-31"}) {
    const size_t at = big.find(fmt::format("data-monitor=\"{}\"", name));
    EXPECT_LT(at, folded) << name;
  }
  for (const char* name : {"web-0", "web-8", "web-39"}) {
    const std::string attr = fmt::format("data-monitor=\"{}\"", name);
    EXPECT_GT(big.find(attr), folded) << name;
    EXPECT_EQ(big.find(attr), big.rfind(attr)) << name;
  }
  // Thirty monitors are not too many to show.
  expect_not_in(small, {"<details class=\"more\">", "class=\"counts\""});
  EXPECT_NE(small.find("data-monitor=\"db-29\""), std::string::npos);
}

TEST(Pages, AMonitorAnOpenPostNamesSaysItsImpactAndStaysAboveTheFold) {
  std::vector<MonitorView> views;
  views.reserve(31);
  for (int i = 0; i < 31; ++i) views.push_back(monitor_view(fmt::format("m{}", i), "", State::kUp));
  const Snapshot snapshot = snapshot_of("Acme", std::move(views));
  PostRecord post;
  post.id = 4;
  post.title = "Slow payments";
  post.impact = PostImpact::kMinor;
  post.monitors = {"m20"};
  post.created_at = kWebDay;
  post.updates = {{PostStatus::kIdentified, "", kWebDay}};
  const SummaryMap summaries;
  const std::vector<IncidentRecord> resolved;
  const std::string page =
      render_status_page({snapshot, summaries, resolved, false, kWebDay, {&post}, {}});
  const size_t row = page.find("data-monitor=\"m20\"");
  ASSERT_NE(row, std::string::npos);
  const size_t note =
      page.find("<span class=\"post-note impact-minor\"><a href=\"/posts/4\">Minor impact</a>");
  EXPECT_GT(note, row);
  EXPECT_LT(note, page.find("</li>", row)) << "in the monitor's own row";
  EXPECT_LT(row, page.find("<details class=\"more\">")) << "a named monitor is not folded away";
  EXPECT_EQ(page.find("post-note", page.find("</li>", row)), std::string::npos)
      << "only the named monitor";
}

TEST(Pages, BigGroupWithoutFailuresFoldsAll) {
  std::vector<MonitorView> views;
  views.reserve(31);
  for (int i = 0; i < 31; ++i) views.push_back(monitor_view(fmt::format("m{}", i), "", State::kUp));
  views.back().state = State::kMaintenance;
  StatusPage p;
  p.snapshot = snapshot_of("Acme", std::move(views));
  expect_in(p.render(false),
            {"<p class=\"counts\">31 monitors: 30 operational, 1 in maintenance</p><details "
             "class=\"more\"><summary>All 31 monitors</summary>"});
}

TEST(Pages, ThousandMonitorsWithNinetyDaysStayUnderOneAndAHalfMegabytes) {
  std::vector<MonitorView> views;
  views.reserve(1000);
  StatusPage p;
  for (int i = 0; i < 1000; ++i) {
    const std::string name = fmt::format("monitor-{}", i);
    views.push_back(monitor_view(name, fmt::format("group-{}", i / 100),
                                 i % 97 == 0 ? State::kDown : State::kUp));
    p.summaries[name] = ninety_days(3 + i % 11);
  }
  p.snapshot = snapshot_of("Acme", std::move(views));
  const std::string page = p.render(false);
  EXPECT_LT(page.size(), 1'500'000u);
  EXPECT_NE(page.find("data-monitor=\"monitor-999\""), std::string::npos);
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

// Cluster mode: a monitor down from one of two locations stays up, and the page says where it
// fails and why, without calling the stale location down.
MonitorView clustered_view() {
  MonitorView m = monitor_view("portal-api", "Portal", State::kUp);
  m.cluster = MonitorView::Clustered{
      {{"fra", State::kDown, kWebDay - std::chrono::seconds(20), std::nullopt, kHostileCause},
       {"nyc", State::kUp, kWebDay - std::chrono::seconds(25), 42'400, ""},
       {"sgp", State::kUnknown, kWebDay - std::chrono::hours(1), 180'000, ""}},
      "fra-1"};
  return m;
}

TEST(Pages, StatusPageRowShowsEachLocation) {
  StatusPage p;
  p.snapshot = snapshot_of("Acme", {clustered_view()});
  const std::string page = p.render(false);
  expect_in(page, {"<span class=\"location state-down\" data-location=\"fra\" title=\"" +
                       kHostileCauseEscaped + "\">fra <span class=\"state\">Down</span></span>",
                   "data-location=\"nyc\">nyc <span class=\"state\">Operational</span>",
                   "data-location=\"sgp\">sgp <span class=\"state\">No recent results</span>"});
  expect_not_in(page, {kHostileCause, "fra-1"});
  EXPECT_LT(page.find("data-location=\"fra\""), page.find("data-location=\"nyc\""));

  p.snapshot = snapshot_of("Acme", {monitor_view("portal-api", "Portal", State::kUp)});
  expect_not_in(p.render(false), {"class=\"row locations\"", "data-location"});
}

TEST(Pages, MonitorPageTablesWhatEachLocationSawLast) {
  MonitorPage p;
  p.monitor = clustered_view();
  const std::string page = p.render();
  expect_in(page, {"<section class=\"locations\"><h2>Locations</h2>",
                   std::string("data-location=\"fra\"><th scope=\"row\">fra</th><td ") +
                       "class=\"state\">Down</td><td><time datetime=\"2026-10-31T23:59:40.000Z\">",
                   "</td><td>no response</td><td>" + kHostileCauseEscaped + "</td></tr>",
                   "<td class=\"state\">Operational</td>", "<td>42 ms</td>",
                   "<td class=\"state\">No recent results</td>", "<td>180 ms</td>"});
  expect_not_in(page, {kHostileCause, "fra-1"});

  p.monitor = monitor_view("portal-api", "Portal", State::kUp);
  expect_not_in(p.render(), {"<h2>Locations</h2>"});
}

}  // namespace
}  // namespace lookout
