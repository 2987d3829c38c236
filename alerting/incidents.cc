#include "alerting/incidents.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "alerting/ack_token.h"
#include "alerting/channels/registry.h"
#include "alerting/routing.h"

namespace lookout {

nlohmann::json incident_json(const IncidentRecord& i) {
  auto time_or_null = [](const std::optional<WallTime>& t) {
    return t ? nlohmann::json(rfc3339(*t)) : nlohmann::json(nullptr);
  };
  return {{"id", i.id},
          {"monitor", i.monitor},
          {"group", i.group},
          {"type", i.type},
          {"state", i.resolved_at ? "up" : to_string(i.state)},
          {"cause", i.cause},
          {"started_at", rfc3339(i.started_at)},
          {"resolved_at", time_or_null(i.resolved_at)},
          {"acknowledged_at", time_or_null(i.acknowledged_at)},
          {"acknowledged_by",
           i.acknowledged_by.empty() ? nlohmann::json(nullptr) : nlohmann::json(i.acknowledged_by)},
          {"flapping", i.flapping}};
}

std::string incident_payload(const IncidentRecord& i, const std::string& ack_url) {
  nlohmann::json j = incident_json(i);
  j["ack_url"] = ack_url.empty() ? nlohmann::json(nullptr) : nlohmann::json(ack_url);
  return j.dump();
}

bool is_post_event(std::string_view event) { return event == kPostPosted || event == kPostUpdated; }

nlohmann::json post_json(const PostRecord& post, const std::string& public_url) {
  nlohmann::json update = nullptr;
  if (!post.updates.empty()) {
    const PostUpdate& u = post.updates.back();
    update = {{"status", to_string(u.status)}, {"body", u.body}, {"at", rfc3339(u.at)}};
  }
  return {{"id", post.id},
          {"title", post.title},
          {"status", to_string(post.status())},
          {"impact", to_string(post.impact)},
          {"monitors", post.monitors},
          {"created_at", rfc3339(post.created_at)},
          {"resolved_at",
           post.resolved_at ? nlohmann::json(rfc3339(*post.resolved_at)) : nlohmann::json(nullptr)},
          {"url", fmt::format("{}/posts/{}", public_url, post.id)},
          {"update", update}};
}

std::string post_payload(const PostRecord& post, const std::string& public_url) {
  return post_json(post, public_url).dump();
}

PayloadFields payload_fields(const std::string& payload) {
  PayloadFields f;
  if (payload.empty()) return f;
  const auto j = nlohmann::json::parse(payload, nullptr, false);
  if (!j.is_object()) return f;
  if (auto m = j.find("monitor"); m != j.end() && m->is_string()) f.monitor = m->get<std::string>();
  if (auto s = j.find("state"); s != j.end() && s->is_string()) f.state = s->get<std::string>();
  return f;
}

AlertEngine::AlertEngine(std::string ack_key, IdSource ids)
    : ack_key_(std::move(ack_key)), ids_(std::move(ids)) {}

void AlertEngine::configure(std::shared_ptr<const Config> config) {
  config_ = std::move(config);
  if (config_) maintenance_.set_config(config_->maintenance);
}

void AlertEngine::restore(std::vector<IncidentRecord> open, int64_t next_id) {
  open_.clear();
  for (auto& i : open) {
    flap_[i.monitor].flapping = i.flapping;
    open_.emplace(i.monitor, std::move(i));
  }
  next_id_ = std::max<int64_t>(next_id, 1);
}

void AlertEngine::adopt(std::vector<IncidentRecord> open) {
  for (auto& i : open) {
    flap_[i.monitor].flapping = i.flapping;
    open_.insert_or_assign(i.monitor, std::move(i));
  }
}

void AlertEngine::drop(const std::function<bool(const std::string& monitor)>& lost) {
  std::erase_if(open_, [&](const auto& entry) { return lost(entry.first); });
  std::erase_if(flap_, [&](const auto& entry) { return lost(entry.first); });
}

std::string AlertEngine::ack_url(int64_t incident_id, WallTime now) const {
  // Without a key (a cluster's deciding node) nothing signs a link another node could check.
  if (!config_ || config_->server.public_url.empty() || ack_key_.empty()) return "";
  const int64_t expires =
      std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count() +
      kAckTokenLifetimeS;
  return fmt::format("{}/ack/{}", config_->server.public_url,
                     make_ack_token(ack_key_, incident_id, expires));
}

void AlertEngine::add_targets(std::vector<Target>& out, const std::vector<std::string>& channels,
                              const std::string& route) {
  for (const auto& n : channels) {
    if (std::none_of(out.begin(), out.end(), [&](const Target& t) { return t.channel == n; }))
      out.push_back({n, route});
  }
}

std::vector<AlertEngine::Target> AlertEngine::targets(const IncidentRecord& inc,
                                                      const std::string& event) const {
  std::vector<Target> out;
  if (!config_) return out;
  const MonitorConfig* m = config_->find(inc.monitor);
  if (m == nullptr) return out;
  for (const RouteConfig* r : routes_for(*config_, *m, to_string(inc.state))) {
    if (event == "incident.resolved" && !r->on_resolve) continue;
    add_targets(out, r->notify, r->name);
    if (event == "incident.opened") continue;
    for (size_t t = 0; t < r->escalate.size(); ++t) {
      const std::string key = fmt::format("{}#{}", r->name, t);
      if (std::find(inc.fired.begin(), inc.fired.end(), key) != inc.fired.end())
        add_targets(out, r->escalate[t].notify, r->name);
    }
  }
  return out;
}

std::vector<AlertEngine::Target> AlertEngine::post_targets(const PostRecord& post) const {
  std::vector<Target> out;
  if (!config_) return out;
  const auto state_of = [this](const std::string& monitor) -> std::optional<std::string> {
    const auto it = open_.find(monitor);
    if (it == open_.end()) return std::nullopt;
    return to_string(it->second.state);
  };
  for (const RouteConfig* r : routes_for_post(*config_, post, state_of))
    add_targets(out, r->notify, r->name);
  return out;
}

void AlertEngine::notify(EventRecord& ev, const std::string& payload,
                         const std::vector<Target>& targets, WallTime now) {
  for (const auto& target : targets) {
    const ChannelConfig* c = config_ ? config_->channel(target.channel) : nullptr;
    if (c == nullptr || !channel_takes(*c, ev.event)) continue;
    for (const auto& to : row_recipients(*c)) {
      ev.notifications.push_back(OutboxRow{"evt_" + ids_(), ev.incident_id, ev.event,
                                           target.channel, target.route, to, now, payload});
    }
  }
}

void AlertEngine::emit(IncidentRecord& inc, const std::string& event,
                       const std::vector<Target>& targets, WallTime now, AlertChanges& out) {
  EventRecord ev{inc.id, event, now, {}};
  notify(ev, incident_payload(inc, inc.open() ? ack_url(inc.id, now) : ""), targets, now);
  out.events.push_back(std::move(ev));
}

void AlertEngine::on_post(const PostRecord& post, bool created, WallTime now, AlertChanges& out) {
  EventRecord ev{0, created ? kPostPosted : kPostUpdated, now, {}};
  notify(ev, post_payload(post, config_ ? config_->server.public_url : ""), post_targets(post),
         now);
  out.events.push_back(std::move(ev));
}

// Updates the flap window; true while the monitor is flapping. Entering needs `threshold`
// changes among the last `window` runs; leaving needs a whole window without a change.
bool AlertEngine::flapping_update(const MonitorConfig& m, bool state_changed, IncidentRecord* inc) {
  FlapWindow& w = flap_[m.name];
  const auto window = static_cast<size_t>(std::clamp(m.flap_window, 1, 128));
  w.changed <<= 1;
  w.changed[0] = state_changed;
  w.changed &= ~std::bitset<128>() >> (128 - window);
  w.runs = std::min<int>(w.runs + 1, static_cast<int>(window));
  const auto changes = static_cast<int>(w.changed.count());
  bool& flapping = w.flapping;
  if (!flapping && changes >= m.flap_threshold) flapping = true;
  if (flapping && changes == 0 && w.runs == static_cast<int>(window)) flapping = false;
  if (inc != nullptr) inc->flapping = flapping;
  return flapping;
}

void AlertEngine::on_run(const MonitorConfig& m, State state, bool state_changed,
                         const std::string& cause, WallTime now, bool in_maintenance,
                         AlertChanges& out) {
  auto it = open_.find(m.name);
  IncidentRecord* inc = it == open_.end() ? nullptr : &it->second;
  const bool was_flapping = inc != nullptr && inc->flapping;
  const bool flapping = flapping_update(m, state_changed, inc);
  const bool bad = state == State::kDown || state == State::kDegraded;

  if (in_maintenance) {
    // No incident opens and nothing is sent; one that recovers meanwhile closes quietly.
    if (inc != nullptr && !bad && state != State::kUnknown) {
      inc->resolved_at = now;
      out.incidents.push_back(*inc);
      out.events.push_back({inc->id, "incident.resolved", now, {}});
      open_.erase(it);
    }
    return;
  }
  if (bad) {
    if (inc == nullptr) {
      IncidentRecord fresh;
      fresh.id = number_ ? number_() : next_id_++;
      fresh.monitor = m.name;
      fresh.group = m.group;
      fresh.type = m.type;
      fresh.state = state;
      fresh.cause = cause;
      fresh.started_at = now;
      fresh.flapping = flapping;
      fresh.flap_notified = flapping;
      for (const RouteConfig* r : routes_for(*config_, m, to_string(state))) {
        if (r->repeat && (!fresh.next_reminder || now + *r->repeat < *fresh.next_reminder))
          fresh.next_reminder = now + *r->repeat;
      }
      inc = &open_.emplace(m.name, std::move(fresh)).first->second;
      emit(*inc, "incident.opened", targets(*inc, "incident.opened"), now, out);
      out.incidents.push_back(*inc);
      return;
    }
    const bool changed = inc->state != state;
    inc->state = state;
    if (changed) inc->cause = cause;
    if (flapping && !inc->flap_notified) {
      inc->flap_notified = true;
      emit(*inc, "incident.updated", targets(*inc, "incident.updated"), now, out);
    } else if (!flapping && (changed || was_flapping)) {
      emit(*inc, "incident.updated", targets(*inc, "incident.updated"), now, out);
    }
    if (changed || flapping != was_flapping) out.incidents.push_back(*inc);
    return;
  }
  if (state != State::kUp || inc == nullptr) return;
  if (flapping) {
    // Bouncing: the incident stays open, and one notification says so.
    if (!inc->flap_notified) {
      inc->flap_notified = true;
      emit(*inc, "incident.updated", targets(*inc, "incident.updated"), now, out);
      out.incidents.push_back(*inc);
    } else if (!was_flapping) {
      out.incidents.push_back(*inc);
    }
    return;
  }
  inc->resolved_at = now;
  inc->flapping = false;
  emit(*inc, "incident.resolved", targets(*inc, "incident.resolved"), now, out);
  out.incidents.push_back(*inc);
  resolved_recently_[inc->id] = inc->monitor;
  if (resolved_recently_.size() > 10'000) resolved_recently_.erase(resolved_recently_.begin());
  open_.erase(it);
}

void AlertEngine::forget(const std::string& monitor, WallTime now, AlertChanges& out) {
  flap_.erase(monitor);
  auto it = open_.find(monitor);
  if (it == open_.end()) return;
  it->second.resolved_at = now;
  it->second.cause = "the monitor was removed from the config";
  out.incidents.push_back(it->second);
  out.events.push_back({it->second.id, "incident.resolved", now, {}});
  resolved_recently_[it->second.id] = monitor;
  open_.erase(it);
}

void AlertEngine::tick(WallTime now, AlertChanges& out) {
  if (!config_) return;
  for (auto& [name, inc] : open_) {
    if (inc.acknowledged_at || inc.flapping || maintenance_.covers(name, now)) continue;
    const MonitorConfig* m = config_->find(name);
    if (m == nullptr) continue;
    bool changed = false;
    for (const RouteConfig* r : routes_for(*config_, *m, to_string(inc.state))) {
      for (size_t t = 0; t < r->escalate.size(); ++t) {
        const std::string key = fmt::format("{}#{}", r->name, t);
        if (now < inc.started_at + r->escalate[t].after) continue;
        if (std::find(inc.fired.begin(), inc.fired.end(), key) != inc.fired.end()) continue;
        inc.fired.push_back(key);
        std::vector<Target> tier;
        for (const auto& c : r->escalate[t].notify) tier.push_back({c, r->name});
        emit(inc, "incident.escalated", tier, now, out);
        changed = true;
      }
    }
    if (inc.next_reminder && now >= *inc.next_reminder) {
      emit(inc, "incident.reminder", targets(inc, "incident.reminder"), now, out);
      std::optional<Duration> repeat;
      for (const RouteConfig* r : routes_for(*config_, *m, to_string(inc.state))) {
        if (r->repeat && (!repeat || *r->repeat < *repeat)) repeat = *r->repeat;
      }
      inc.next_reminder = repeat ? std::optional<WallTime>(now + *repeat) : std::nullopt;
      changed = true;
    }
    if (changed) out.incidents.push_back(inc);
  }
}

AlertEngine::AckResult AlertEngine::acknowledge(int64_t incident_id, const std::string& by,
                                                WallTime now, AlertChanges& out) {
  for (auto& [name, inc] : open_) {
    if (inc.id != incident_id) continue;
    if (inc.acknowledged_at) return AckResult::kAlready;
    inc.acknowledged_at = now;
    inc.acknowledged_by = by;
    inc.next_reminder.reset();
    emit(inc, "incident.acknowledged", targets(inc, "incident.acknowledged"), now, out);
    out.incidents.push_back(inc);
    return AckResult::kDone;
  }
  if (resolved_recently_.count(incident_id) != 0 || (incident_id > 0 && incident_id < next_id_))
    return AckResult::kResolved;
  return AckResult::kUnknown;
}

}  // namespace lookout
