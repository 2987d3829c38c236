// Which channels hear about an incident: routes whose monitor list and `match` globs fit. Pure.
#pragma once

#include <string>
#include <vector>

#include "config/config.h"

namespace lookout {

struct RouteSubject {
  std::string name, group, type, state;
};

// Routes that apply to the monitor in that state, in config order.
std::vector<const RouteConfig*> routes_for(const Config& config, const MonitorConfig& monitor,
                                           const std::string& state);
bool route_matches(const RouteConfig& route, const RouteSubject& subject);

}  // namespace lookout
