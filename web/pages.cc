#include "web/pages.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <iterator>
#include <map>

#include "core/clock.h"
#include "core/units.h"
#include "web/maintenance_view.h"
#include "web/post_pages.h"

namespace lookout {
namespace {

const char* state_label(State s) {
  switch (s) {
    case State::kUp:
      return "Operational";
    case State::kDegraded:
      return "Degraded";
    case State::kDown:
      return "Down";
    case State::kMaintenance:
      return "Maintenance";
    case State::kUnknown:
      return "No data yet";
  }
  return "No data yet";
}

std::string head(const std::string& title, bool refresh) {
  return fmt::format(
      "<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\"><head><meta "
      "charset=\"utf-8\"/>"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>{}<title>{}</title>"
      "<link rel=\"stylesheet\" href=\"/static/style.css\"/><link rel=\"alternate\" "
      "type=\"application/atom+xml\" href=\"/feed.atom\" title=\"Feed\"/></head><body>",
      refresh ? "<meta http-equiv=\"refresh\" content=\"60\"/>" : "", xml_escape(title));
}

std::string when(WallTime t) {
  const std::string s = rfc3339(t);
  return fmt::format("<time datetime=\"{}\">{} {} UTC</time>", s, s.substr(0, 10), s.substr(11, 5));
}

// A location's word for its state: unknown there means its report is no longer fresh (its
// nodes are gone or cut off), which "No data yet" would misstate.
const char* location_label(State s) {
  return s == State::kUnknown ? "No recent results" : state_label(s);
}

// Cluster mode: each location's state in a monitor's row, its cause on hover, so that a
// failure seen from one place only is visible on the page without being an outage.
std::string location_chips(const MonitorView& m) {
  if (!m.cluster || m.cluster->locations.empty()) return {};
  std::string out = "<div class=\"row locations\">";
  for (const LocationView& l : m.cluster->locations) {
    out += fmt::format(
        "<span class=\"location state-{0}\" data-location=\"{1}\"{3}>{1} <span "
        "class=\"state\">{2}</span></span>",
        to_string(l.state), xml_escape(l.location), location_label(l.state),
        l.cause.empty() ? std::string() : fmt::format(" title=\"{}\"", xml_escape(l.cause)));
  }
  return out + "</div>";
}

// Cluster mode: the monitor page's table of what each location saw last.
std::string locations_section(const MonitorView& m) {
  if (!m.cluster || m.cluster->locations.empty()) return {};
  std::string rows;
  for (const LocationView& l : m.cluster->locations) {
    rows += fmt::format(
        "<tr class=\"location state-{0}\" data-location=\"{1}\"><th scope=\"row\">{1}</th><td "
        "class=\"state\">{2}</td><td>{3}</td><td>{4}</td><td>{5}</td></tr>",
        to_string(l.state), xml_escape(l.location), location_label(l.state), when(l.last_check),
        l.latency_us ? fmt::format("{:.0f} ms", static_cast<double>(*l.latency_us) / 1000.0)
                     : "no response",
        xml_escape(l.cause));
  }
  return "<section class=\"locations\"><h2>Locations</h2><table><thead><tr><th "
         "scope=\"col\">Location</th><th scope=\"col\">State</th><th scope=\"col\">Last "
         "check</th><th scope=\"col\">Latency</th><th "
         "scope=\"col\">Cause</th></tr></thead><tbody>" +
         rows + "</tbody></table></section>";
}

std::string incident_item(const IncidentRecord& i) {
  std::string out = fmt::format(
      "<li class=\"incident state-{0}\" data-incident=\"{1}\"><a href=\"/monitor/{2}\">{2}</a> "
      "<span class=\"state\">{3}</span> <span class=\"cause\">{4}</span> since {5}",
      i.resolved_at ? "up" : to_string(i.state), i.id, xml_escape(i.monitor),
      i.resolved_at ? "Resolved" : state_label(i.state), xml_escape(i.cause), when(i.started_at));
  if (i.resolved_at) out += ", resolved " + when(*i.resolved_at);
  if (i.acknowledged_at) out += fmt::format(", acknowledged ({})", xml_escape(i.acknowledged_by));
  if (i.flapping) out += " <span class=\"flapping\">flapping</span>";
  return out + "</li>";
}

// The daily figures the bars show, a line per week (the last week ends today; the oldest may
// be shorter): the date it starts, its uptime, and its lowest day's when that was under 99.9 %.
// Inside a <details>, so that they take no room until asked for, and need no script. Short:
// a page of 1,000 monitors holds 13,000 of these lines.
std::string weekly_figures(const HistorySummary& summary) {
  const auto& days = summary.days;
  constexpr int64_t kDayMs = 86'400'000;
  std::string lines;
  size_t begin = 0;
  const size_t first_len = days.size() % 7 == 0 ? 7 : days.size() % 7;
  for (size_t end = first_len; begin < days.size(); begin = end, end += 7) {
    double weighted = 0, runs = 0;
    float lowest = 100;
    size_t with_data = 0;
    for (size_t i = begin; i < end; ++i) {
      const DaySummary& d = days[i];
      if (d.count == 0) continue;
      weighted += static_cast<double>(d.uptime) * d.count;
      runs += d.count;
      ++with_data;
      lowest = std::min(lowest, d.uptime);
    }
    const int64_t from = summary.first_day_ms + static_cast<int64_t>(begin) * kDayMs;
    lines += "<li>" + rfc3339(from_unix_ms(from)).substr(5, 5) + ": ";
    if (runs == 0) {
      lines += "no data";
    } else {
      lines += fmt::format("{:.2f}%", weighted / runs);
      if (with_data > 1 && lowest < 99.9F) lines += fmt::format(", lowest day {:.2f}%", lowest);
    }
    lines += "</li>";
  }
  return "<details class=\"weeks\"><summary>Uptime by week</summary><ol>" + lines +
         "</ol></details>";
}

// What a monitor's row needs besides the monitor: its history and the open posts (a post that
// names it puts its impact in the row).
struct RowContext {
  const SummaryMap& summaries;
  const std::vector<const PostRecord*>& open_posts;
};

std::string monitor_item(const MonitorView& m, const RowContext& ctx) {
  static const HistorySummary kNoHistory;
  const auto it = ctx.summaries.find(m.name);
  const HistorySummary& summary = it == ctx.summaries.end() ? kNoHistory : it->second;
  std::string out = fmt::format(
      "<li class=\"monitor state-{0}\" data-monitor=\"{1}\" data-state=\"{0}\"><div "
      "class=\"row\"><a class=\"name\" href=\"/monitor/{1}\">{1}</a>{5}<span "
      "class=\"state\">{2}</span></div><div class=\"row detail\"><span "
      "class=\"p95\">{3}</span><span class=\"uptime\">{4}</span></div>",
      to_string(m.state), xml_escape(m.name), state_label(m.state),
      summary.p95_ms_24h ? fmt::format("p95 {:.0f} ms (24 h)", *summary.p95_ms_24h)
                         : "p95: no data",
      summary.uptime_90d ? fmt::format("{:.2f}% uptime (90 days)", *summary.uptime_90d)
                         : "uptime: no data",
      post_impact_note(m.name, ctx.open_posts));
  out += location_chips(m);
  if (!summary.days.empty()) out += uptime_bars_svg(summary.days) + weekly_figures(summary);
  return out + "</li>";
}

// A group of more monitors than this shows its failing ones and folds the rest away.
constexpr size_t kCollapseAbove = 30;

bool is_failing(State s) { return s == State::kDown || s == State::kDegraded; }

// "1000 monitors: 997 operational, 2 degraded, 1 down"
std::string state_counts(const std::vector<const MonitorView*>& members) {
  static constexpr std::array<std::pair<State, const char*>, 5> kOrder = {
      {{State::kUp, "operational"},
       {State::kDegraded, "degraded"},
       {State::kDown, "down"},
       {State::kMaintenance, "in maintenance"},
       {State::kUnknown, "without data yet"}}};
  std::string out = fmt::format("{} monitors: ", members.size());
  const char* sep = "";
  for (const auto& entry : kOrder) {
    const State state = entry.first;
    const auto n = std::count_if(members.begin(), members.end(),
                                 [state](const MonitorView* m) { return m->state == state; });
    if (n == 0) continue;
    out += fmt::format("{}{} {}", sep, n, entry.second);
    sep = ", ";
  }
  return out;
}

std::string group_section(const std::string& title, const std::vector<const MonitorView*>& members,
                          const RowContext& ctx) {
  std::string out =
      fmt::format("<section class=\"group\" data-group=\"{0}\"><h2>{0}</h2>", xml_escape(title));
  if (members.size() <= kCollapseAbove) {
    out += "<ul class=\"monitors\">";
    for (const auto* m : members) out += monitor_item(*m, ctx);
    return out + "</ul></section>";
  }
  // Collapsed: the counts, the failing monitors and those an open post names open, the others
  // behind a <details>.
  std::string open, folded;
  size_t rest = 0;
  for (const auto* m : members) {
    if (is_failing(m->state) || !post_impact_note(m->name, ctx.open_posts).empty()) {
      open += monitor_item(*m, ctx);
    } else {
      folded += monitor_item(*m, ctx);
      ++rest;
    }
  }
  out += fmt::format("<p class=\"counts\">{}</p>", state_counts(members));
  if (!open.empty()) out += "<ul class=\"monitors failing\">" + open + "</ul>";
  if (rest > 0) {
    out += fmt::format(
        "<details class=\"more\"><summary>{} {} monitor{}</summary><ul class=\"monitors\">{}</ul>"
        "</details>",
        open.empty() ? "All" : "The other", rest, rest == 1 ? "" : "s", folded);
  }
  return out + "</section>";
}

// What the colours of the daily bars mean, once above the groups.
std::string bar_legend() {
  return "<p class=\"bar-legend\">Daily uptime, last 90 days: <span class=\"key key-up\">\u2265 "
         "99.9%</span> <span class=\"key key-minor\">\u2265 99%</span> <span class=\"key "
         "key-degraded\">\u2265 95%</span> <span class=\"key key-down\">&lt; 95%</span> <span "
         "class=\"key key-none\">no data</span></p>";
}

}  // namespace

std::string overall_banner(const std::vector<const MonitorView*>& visible) {
  size_t down = 0, degraded = 0, maintenance = 0;
  for (const auto* m : visible) {
    down += m->state == State::kDown ? 1 : 0;
    degraded += m->state == State::kDegraded ? 1 : 0;
    maintenance += m->state == State::kMaintenance ? 1 : 0;
  }
  if (down > 0 && down * 2 >= visible.size()) return "major";
  if (down > 0 || degraded > 0) return "partial";
  if (maintenance > 0) return "maintenance";
  return "operational";
}

std::string render_status_page(const StatusPageInput& in) {
  const Snapshot& s = in.snapshot;
  std::vector<const MonitorView*> visible;
  for (const auto& m : s.monitors) {
    if (m->is_public || in.admin) visible.push_back(m.get());
  }
  static const std::map<std::string, std::string> kBanner{
      {"operational", "All systems operational"},
      {"partial", "Partial outage"},
      {"major", "Major outage"},
      {"maintenance", "Scheduled maintenance"}};
  const std::string kind = overall_banner(visible);
  std::string out = head(s.title, true);
  out += fmt::format(
      "<header><h1>{}</h1><p class=\"banner banner-{}\" role=\"status\">{}</p></header><main>",
      xml_escape(s.title), kind, kBanner.at(kind));

  auto is_visible = [&](const std::string& name) {
    return std::any_of(visible.begin(), visible.end(),
                       [&](const MonitorView* m) { return m->name == name; });
  };
  out += open_posts_section(in.open_posts);
  out += maintenance_section(in.maintenance, in.snapshot, in.admin, in.now);
  std::string open;
  for (const auto& i : s.open_incidents) {
    if (is_visible(i.monitor)) open += incident_item(i);
  }
  out +=
      "<section class=\"incidents\" aria-labelledby=\"open-incidents\"><h2 "
      "id=\"open-incidents\">Open incidents</h2>";
  out += open.empty() ? "<p>No open incidents.</p>" : "<ul>" + open + "</ul>";
  out += "</section>";

  // Groups in the order they first appear.
  std::vector<std::string> groups;
  for (const auto* m : visible) {
    if (std::find(groups.begin(), groups.end(), m->group) == groups.end())
      groups.push_back(m->group);
  }
  const bool any_history = std::any_of(visible.begin(), visible.end(), [&](const MonitorView* m) {
    const auto it = in.summaries.find(m->name);
    return it != in.summaries.end() && !it->second.days.empty();
  });
  if (any_history) out += bar_legend();
  for (const auto& g : groups) {
    std::vector<const MonitorView*> members;
    std::copy_if(visible.begin(), visible.end(), std::back_inserter(members),
                 [&](const MonitorView* m) { return m->group == g; });
    out += group_section(g.empty() ? "Other" : g, members, {in.summaries, in.open_posts});
  }
  std::string resolved;
  for (const auto& i : in.resolved) {
    if (is_visible(i.monitor)) resolved += incident_item(i);
  }
  out +=
      "<section class=\"incidents\" aria-labelledby=\"recent\"><h2 id=\"recent\">Resolved in the "
      "last 14 days</h2>";
  out += resolved.empty() ? "<p>No incidents.</p>" : "<ul>" + resolved + "</ul>";
  out += "</section></main>";
  out += fmt::format(
      "<footer><p>Updated {}. This page refreshes every 60 seconds.{}</p><p><a "
      "href=\"/history\">History</a> \u00b7 <a href=\"/feed.atom\">Feed</a>{}</p></footer>"
      "</body></html>\n",
      when(in.now), in.admin ? " Private monitors are shown." : "",
      in.snapshot.subscriptions ? " \u00b7 <a href=\"/subscribe\">Get updates by email</a>" : "");
  return out;
}

std::string render_monitor_page(const MonitorPageInput& in) {
  const MonitorView& m = in.monitor;
  std::string out = head(fmt::format("{}: {}", m.name, in.title), true);
  out += fmt::format(
      "<header><p><a href=\"/\">{}</a></p><h1>{}</h1><p class=\"banner state-{}\" "
      "role=\"status\">{}{}</p></header><main>",
      xml_escape(in.title), xml_escape(m.name), to_string(m.state), state_label(m.state),
      m.cause.empty() || m.state == State::kUp ? std::string() : ": " + xml_escape(m.cause));
  out += "<section><h2>Summary</h2><dl>";
  out += fmt::format("<dt>Group</dt><dd>{}</dd><dt>Type</dt><dd>{}</dd>",
                     xml_escape(m.group.empty() ? "-" : m.group), m.type);
  if (m.since) out += fmt::format("<dt>State since</dt><dd>{}</dd>", when(*m.since));
  if (m.last_check) out += fmt::format("<dt>Last check</dt><dd>{}</dd>", when(*m.last_check));
  auto pct = [](const std::optional<double>& v) {
    return v ? fmt::format("{:.3f}%", *v) : std::string("no data");
  };
  out += fmt::format("<dt>Uptime 24 h / 30 d / 90 d</dt><dd>{} / {} / {}</dd>",
                     pct(in.summary.uptime_24h), pct(in.summary.uptime_30d),
                     pct(in.summary.uptime_90d));
  if (m.cert_not_after) {
    const auto days =
        std::chrono::duration_cast<std::chrono::hours>(*m.cert_not_after - in.now).count() / 24;
    out += fmt::format("<dt>Certificate expires</dt><dd>{} ({} days)</dd>", when(*m.cert_not_after),
                       days);
  }
  if (m.slo_budget) {
    out += fmt::format("<dt>p95 over the last {}</dt><dd>{} (budget {} ms{})</dd>",
                       format_duration(*m.slo_window),
                       m.slo ? fmt::format("{:.0f} ms of {} samples", m.slo->p95_ms, m.slo->samples)
                             : "no samples yet",
                       m.slo_budget->count(), m.slo && m.slo->breached ? ", over" : "");
  }
  out += "</dl></section>";
  out += locations_section(m);
  for (const auto& [label, points] : in.charts) {
    out += fmt::format(
        "<section class=\"chart-section\"><h2>Latency and failures, last {}</h2>{}</section>",
        label, latency_chart_svg(points, label));
  }
  std::string list;
  for (const auto& i : in.incidents) {
    std::string item = incident_item(i);
    std::string events;
    for (const auto& e : in.events) {
      if (e.incident_id != i.id) continue;
      events += fmt::format("<li class=\"event\">{} {}{}</li>", when(e.at), xml_escape(e.event),
                            e.deliveries.empty() ? std::string() : ": " + xml_escape(e.deliveries));
    }
    if (!events.empty()) item.insert(item.size() - 5, "<ul class=\"events\">" + events + "</ul>");
    list += item;
  }
  out += "<section class=\"incidents\"><h2>Incidents</h2>";
  out += list.empty() ? "<p>No incidents.</p>" : "<ul>" + list + "</ul>";
  out += fmt::format("</section></main><footer><p>Updated {}.</p></footer></body></html>\n",
                     when(in.now));
  return out;
}

std::string page_head(const std::string& title, bool refresh) { return head(title, refresh); }

std::string page_time(WallTime t) { return when(t); }

std::string page_incident_item(const IncidentRecord& i) { return incident_item(i); }

const std::string& stylesheet() {
  static const std::string css =
      R"css(:root{--bg:#fff;--fg:#1f2328;--muted:#59636e;--card:#f6f8fa;--line:#d1d9e0;--up:#1a7f37;
--degraded:#9a6700;--down:#cf222e;--maint:#0969da;--minor:#4ac26b;--none:#8c959f}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#9198a1;
--card:#151b23;--line:#3d444d;--up:#3fb950;--degraded:#d29922;--down:#f85149;--maint:#4493f8;
--minor:#2ea043;--none:#656c76}}
*{box-sizing:border-box}
body{margin:0 auto;max-width:960px;padding:16px;background:var(--bg);color:var(--fg);
font:16px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif}
a{color:inherit}h1{font-size:1.6rem;margin:.2em 0}h2{font-size:1.15rem;margin:1.2em 0 .4em}
.banner{padding:12px 16px;border-radius:8px;font-weight:600;color:#fff;background:var(--up)}
.banner-partial,.banner.state-degraded{background:var(--degraded)}
.banner-major,.banner.state-down{background:var(--down)}
.banner-maintenance,.banner.state-maintenance{background:var(--maint)}
.banner.state-unknown{background:var(--muted)}
ul{list-style:none;padding:0;margin:0}
.monitor{background:var(--card);border:1px solid var(--line);border-radius:8px;
padding:10px 12px;margin:8px 0}
.row{display:flex;justify-content:space-between;gap:12px;flex-wrap:wrap}
.detail{color:var(--muted);font-size:.9rem}
.state{font-weight:600}.state-up .state{color:var(--up)}
.state-degraded .state{color:var(--degraded)}.state-down .state{color:var(--down)}
.state-maintenance .state{color:var(--maint)}
svg.bars{display:block;width:100%;height:24px;margin-top:6px}
.bars path{fill:none;stroke-width:1;stroke-dasharray:.8 .2}
.bars .up{stroke:var(--up)}.bars .minor{stroke:var(--minor)}.bars .degraded{stroke:var(--degraded)}
.bars .down{stroke:var(--down)}.bars .none{stroke:var(--none)}
.bar-legend,.counts{color:var(--muted);font-size:.9rem}
.key{white-space:nowrap}.key::before{content:"";display:inline-block;width:.8em;height:.8em;
margin:0 .3em 0 .4em;border-radius:2px;vertical-align:-.05em}
.key-up::before{background:var(--up)}.key-minor::before{background:var(--minor)}
.key-degraded::before{background:var(--degraded)}.key-down::before{background:var(--down)}
.key-none::before{background:var(--none)}
details.weeks{font-size:.85rem;color:var(--muted);margin-top:4px}
details.weeks ol{list-style:none;margin:4px 0 0;padding:0}.name{overflow-wrap:anywhere}
details.more>summary{cursor:pointer;font-weight:600;margin:8px 0}
svg.chart{width:100%;height:auto;background:var(--card);border-radius:8px}
.grid{stroke:var(--line);stroke-width:1}.axis,.legend{fill:var(--muted);font-size:11px}
.p50{fill:none;stroke:#1f6feb;stroke-width:2}.p95{fill:none;stroke:#bf8700;stroke-width:2}
.p99{fill:none;stroke:#8250df;stroke-width:2}
.p50t{fill:#1f6feb}.p95t{fill:#bf8700}.p99t{fill:#8250df}.fail,.failt{fill:var(--down)}
.incident{border-left:4px solid var(--down);padding:6px 10px;margin:6px 0;
background:var(--card)}
.incident.state-up{border-color:var(--up)}
.flapping{color:var(--degraded);font-weight:600}
.events{margin:4px 0 0 12px;font-size:.9rem;color:var(--muted)}
.locations{font-size:.9rem;justify-content:flex-start;margin-top:4px}
.location{border:1px solid var(--line);border-radius:4px;padding:0 6px}
.location.state-unknown .state{color:var(--muted)}
section.locations table{border-collapse:collapse;width:100%;font-size:.9rem}
section.locations th,section.locations td{text-align:left;padding:4px 8px;
border-bottom:1px solid var(--line)}
dl{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px}dd{margin:0}
footer{color:var(--muted);font-size:.85rem;margin-top:24px}
)css";
  return css;
}

}  // namespace lookout
