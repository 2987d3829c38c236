#include "alerting/routing.h"

#include <fnmatch.h>

#include <algorithm>

namespace lookout {

bool route_matches(const RouteConfig& route, const RouteSubject& s) {
  for (const auto& [key, glob] : route.match) {
    const std::string& value = key == "name"    ? s.name
                               : key == "group" ? s.group
                               : key == "type"  ? s.type
                                                : s.state;
    if (fnmatch(glob.c_str(), value.c_str(), 0) != 0) return false;
  }
  return true;
}

std::vector<const RouteConfig*> routes_for(const Config& config, const MonitorConfig& monitor,
                                           const std::string& state) {
  std::vector<const RouteConfig*> out;
  const RouteSubject subject{monitor.name, monitor.group, monitor.type, state};
  for (const auto& r : config.routes) {
    if (monitor.routes &&
        std::find(monitor.routes->begin(), monitor.routes->end(), r.name) == monitor.routes->end())
      continue;
    if (route_matches(r, subject)) out.push_back(&r);
  }
  return out;
}

}  // namespace lookout
