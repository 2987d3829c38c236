#include "alerting/silent_watch.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <set>
#include <utility>
#include <vector>

#include "alerting/location_incidents.h"
#include "alerting/quorum.h"
#include "core/random.h"
#include "store/pg_decisions.h"

namespace lookout {
namespace {

// Ids reserved at once: locations rarely go silent, and one that does should not wait for a
// reservation behind another.
constexpr int kIdsReserved = 4;

}  // namespace

SilentLocationWatch::SilentLocationWatch(PgConnection& pg, const Clock& clock,
                                         std::shared_ptr<const Config> config, Held held,
                                         FenceOf fence_of, std::function<void()> notified)
    : pg_(pg),
      clock_(clock),
      config_(std::move(config)),
      held_(std::move(held)),
      fence_of_(std::move(fence_of)),
      notified_(std::move(notified)),
      // Topped up once the last is taken; the next read after an id came opens what waited.
      ids_(pg, kIdsReserved, 1, nullptr, [this](const std::string& error) { failed(error); }),
      self_(std::make_shared<SilentLocationWatch*>(this)) {}

SilentLocationWatch::~SilentLocationWatch() { *self_ = nullptr; }

void SilentLocationWatch::stop() { stopped_ = true; }

std::map<std::string, IncidentRecord> SilentLocationWatch::open() const {
  std::map<std::string, IncidentRecord> out;
  for (const auto& [location, w] : watched_) {
    if (w.incident) out.emplace(location, *w.incident);
  }
  return out;
}

void SilentLocationWatch::observe(const ClusterStatus& status) {
  if (stopped_) return;
  const WallTime now = clock_.wall();
  if (!status.ok) {
    reading_ok_ = false;
    return;
  }
  if (!reading_ok_) {
    // Nothing was watched while the status could not be read (the database away, or this
    // node's link to it): every location gets its bound again before it is called silent, as
    // its nodes' spools are written.
    for (auto& entry : watched_) entry.second.since = now;
    reading_ok_ = true;
  }
  std::set<std::string> names;
  for (const MonitorConfig& m : config_->monitors) {
    if (m.locations) names.insert(m.locations->begin(), m.locations->end());
  }
  for (const auto& entry : status.heard) names.insert(entry.first);
  // A location with an open meta-incident stays until that resolves, also once neither named
  // nor heard from (its reports deleted to retire it): it is then watched no more.
  const std::set<std::string> known = names;
  for (const auto& [location, w] : watched_) {
    if (w.incident) names.insert(location);
  }
  const std::map<int, int64_t> held = held_();
  std::map<std::string, Watched> next;
  bool unloaded = false;
  for (const std::string& location : names) {
    const auto h = held.find(location_incident_shard(location));
    if (h == held.end()) continue;
    const auto old = watched_.find(location);
    Watched w;
    if (old != watched_.end() && old->second.epoch == h->second) {
      w = std::move(old->second);
    } else {
      w.epoch = h->second;
      w.since = now;
    }
    unloaded = unloaded || !w.loaded;
    next.emplace(location, std::move(w));
  }
  watched_ = std::move(next);
  if (unloaded) load();
  // An id in hand before a location goes silent: its meta-incident then opens at the read that
  // finds it, not at the next.
  if (!watched_.empty()) ids_.top_up();
  for (auto& [location, w] : watched_) {
    if (w.loaded && !w.writing) decide(location, w, status, known.count(location) > 0, now);
  }
}

void SilentLocationWatch::load() {
  if (loading_) return;
  loading_ = true;
  std::map<std::string, int64_t> asked;
  for (const auto& [location, w] : watched_) {
    if (!w.loaded) asked.emplace(location, w.epoch);
  }
  // Every shard held: a meta-incident left open for a location no longer named or heard from
  // is found too, and resolves.
  std::vector<int> shards;
  for (const auto& shard_epoch : held_()) shards.push_back(shard_epoch.first);
  const PgStatement s = PgDecisions::open_incidents(shards);
  pg_.query(s.sql, s.params, [self = self_, asked](const PgResult& answer) {
    if (SilentLocationWatch* w = *self; w != nullptr) w->on_loaded(answer, asked);
  });
}

void SilentLocationWatch::on_loaded(const PgResult& answer,
                                    const std::map<std::string, int64_t>& asked) {
  loading_ = false;
  if (stopped_) return;
  auto rows = PgDecisions::incidents(answer);
  if (!rows) {
    // Deciding without them could open a second meta-incident: read again at the next status.
    failed(answer.ok() ? "an answer in a shape this lookout does not know" : answer.error);
    return;
  }
  last_error_.clear();
  std::map<std::string, IncidentRecord> found;
  for (IncidentRecord& i : *rows) {
    if (auto location = location_of_incident(i.monitor)) found.emplace(*location, std::move(i));
  }
  for (const auto& [location, epoch] : asked) {
    const auto w = watched_.find(location);
    if (w == watched_.end() || w->second.epoch != epoch) continue;
    w->second.loaded = true;
    const auto f = found.find(location);
    if (f == found.end()) {
      w->second.incident.reset();
    } else {
      w->second.incident = f->second;
    }
  }
  const std::map<int, int64_t> held = held_();
  for (auto& [location, incident] : found) {
    if (watched_.count(location) > 0) continue;
    const auto h = held.find(location_incident_shard(location));
    if (h == held.end()) continue;
    Watched w;
    w.epoch = h->second;
    w.since = clock_.wall();
    w.loaded = true;
    w.incident = std::move(incident);
    watched_.emplace(location, std::move(w));
  }
}

std::optional<Duration> SilentLocationWatch::bound_of(const std::string& location) {
  auto [it, fresh] = bounds_.try_emplace(location);
  if (fresh) it->second = silence_bound(config_->monitors, location, config_->cluster->lease);
  return it->second;
}

void SilentLocationWatch::decide(const std::string& location, Watched& w,
                                 const ClusterStatus& status, bool known, WallTime now) {
  const auto h = status.heard.find(location);
  const std::optional<WallTime> heard =
      h == status.heard.end() ? std::nullopt : std::optional<WallTime>(h->second);
  const LocationIncidentStep step =
      location_incident_step(location, w.incident.has_value(),
                             known ? bound_of(location) : std::nullopt, heard, w.since, now);
  const auto ids = [] { return random_hex(16); };
  if (step.kind == LocationIncidentStep::Kind::kResolve) {
    IncidentRecord incident = *w.incident;
    incident.resolved_at = now;
    write(location, incident,
          location_incident_event(*config_, incident, "incident.resolved", now, ids),
          fmt::format("location {} {}: incident {} resolved", location,
                      step.heard_again ? "sends results again"
                                       : "is watched no more (it runs no monitor, or no monitor "
                                         "names it and it has no report)",
                      incident.id));
  } else if (step.kind == LocationIncidentStep::Kind::kOpen) {
    if (ids_.empty()) {
      ids_.top_up();
      return;
    }
    const IncidentRecord incident = location_incident(ids_.take(), *step.silent, now);
    write(location, incident,
          location_incident_event(*config_, incident, "incident.opened", now, ids),
          fmt::format("{}: incident {} opened; check the location's nodes (lookout cluster "
                      "status) and their link to PostgreSQL",
                      incident.cause, incident.id));
  }
}

void SilentLocationWatch::write(const std::string& location, const IncidentRecord& incident,
                                const EventRecord& event, std::string told) {
  // Not held: the next status read drops the location, whose new holder decides it.
  const auto fence = fence_of_(location_incident_shard(location));
  if (!fence) return;
  Watched& w = watched_.at(location);
  w.writing = true;
  const int64_t epoch = w.epoch;
  const bool opening = incident.open();
  const PgStatement s = opening ? PgDecisions::open_incident(*fence, incident, {event})
                                : PgDecisions::update_incident(*fence, incident, {event});
  pg_.query(
      s.sql, s.params,
      [self = self_, location, epoch, incident, told = std::move(told)](const PgResult& answer) {
        SilentLocationWatch* d = *self;
        if (d == nullptr) return;
        d->written(location, epoch, incident, told, answer);
      });
}

void SilentLocationWatch::written(const std::string& location, int64_t epoch,
                                  const IncidentRecord& incident, const std::string& told,
                                  const PgResult& answer) {
  const auto it = watched_.find(location);
  Watched* w = it != watched_.end() && it->second.epoch == epoch ? &it->second : nullptr;
  if (w != nullptr) w->writing = false;
  const bool opening = incident.open();
  bool held = false, done = false;
  int64_t notifications = 0;
  if (opening) {
    const auto o = PgDecisions::opening(answer);
    held = o && o->held;
    done = o && o->opened;
    notifications = o ? o->notifications : 0;
  } else {
    const auto u = PgDecisions::update(answer);
    held = u && u->held;
    done = u && u->updated;
    notifications = u ? u->notifications : 0;
  }
  if (!answer.ok()) failed(answer.error);
  if (!held || !done) {
    // What the database has stands: it is read again, under the lease if still held.
    if (w != nullptr) w->loaded = false;
    // Once per tenure: a node fenced out tries again at each read until its keeper lets go.
    if (answer.ok() && (w == nullptr || !std::exchange(w->refused, true))) {
      spdlog::warn(
          "the meta-incident of location {} was not written ({}); reading it again from "
          "PostgreSQL",
          location,
          !held ? "its eval lease was taken by another node"
                : "another node's write about it went in first");
    }
    return;
  }
  if (w != nullptr) {
    if (opening) {
      w->incident = incident;
    } else {
      w->incident.reset();
    }
  }
  // Told once written: a write refused is decided again, and would be told twice.
  if (opening) {
    spdlog::warn("{}; {} notifications", told, notifications);
  } else {
    spdlog::info("{}", told);
  }
  if (notifications > 0 && notified_) notified_();
}

void SilentLocationWatch::failed(const std::string& error) {
  if (error == last_error_) return;
  last_error_ = error;
  spdlog::warn(
      "cannot read or write the meta-incidents of silent locations in PostgreSQL: {}; tried "
      "again at the next read of the cluster's status (every second)",
      error);
}

}  // namespace lookout
