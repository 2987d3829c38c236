#include "alerting/routing.h"

#include <fnmatch.h>

#include <algorithm>

namespace lookout {

bool route_fits(const RouteConfig& route, const PartialSubject& s) {
  for (const auto& [key, glob] : route.match) {
    const std::optional<std::string>& value = key == "name"    ? s.name
                                              : key == "group" ? s.group
                                              : key == "type"  ? s.type
                                                               : s.state;
    if (!value) {
      if (glob != "*") return false;
    } else if (fnmatch(glob.c_str(), value->c_str(), 0) != 0) {
      return false;
    }
  }
  return true;
}

bool route_matches(const RouteConfig& route, const RouteSubject& s) {
  return route_fits(route, PartialSubject{s.name, s.group, s.type, s.state});
}

namespace {

bool route_allows(const MonitorConfig& monitor, const RouteConfig& route) {
  return !monitor.routes || std::find(monitor.routes->begin(), monitor.routes->end(), route.name) !=
                                monitor.routes->end();
}

}  // namespace

std::vector<const RouteConfig*> routes_for(const Config& config, const MonitorConfig& monitor,
                                           const std::string& state) {
  std::vector<const RouteConfig*> out;
  const RouteSubject subject{monitor.name, monitor.group, monitor.type, state};
  for (const auto& r : config.routes) {
    if (route_allows(monitor, r) && route_matches(r, subject)) out.push_back(&r);
  }
  return out;
}

std::vector<const RouteConfig*> routes_for_post(
    const Config& config, const PostRecord& post,
    const std::function<std::optional<std::string>(const std::string&)>& state_of) {
  std::vector<const RouteConfig*> out;
  for (const auto& r : config.routes) {
    if (!r.on_post) continue;
    const bool fits =
        post.monitors.empty()
            ? route_fits(r, PartialSubject{})
            : std::any_of(post.monitors.begin(), post.monitors.end(), [&](const std::string& name) {
                const MonitorConfig* m = config.find(name);
                if (m == nullptr) return route_fits(r, PartialSubject{name, {}, {}, {}});
                return route_allows(*m, r) &&
                       route_fits(r, PartialSubject{m->name, m->group, m->type, state_of(name)});
              });
    if (fits) out.push_back(&r);
  }
  return out;
}

}  // namespace lookout
