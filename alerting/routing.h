// Which channels hear about an incident or a post: routes whose monitor list and `match` globs
// fit. Pure.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "store/records.h"

namespace lookout {

struct RouteSubject {
  std::string name, group, type, state;
};

// Routes that apply to the monitor in that state, in config order.
std::vector<const RouteConfig*> routes_for(const Config& config, const MonitorConfig& monitor,
                                           const std::string& state);
bool route_matches(const RouteConfig& route, const RouteSubject& subject);

// What routing knows of what a post is about; a key it does not know fits only the glob "*". A
// post about the whole service has no name, group, type or state, and a monitor's state may be
// unknown (the alert engine knows it while the monitor has an open incident).
struct PartialSubject {
  std::optional<std::string> name, group, type, state;
};
bool route_fits(const RouteConfig& route, const PartialSubject& subject);

// The routes with on_post that hear about a post, in config order. A post naming monitors fits
// a route when any of them does (the monitor's `routes` list it, or is unset, and `match` fits
// the monitor, whose state is `state_of(name)`); a monitor that left the config is known by its
// name alone. A post naming no monitors is about the whole service: it fits a route whose
// `match` holds only "*" globs (typically none at all).
std::vector<const RouteConfig*> routes_for_post(
    const Config& config, const PostRecord& post,
    const std::function<std::optional<std::string>(const std::string&)>& state_of);

}  // namespace lookout
