#include "web/statuspage.h"

#include <algorithm>
#include <map>

#include "web/maintenance_view.h"
#include "web/post_pages.h"

namespace lookout {
namespace {

// Statuspage has no page id to give; aggregators key pages by their URL, and this stays fixed.
constexpr const char* kPageId = "lookout";

int severity(const std::string& indicator) {
  if (indicator == "critical") return 3;
  if (indicator == "major") return 2;
  if (indicator == "minor") return 1;
  return 0;
}

nlohmann::json page_json(const StatuspageInput& in) {
  return {{"id", kPageId},
          {"name", in.snapshot.title},
          {"url", in.public_url},
          {"time_zone", "Etc/UTC"},
          {"updated_at", rfc3339(in.snapshot.built_at)}};
}

nlohmann::json time_or_null(const std::optional<WallTime>& t) {
  return t ? nlohmann::json(rfc3339(*t)) : nlohmann::json(nullptr);
}

nlohmann::json component_json(const MonitorView& m, size_t position, const StatuspageInput& in) {
  const std::string changed = rfc3339(m.since.value_or(in.snapshot.built_at));
  return {{"id", m.name},
          {"name", m.name},
          {"status", statuspage_component_status(m.state)},
          {"created_at", changed},
          {"updated_at", changed},
          {"position", position},
          {"description", m.group.empty() ? nlohmann::json(nullptr) : nlohmann::json(m.group)},
          {"showcase", true},
          {"start_date", nullptr},
          {"group_id", nullptr},
          {"page_id", kPageId},
          {"group", false},
          {"only_show_if_degraded", false}};
}

// The named public monitors as components, each at its position in the page's list.
nlohmann::json components_named(const std::vector<std::string>& names, const StatuspageInput& in) {
  nlohmann::json out = nlohmann::json::array();
  size_t position = 0;
  for (const auto& m : in.snapshot.monitors) {
    if (!m->is_public) continue;
    ++position;
    if (std::find(names.begin(), names.end(), m->name) != names.end())
      out.push_back(component_json(*m, position, in));
  }
  return out;
}

nlohmann::json post_incident_json(const PostRecord& p, const StatuspageInput& in) {
  const std::string id = std::to_string(p.id);
  nlohmann::json updates = nlohmann::json::array();
  for (size_t i = p.updates.size(); i-- > 0;) {
    const PostUpdate& u = p.updates[i];
    updates.push_back({{"id", id + "-" + std::to_string(i)},
                       {"status", to_string(u.status)},
                       {"body", u.body},
                       {"incident_id", id},
                       {"created_at", rfc3339(u.at)},
                       {"updated_at", rfc3339(u.at)},
                       {"display_at", rfc3339(u.at)},
                       {"affected_components", nullptr},
                       {"deliver_notifications", true}});
  }
  std::optional<WallTime> monitoring_at;
  for (const auto& u : p.updates) {
    if (u.status == PostStatus::kMonitoring && !monitoring_at) monitoring_at = u.at;
  }
  const WallTime updated = p.updates.empty() ? p.created_at : p.updates.back().at;
  return {{"id", id},
          {"name", p.title},
          {"status", to_string(p.status())},
          {"created_at", rfc3339(p.created_at)},
          {"updated_at", rfc3339(updated)},
          {"monitoring_at", time_or_null(monitoring_at)},
          {"resolved_at", time_or_null(p.resolved_at)},
          {"impact", to_string(p.impact)},
          {"shortlink", in.public_url + "/posts/" + id},
          {"started_at", rfc3339(p.created_at)},
          {"page_id", kPageId},
          {"incident_updates", std::move(updates)},
          {"components", components_named(post_monitors_for(p, in.snapshot, false), in)}};
}

nlohmann::json scheduled_json(const ListedMaintenance& w, const StatuspageInput& in) {
  const bool active = w.active(in.now);
  const std::string start = rfc3339(w.window.start);
  nlohmann::json updates = nlohmann::json::array();
  if (!w.window.body.empty()) {
    updates.push_back({{"id", w.id + "-0"},
                       {"status", "scheduled"},
                       {"body", w.window.body},
                       {"incident_id", w.id},
                       {"created_at", start},
                       {"updated_at", start},
                       {"display_at", start},
                       {"affected_components", nullptr},
                       {"deliver_notifications", true}});
  }
  return {{"id", w.id},
          {"name", w.window.title.empty() ? "Maintenance" : w.window.title},
          {"status", active ? "in_progress" : "scheduled"},
          {"created_at", start},
          {"updated_at", start},
          {"monitoring_at", nullptr},
          {"resolved_at", nullptr},
          {"impact", "maintenance"},
          {"shortlink", in.public_url + "/"},
          {"started_at", start},
          {"page_id", kPageId},
          {"incident_updates", std::move(updates)},
          {"components", components_named(maintenance_monitors_for(w, in.snapshot, false), in)},
          {"scheduled_for", start},
          {"scheduled_until", rfc3339(w.window.end())}};
}

}  // namespace

const char* statuspage_component_status(State s) {
  switch (s) {
    case State::kDown:
      return "major_outage";
    case State::kDegraded:
      return "degraded_performance";
    case State::kMaintenance:
      return "under_maintenance";
    case State::kUp:
    case State::kUnknown:
      return "operational";
  }
  return "operational";
}

StatuspageIndicator statuspage_indicator(const StatuspageInput& in) {
  std::string worst = "none";
  const auto raise = [&worst](const std::string& level) {
    if (severity(level) > severity(worst)) worst = level;
  };
  for (const PostRecord* p : visible_posts(in.snapshot, false, true)) raise(to_string(p->impact));
  size_t visible = 0, down = 0;
  for (const auto& m : in.snapshot.monitors) {
    if (!m->is_public) continue;
    ++visible;
    if (m->state == State::kDown) ++down;
    if (m->state == State::kDegraded) raise("minor");
  }
  if (down > 0) raise(down == visible ? "critical" : "major");
  static const std::map<std::string, std::string> kWords{{"none", "All Systems Operational"},
                                                         {"minor", "Minor Service Outage"},
                                                         {"major", "Partial System Outage"},
                                                         {"critical", "Major System Outage"}};
  return {worst, kWords.at(worst)};
}

nlohmann::json statuspage_status(const StatuspageInput& in) {
  const StatuspageIndicator i = statuspage_indicator(in);
  return {{"page", page_json(in)},
          {"status", {{"indicator", i.indicator}, {"description", i.description}}}};
}

nlohmann::json statuspage_summary(const StatuspageInput& in) {
  nlohmann::json components = nlohmann::json::array();
  size_t position = 1;
  for (const auto& m : in.snapshot.monitors) {
    if (m->is_public) components.push_back(component_json(*m, position++, in));
  }
  nlohmann::json incidents = nlohmann::json::array();
  for (const PostRecord* p : visible_posts(in.snapshot, false, true))
    incidents.push_back(post_incident_json(*p, in));
  nlohmann::json scheduled = nlohmann::json::array();
  for (const ListedMaintenance* w : visible_maintenance(in.snapshot, false, in.now))
    scheduled.push_back(scheduled_json(*w, in));
  nlohmann::json out = statuspage_status(in);
  out["components"] = std::move(components);
  out["incidents"] = std::move(incidents);
  out["scheduled_maintenances"] = std::move(scheduled);
  return out;
}

}  // namespace lookout
