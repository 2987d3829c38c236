// The alerting sections: [[channel]], [[route]], [[maintenance]], and the monitor keys that
// point at them (routes, flap.*). Cross-references are checked once every section is read.
#include <fmt/format.h>
#include <fnmatch.h>

#include <ctime>
#include <map>

#include "config/channels/registry.h"
#include "config/config_parser.h"
#include "core/units.h"

namespace lookout {

const ChannelConfig* Config::channel(const std::string& name) const {
  for (const auto& c : channels) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

namespace config_detail {
namespace {

const std::set<std::string> kChannelCommon{"name",          "type",    "timeout",
                                           "give_up_after", "ca_file", "insecure"};
const std::set<std::string> kRouteKeys{"name",           "match",      "notify",  "escalate",
                                       "repeat",         "on_resolve", "on_post", "group_wait",
                                       "group_interval", "group_mode"};
const std::set<std::string> kMatchKeys{"name", "group", "type", "state"};
const std::set<std::string> kMaintenanceKeys{"title", "body", "monitors", "start", "duration"};

std::set<std::string> join(const std::set<std::string>& a, const std::set<std::string>& b) {
  std::set<std::string> out = a;
  out.insert(b.begin(), b.end());
  return out;
}

// Where `name` is written among `lists` (each a string or an array of strings): an error about
// that name points at its line and column, not at the table that holds it.
toml::source_region where_named(const std::vector<const toml::node*>& lists,
                                const std::string& name, const toml::source_region& fallback) {
  for (const toml::node* n : lists) {
    if (n == nullptr) continue;
    for (const toml::node* item : list_items(*n)) {
      if (item->value<std::string>() == name) return item->source();
    }
  }
  return fallback;
}

std::optional<std::vector<std::string>> names_list(Parser& p, const toml::node& n,
                                                   std::string_view key) {
  auto v = p.string_list(n, key);
  if (v && v->empty()) {
    p.error(n.source(), fmt::format("{} is empty", key));
    return std::nullopt;
  }
  return v;
}

void parse_channel(Parser& p, const toml::table& t, std::vector<ChannelConfig>& out) {
  ChannelConfig c;
  bool named = true;
  if (const auto* n = t.get("name")) {
    if (auto v = p.plain_text(*n, "name")) c.name = *v;
  } else {
    p.error(t.source(), "channel without a name");
    named = false;
  }
  const auto* type = t.get("type");
  const auto type_text = type != nullptr ? p.plain_text(*type, "type") : std::nullopt;
  if (!type_text) {
    if (type == nullptr)
      p.error(t.source(),
              fmt::format("channel \"{}\" has no type; use {}", c.name, channel_type_names()));
    return;
  }
  const ChannelParser* kind = find_channel_type(*type_text);
  if (kind == nullptr) {
    p.error(type->source(),
            fmt::format("unknown channel type \"{}\"; use {}", *type_text, channel_type_names()));
    return;
  }
  c.type = *type_text;
  p.check_keys(t, fmt::format("channel \"{}\"", c.name), join(kChannelCommon, kind->keys()));
  if (const auto* n = t.get("timeout")) {
    if (auto v = p.duration(*n, "timeout")) c.timeout = *v;
  }
  if (const auto* n = t.get("give_up_after")) {
    if (auto v = p.duration(*n, "give_up_after")) c.give_up_after = *v;
  }
  if (const auto* n = t.get("ca_file")) {
    if (auto v = p.plain_text(*n, "ca_file")) c.ca_file = *v;
  }
  if (const auto* n = t.get("insecure")) {
    if (auto v = p.boolean(*n, "insecure")) c.insecure = *v;
  }
  ChannelKeys keys(p, t, c, kind->name);
  c.spec = kind->parse(keys);
  if (named && keys.complete()) out.push_back(std::move(c));
}

void parse_route(Parser& p, const toml::table& t, std::vector<RouteConfig>& out) {
  RouteConfig r;
  if (const auto* n = t.get("name")) {
    if (auto v = p.plain_text(*n, "name")) r.name = *v;
  } else {
    p.error(t.source(), "route without a name");
    return;
  }
  p.check_keys(t, fmt::format("route \"{}\"", r.name), kRouteKeys);
  if (const auto* n = t.get("match")) {
    if (const auto* m = n->as_table()) {
      p.check_keys(*m, fmt::format("match of route \"{}\"", r.name), kMatchKeys);
      for (const auto& [k, v] : *m) {
        if (auto g = p.plain_text(v, fmt::format("match.{}", k.str())))
          r.match.emplace_back(std::string(k.str()), *g);
      }
    } else {
      p.error(n->source(), "match must be a table, as in match = { group = \"Portal\" }");
    }
  }
  if (const auto* n = t.get("notify")) {
    if (auto v = names_list(p, *n, "notify")) r.notify = *v;
  } else {
    p.error(t.source(), fmt::format("route \"{}\" has no notify list", r.name));
  }
  if (const auto* n = t.get("escalate")) {
    const auto* arr = n->as_array();
    if (arr == nullptr) {
      p.error(n->source(), "escalate must be an array of { after = \"10m\", notify = [...] }");
    } else {
      for (const auto& item : *arr) {
        const auto* tier = item.as_table();
        if (tier == nullptr) {
          p.error(item.source(),
                  "each escalate entry is a table { after = \"10m\", notify = [...] }");
          continue;
        }
        p.check_keys(*tier, "escalate", {"after", "notify"});
        EscalationTier e;
        const auto* after = tier->get("after");
        const auto* notify = tier->get("notify");
        if (after == nullptr || notify == nullptr) {
          p.error(item.source(), "each escalate entry needs after and notify");
          continue;
        }
        if (auto v = p.duration(*after, "escalate.after")) e.after = *v;
        if (auto v = names_list(p, *notify, "escalate.notify")) e.notify = *v;
        r.escalate.push_back(std::move(e));
      }
    }
  }
  if (const auto* n = t.get("repeat")) {
    if (auto v = p.duration(*n, "repeat")) {
      if (*v < Duration{60'000}) {
        p.error(n->source(), "repeat must be at least 1m");
      } else {
        r.repeat = *v;
      }
    }
  }
  if (const auto* n = t.get("on_resolve")) {
    if (auto v = p.boolean(*n, "on_resolve")) r.on_resolve = *v;
  }
  if (const auto* n = t.get("on_post")) {
    if (auto v = p.boolean(*n, "on_post")) r.on_post = *v;
  }
  auto group_time = [&](const char* key, Duration max, const char* why, Duration& into) {
    const auto* n = t.get(key);
    if (n == nullptr) return;
    if (auto v = p.duration(*n, key)) {
      if (*v > max) {
        p.error(n->source(), fmt::format("{} may be at most {}{}", key, format_duration(max), why));
      } else {
        into = *v;
      }
    }
  };
  if (const auto* n = t.get("group_mode")) {
    if (auto v = p.one_of<GroupMode>(
            *n, "group_mode",
            {{"leading", GroupMode::kLeading}, {"alertmanager", GroupMode::kAlertmanager}})) {
      r.group_mode = *v;
    }
  }
  group_time("group_wait", Duration{3'600'000}, ": it holds back the notifications of a route",
             r.group_wait);
  group_time("group_interval", Duration{86'400'000}, "", r.group_interval);
  out.push_back(std::move(r));
}

void parse_maintenance(Parser& p, const toml::table& t, std::vector<MaintenanceWindow>& out) {
  p.check_keys(t, "maintenance", kMaintenanceKeys);
  MaintenanceWindow w;
  const auto* monitors = t.get("monitors");
  const auto* start = t.get("start");
  const auto* duration = t.get("duration");
  if (monitors == nullptr || start == nullptr || duration == nullptr) {
    p.error(t.source(), "maintenance needs monitors, start and duration");
    return;
  }
  auto m = names_list(p, *monitors, "monitors");
  std::optional<WallTime> when;
  if (auto s = p.plain_text(*start, "start")) {
    when = parse_rfc3339(*s);
    if (!when)
      p.error(
          start->source(),
          fmt::format("start \"{}\" is not an RFC 3339 time such as \"2026-12-01T02:00:00Z\"", *s));
  }
  auto d = p.duration(*duration, "duration");
  if (const auto* title = t.get("title")) {
    if (auto v = p.plain_text(*title, "title")) w.title = *v;
  }
  if (const auto* body = t.get("body")) {
    if (auto v = p.plain_text(*body, "body")) w.body = *v;
  }
  if (!m || !when || !d) return;
  w.monitors = std::move(*m);
  w.start = *when;
  w.duration = *d;
  out.push_back(std::move(w));
}

template <typename F>
void each_table(Parser& p, const toml::table& root, const char* key, F&& f) {
  const auto* n = root.get(key);
  if (n == nullptr) return;
  const auto* arr = n->as_array();
  if (arr == nullptr || !arr->is_array_of_tables()) {
    p.error(n->source(), fmt::format("{0} must be written as [[{0}]] tables", key));
    return;
  }
  for (const auto& item : *arr) f(*item.as_table());
}

// [subscriptions]: the channel must be an email channel of this config, since subscriber
// mails go through its server and sender.
void parse_subscriptions(Parser& p, const toml::table& t, Config& config) {
  p.check_keys(t, "[subscriptions]", {"channel", "rate_limit"});
  SubscriptionsConfig s;
  const auto* channel = t.get("channel");
  if (channel == nullptr) {
    p.error(t.source(),
            "[subscriptions] has no channel; name an email channel that sends the mails");
    return;
  }
  auto name = p.plain_text(*channel, "subscriptions.channel");
  if (!name) return;
  const ChannelConfig* c = config.channel(*name);
  if (c == nullptr) {
    std::set<std::string> emails;
    for (const auto& ch : config.channels)
      if (ch.type == "email") emails.insert(ch.name);
    const std::string hint = suggest(*name, emails);
    p.error(channel->source(),
            fmt::format("subscriptions.channel names unknown channel \"{}\"{}", *name,
                        hint.empty() ? "" : fmt::format("; did you mean \"{}\"?", hint)));
    return;
  }
  if (c->type != "email") {
    p.error(channel->source(),
            fmt::format("subscriptions.channel \"{}\" is a {} channel; subscribers get mail, so "
                        "name an email channel",
                        *name, c->type));
    return;
  }
  s.channel = *name;
  if (const auto* n = t.get("rate_limit")) {
    if (!p.rate(*n, "subscriptions.rate_limit", s.rate_limit, s.rate_window)) return;
  }
  config.subscriptions = std::move(s);
}

// A maintenance window names monitors by name or glob. A name that is no monitor is a typo
// that would let alerts fire during the work: an error. A glob that matches nothing may be
// meant for monitors yet to come: a warning.
void check_maintenance_names(Parser& p, const toml::table& root, const Config& config) {
  const auto* arr =
      root.get("maintenance") != nullptr ? root.get("maintenance")->as_array() : nullptr;
  if (arr == nullptr) return;
  std::set<std::string> names;
  for (const auto& m : config.monitors) names.insert(m.name);
  for (const auto& item : *arr) {
    const auto* t = item.as_table();
    const toml::node* list = t != nullptr ? t->get("monitors") : nullptr;
    if (list == nullptr || (!list->is_array() && !list->is_string())) continue;
    for (const toml::node* n : list_items(*list)) {
      const auto glob = n->value<std::string>();
      if (!glob || glob->empty()) continue;
      const bool matches = std::any_of(names.begin(), names.end(), [&](const std::string& name) {
        return fnmatch(glob->c_str(), name.c_str(), 0) == 0;
      });
      if (matches) continue;
      if (glob->find_first_of("*?[") == std::string::npos) {
        const std::string hint = suggest(*glob, names);
        p.error(n->source(),
                fmt::format("maintenance names unknown monitor \"{}\"{}", *glob,
                            hint.empty() ? "" : fmt::format("; did you mean \"{}\"?", hint)));
      } else {
        p.warning(n->source(), fmt::format("maintenance glob \"{}\" matches no monitor", *glob));
      }
    }
  }
}

}  // namespace

const std::set<std::string>& alerting_monitor_keys() {
  static const std::set<std::string> keys{"routes", "flap"};
  return keys;
}

void parse_monitor_alerting(Parser& p, const Layers& layers, MonitorConfig& m) {
  if (const auto* n = layers.get("routes")) m.routes = p.string_list(*n, "routes");
  for (const toml::table* t : {layers.monitor, layers.defaults}) {
    if (t == nullptr) continue;
    if (const auto* f = t->get("flap")) {
      if (const auto* ft = f->as_table()) {
        p.check_keys(*ft, "flap", {"window", "threshold"});
      } else {
        p.error(f->source(), "flap must be a table, as in flap.window = 10");
      }
    }
  }
  if (const auto* n = layers.get("flap.window")) {
    if (auto v = p.integer(*n, "flap.window", 2, 100)) m.flap_window = static_cast<int>(*v);
  }
  if (const auto* n = layers.get("flap.threshold")) {
    if (auto v = p.integer(*n, "flap.threshold", 1, 100)) m.flap_threshold = static_cast<int>(*v);
  }
}

void parse_alerting(Parser& p, const toml::table& root, Config& config) {
  each_table(p, root, "channel",
             [&](const toml::table& t) { parse_channel(p, t, config.channels); });
  each_table(p, root, "route", [&](const toml::table& t) { parse_route(p, t, config.routes); });
  each_table(p, root, "maintenance",
             [&](const toml::table& t) { parse_maintenance(p, t, config.maintenance); });

  std::set<std::string> channels, routes;
  const auto* channel_arr =
      root.get("channel") != nullptr ? root.get("channel")->as_array() : nullptr;
  for (size_t i = 0; i < config.channels.size(); ++i) {
    if (!channels.insert(config.channels[i].name).second) {
      p.error(channel_arr != nullptr ? (*channel_arr)[i].source() : root.source(),
              fmt::format("duplicate channel name \"{}\"", config.channels[i].name));
    }
  }
  const auto* route_arr = root.get("route") != nullptr ? root.get("route")->as_array() : nullptr;
  for (size_t i = 0; i < config.routes.size(); ++i) {
    const auto& r = config.routes[i];
    const toml::source_region where =
        route_arr != nullptr && i < route_arr->size() ? (*route_arr)[i].source() : root.source();
    if (!routes.insert(r.name).second)
      p.error(where, fmt::format("duplicate route name \"{}\"", r.name));
    const toml::table* t =
        route_arr != nullptr && i < route_arr->size() ? (*route_arr)[i].as_table() : nullptr;
    std::vector<const toml::node*> tiers;
    if (const auto* esc = t != nullptr && t->get("escalate") != nullptr
                              ? t->get("escalate")->as_array()
                              : nullptr) {
      for (const auto& tier : *esc) {
        if (const auto* tt = tier.as_table()) tiers.push_back(tt->get("notify"));
      }
    }
    auto check = [&](const std::vector<std::string>& names,
                     const std::vector<const toml::node*>& lists) {
      for (const auto& c : names) {
        if (channels.count(c) == 0) {
          const std::string hint = suggest(c, channels);
          p.error(where_named(lists, c, where),
                  fmt::format("route \"{}\" notifies unknown channel \"{}\"{}", r.name, c,
                              hint.empty() ? "" : fmt::format("; did you mean \"{}\"?", hint)));
        }
      }
    };
    check(r.notify, {t != nullptr ? t->get("notify") : nullptr});
    for (const auto& e : r.escalate) check(e.notify, tiers);
    // Posts go to `notify` only, and are skipped for the types that take none.
    for (const auto& c : r.on_post ? r.notify : std::vector<std::string>{}) {
      const ChannelConfig* channel = config.channel(c);
      if (channel == nullptr || channel_takes_posts(channel->type)) continue;
      p.warning(where_named({t != nullptr ? t->get("notify") : nullptr}, c, where),
                fmt::format("route \"{}\" has on_post = true, but channel \"{}\" is of type {}, "
                            "which takes no posts: they are not sent to it",
                            r.name, c, channel->type));
    }
  }
  if (!config.channels.empty() && config.server.public_url.empty()) {
    p.error(channel_arr != nullptr ? channel_arr->source() : root.source(),
            "server.public_url is required once a channel exists: alerts carry links to it");
  }
  // Each monitor's table by name, found once: a config may hold thousands of monitors.
  std::unordered_map<std::string, const toml::table*> tables;
  if (const auto* monitor_arr =
          root.get("monitor") != nullptr ? root.get("monitor")->as_array() : nullptr) {
    for (const auto& item : *monitor_arr) {
      const auto* t = item.as_table();
      if (t != nullptr && t->get("name") != nullptr)
        tables[t->get("name")->value_or(std::string())] = t;
    }
  }
  const toml::node* default_routes =
      root.get("defaults") != nullptr && root.get("defaults")->as_table() != nullptr
          ? root.get("defaults")->as_table()->get("routes")
          : nullptr;
  for (const auto& m : config.monitors) {
    toml::source_region where = root.source();
    const toml::node* routes_node = default_routes;
    if (const auto it = tables.find(m.name); it != tables.end()) {
      const toml::table* t = it->second;
      if (t->get("routes") != nullptr) routes_node = t->get("routes");
      where = routes_node != nullptr ? routes_node->source() : t->source();
    }
    if (m.routes) {
      for (const auto& r : *m.routes) {
        if (routes.count(r) == 0) {
          const std::string hint = suggest(r, routes);
          p.error(where_named({routes_node}, r, where),
                  fmt::format("monitor \"{}\" names unknown route \"{}\"{}", m.name, r,
                              hint.empty() ? "" : fmt::format("; did you mean \"{}\"?", hint)));
        }
      }
    }
    if (config.routes.empty()) continue;
    bool matched = false;
    for (const auto& r : config.routes) {
      if (m.routes && std::find(m.routes->begin(), m.routes->end(), r.name) == m.routes->end())
        continue;
      bool all = true;
      for (const auto& [key, glob] : r.match) {
        const std::string value = key == "name"    ? m.name
                                  : key == "group" ? m.group
                                  : key == "type"  ? m.type
                                                   : "";
        // A state glob can match some state of any monitor.
        if (key != "state" && fnmatch(glob.c_str(), value.c_str(), 0) != 0) all = false;
      }
      matched = matched || all;
    }
    if (!matched)
      p.warning(where,
                fmt::format("monitor \"{}\" is matched by no route: its incidents notify nobody",
                            m.name));
  }
  check_maintenance_names(p, root, config);
  if (const auto* n = root.get("subscriptions")) {
    if (const auto* t = n->as_table()) {
      parse_subscriptions(p, *t, config);
    } else {
      p.error(n->source(), "[subscriptions] must be a table");
    }
  }
}

}  // namespace config_detail
}  // namespace lookout
