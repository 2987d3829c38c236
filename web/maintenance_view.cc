#include "web/maintenance_view.h"

#include <fmt/format.h>
#include <fnmatch.h>

#include <algorithm>

#include "core/units.h"
#include "web/pages.h"
#include "web/post_text.h"
#include "web/svg.h"

namespace lookout {

std::vector<std::string> maintenance_monitors_for(const ListedMaintenance& w, const Snapshot& s,
                                                  bool admin) {
  std::vector<std::string> out;
  for (const auto& m : s.monitors) {
    if (!admin && !m->is_public) continue;
    const bool covered = std::any_of(
        w.window.monitors.begin(), w.window.monitors.end(),
        [&](const std::string& g) { return fnmatch(g.c_str(), m->name.c_str(), 0) == 0; });
    if (covered) out.push_back(m->name);
  }
  return out;
}

std::vector<const ListedMaintenance*> visible_maintenance(const Snapshot& s, bool admin,
                                                          WallTime now) {
  std::vector<const ListedMaintenance*> out;
  for (const auto& w : s.maintenance) {
    if (w.window.end() <= now) continue;
    if (admin || !maintenance_monitors_for(w, s, false).empty()) out.push_back(&w);
  }
  return out;
}

nlohmann::json maintenance_json(const ListedMaintenance& w, const Snapshot& s, bool admin,
                                WallTime now) {
  return {{"id", w.id},
          {"title", w.window.title},
          {"body", w.window.body},
          {"monitors", admin ? w.window.monitors : maintenance_monitors_for(w, s, false)},
          {"start", rfc3339(w.window.start)},
          {"end", rfc3339(w.window.end())},
          {"duration", format_duration(w.window.duration)},
          {"state", w.active(now) ? "active" : "upcoming"},
          {"source", w.from_config ? "config" : "api"}};
}

std::string maintenance_section(const std::vector<const ListedMaintenance*>& windows,
                                const Snapshot& s, bool admin, WallTime now) {
  if (windows.empty()) return "";
  std::string out =
      "<section class=\"maintenance\" aria-labelledby=\"planned\"><h2 id=\"planned\">Planned "
      "maintenance</h2><ul>";
  for (const ListedMaintenance* w : windows) {
    std::string names;
    for (const auto& m : maintenance_monitors_for(*w, s, admin)) {
      if (!names.empty()) names += ", ";
      names += xml_escape(m);
    }
    const std::string title = w->window.title.empty() ? "Maintenance" : w->window.title;
    out += fmt::format(
        "<li class=\"post maintenance-window\"><div class=\"row\"><span class=\"name\">{}</span>"
        "<span class=\"post-impact\">{}</span></div><p>{} to {} ({})</p>",
        xml_escape(title), w->active(now) ? "In progress" : "Scheduled", page_time(w->window.start),
        page_time(w->window.end()), format_duration(w->window.duration));
    if (!names.empty()) out += fmt::format("<p>Affects {}</p>", names);
    if (!w->window.body.empty())
      out += fmt::format("<p class=\"post-body\">{}</p>", post_body_html(w->window.body));
    out += "</li>";
  }
  return out + "</ul></section>";
}

}  // namespace lookout
