#include "alerting/cluster_decider.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <vector>

#include "alerting/incident_log.h"
#include "alerting/location_incidents.h"
#include "core/random.h"
#include "store/lease_plan.h"
#include "store/pg_decisions.h"

namespace lookout {
namespace {

// Ids reserved at once, and the fewest kept in hand: a burst of incidents (a whole location's
// network failing) opens without waiting for the database.
constexpr int kIdsReserved = 64;
constexpr size_t kIdsLow = 16;

bool bad(State s) { return s == State::kDown || s == State::kDegraded; }

}  // namespace

ClusterDecider::ClusterDecider(EventLoop& loop, PgConnection& pg, const Clock& clock,
                               std::shared_ptr<const Config> config, Held held, FenceOf fence_of,
                               std::function<void()> notified, Duration every)
    : pg_(pg),
      clock_(clock),
      config_(std::move(config)),
      held_(std::move(held)),
      fence_of_(std::move(fence_of)),
      notified_(std::move(notified)),
      every_(every),
      engine_("", [] { return random_hex(16); }),
      reader_(
          loop, pg, clock, *config_, held_,
          [this](const MonitorConfig& m, const QuorumDecision& d) { decided(m, d); }, every),
      heartbeats_(pg, clock, *config_, config_->cluster->node, config_->cluster->location,
                  heartbeat_hooks()),
      timer_(loop),
      ids_(
          pg, kIdsReserved, kIdsLow,
          [this] {
            last_error_.clear();
            apply_pending();
          },
          [this](const std::string& error) { failed(error); }),
      self_(std::make_shared<ClusterDecider*>(this)) {
  engine_.configure(config_);
  engine_.number_with([this] { return ids_.take(); });
}

ClusterDecider::~ClusterDecider() { *self_ = nullptr; }

ClusterHeartbeats::Hooks ClusterDecider::heartbeat_hooks() {
  ClusterHeartbeats::Hooks h;
  h.fence_of = [this](int shard) { return fence_of_(shard); };
  h.restored = [this](int shard, int64_t epoch) { return reader_.restored(shard, epoch); };
  h.judge = [this](const MonitorConfig& m, State state, WallTime at, std::string cause) {
    return reader_.judge_alone(m.name, state, at, std::move(cause));
  };
  h.standing = [this](const MonitorConfig& m) { return state_row(m); };
  h.in_maintenance = [this](const std::string& monitor, WallTime at) {
    return engine_.maintenance().covers(monitor, at);
  };
  h.decided = [this](const MonitorConfig& m, const QuorumDecision& d) { decided(m, d); };
  h.reset = [this](int shard, const std::string& why) { reset(shard, why); };
  h.failed = [this](const std::string& error) { failed(error); };
  return h;
}

void ClusterDecider::stop() {
  stopped_ = true;
  timer_.stop();
  reader_.stop();
  heartbeats_.stop();
  pending_.clear();
}

void ClusterDecider::start(const std::string& ack_key) {
  engine_.sign_acks_with(ack_key);
  windows_until_ = clock_.mono() + await_windows_;
  ids_.top_up();
  reader_.start();
  timer_.start_repeating(every_, [this] { tick(); });
}

void ClusterDecider::tick() {
  const std::map<int, int64_t> held = held_();
  std::set<int> lost;
  for (const auto& [shard, epoch] : loaded_) {
    const auto h = held.find(shard);
    if (h == held.end() || h->second != epoch) lost.insert(shard);
  }
  // A decision about a shard no longer held (or held anew) was someone else's to take: it is
  // dropped, and the reader starts the shard over. The reader decides a change once, and it may
  // not have seen the shard go (its reads still out, or the lease renewed under the same epoch
  // a moment later): a change dropped here would then never come again, and the monitor's
  // state would stay unwritten.
  std::erase_if(pending_, [&](const auto& p) {
    const int s = shard_of(p.first);
    const auto h = held.find(s);
    const auto l = loaded_.find(s);
    const bool drop = h == held.end() || (l != loaded_.end() && l->second != h->second);
    if (drop) lost.insert(s);
    return drop;
  });
  if (!lost.empty()) {
    const auto gone = [&](const std::string& monitor) { return lost.count(shard_of(monitor)) > 0; };
    engine_.drop(gone);
    std::erase_if(observed_, [&](const auto& o) { return gone(o.first); });
    for (const int s : lost) {
      loaded_.erase(s);
      heartbeats_.drop(s);
      reader_.reread(s);
    }
  }
  std::vector<int> gained;
  for (const auto& [shard, epoch] : held) {
    if (loaded_.count(shard) == 0 && loading_.count(shard) == 0) gained.push_back(shard);
  }
  if (!gained.empty()) load(gained, held);
  ids_.top_up();
  AlertChanges changes;
  engine_.tick(clock_.wall(), changes);
  write(changes);
  heartbeats_.tick(loaded_);
  observe();
  apply_pending();
  take_acks();
}

void ClusterDecider::take_acks() {
  if (reading_acks_ || loaded_.empty()) return;
  std::vector<int> shards;
  for (const auto& shard_epoch : loaded_) shards.push_back(shard_epoch.first);
  reading_acks_ = true;
  const PgStatement s = PgAcks::waiting(shards);
  pg_.query(s.sql, s.params, [self = self_](const PgResult& answer) {
    ClusterDecider* d = *self;
    if (d == nullptr) return;
    d->reading_acks_ = false;
    if (d->stopped_) return;
    const auto requests = PgAcks::requests(answer);
    if (!requests) {
      d->failed(answer.ok() ? "an answer in a shape this lookout does not know" : answer.error);
      return;
    }
    for (const AckRequestRow& r : *requests) d->acknowledge(r);
  });
}

void ClusterDecider::acknowledge(const AckRequestRow& request) {
  // A shard dropped while the requests were read: its next holder, or this node once it read
  // the shard again, applies them.
  if (loaded_.count(request.shard) == 0) return;
  AlertChanges changes;
  const auto result = engine_.acknowledge(request.incident_id, request.by, clock_.wall(), changes);
  if (result != AlertEngine::AckResult::kDone) {
    // Acknowledged already (the request outlived its write), or resolved: nothing to apply.
    ack_done(request.shard, request.incident_id);
    return;
  }
  spdlog::info("incident {} acknowledged by {} ({} ms after it was asked for)", request.incident_id,
               request.by, request.waited_ms);
  // Deleted only once the acknowledgement is written: a write refused drops the shard, which is
  // read again with the request still waiting.
  write(changes, [this, shard = request.shard, id = request.incident_id] { ack_done(shard, id); });
}

void ClusterDecider::ack_done(int shard, int64_t incident_id) {
  const auto fence = fence_of_(shard);
  if (!fence) return;
  const PgStatement s = PgAcks::done(*fence, incident_id);
  pg_.query(s.sql, s.params, [self = self_](const PgResult& answer) {
    ClusterDecider* d = *self;
    if (d != nullptr && !answer.ok()) d->failed(answer.error);
  });
}

void ClusterDecider::load(const std::vector<int>& shards, const std::map<int, int64_t>& epochs) {
  std::map<int, int64_t> asked;
  for (const int s : shards) {
    loading_.insert(s);
    asked.emplace(s, epochs.at(s));
  }
  const PgStatement s = PgDecisions::open_incidents(shards);
  pg_.query(s.sql, s.params, [self = self_, asked](const PgResult& answer) {
    if (ClusterDecider* d = *self; d != nullptr) d->on_loaded(answer, asked);
  });
}

void ClusterDecider::on_loaded(const PgResult& answer, const std::map<int, int64_t>& epochs) {
  for (const auto& shard_epoch : epochs) loading_.erase(shard_epoch.first);
  auto rows = PgDecisions::incidents(answer);
  if (!rows) {
    // Deciding without them would open a second incident: read again at the next tick.
    failed(answer.ok() ? "an answer in a shape this lookout does not know" : answer.error);
    return;
  }
  last_error_.clear();
  const std::map<int, int64_t> held = held_();
  std::set<int> now_loaded;
  for (const auto& [shard, epoch] : epochs) {
    const auto h = held.find(shard);
    if (h == held.end() || h->second != epoch) continue;
    loaded_[shard] = epoch;
    now_loaded.insert(shard);
  }
  // A silent location's meta-incident shares the table and the shards, but is
  // SilentLocationWatch's.
  std::erase_if(*rows, [&](const IncidentRecord& i) {
    return now_loaded.count(shard_of(i.monitor)) == 0 || location_of_incident(i.monitor);
  });
  const WallTime now = clock_.wall();
  AlertChanges forgotten;
  std::vector<std::string> gone;
  for (const IncidentRecord& i : *rows) {
    if (config_->find(i.monitor) == nullptr) gone.push_back(i.monitor);
  }
  engine_.adopt(std::move(*rows));
  // A monitor that left the config resolves quietly, as on a single node's reload.
  for (const std::string& name : gone) engine_.forget(name, now, forgotten);
  write(forgotten);
  apply_pending();
}

void ClusterDecider::observe() {
  const WallTime now = clock_.wall();
  for (const MonitorConfig& m : config_->monitors) {
    const int s = shard_of(m.name);
    const auto loaded = loaded_.find(s);
    if (loaded == loaded_.end() || !reader_.restored(s, loaded->second) ||
        pending_.count(m.name) > 0) {
      continue;
    }
    const MonitorQuorum* q = reader_.quorum(m.name);
    if (q == nullptr || q->state() == State::kUnknown) continue;
    const auto seen = observed_.find(m.name);
    if (seen != observed_.end() && now - seen->second < m.interval) continue;
    pending_[m.name] = Pending{&m, QuorumDecision{q->state(), q->state(), false, q->cause()}};
  }
}

void ClusterDecider::decided(const MonitorConfig& m, const QuorumDecision& d) {
  auto [it, fresh] = pending_.try_emplace(m.name, Pending{&m, d});
  if (!fresh) {
    // Two decisions before either was taken: the first's `before`, the last's `after`.
    const bool changed = it->second.decision.changed || d.changed;
    const State before = it->second.decision.before;
    it->second.decision = d;
    it->second.decision.before = before;
    it->second.decision.changed = changed;
  }
  apply_pending();
}

void ClusterDecider::apply_pending() {
  const bool windows_wait = !windows_known_ && clock_.mono() < windows_until_;
  if (!windows_known_ && !windows_wait && await_windows_ > Duration{0} && !told_windows_) {
    told_windows_ = true;
    spdlog::warn(
        "cluster: deciding without the maintenance windows made through the API, not read from "
        "PostgreSQL within {}s of start; an incident of a monitor inside one may open until "
        "they are read",
        await_windows_.count() / 1000);
  }
  // Taken out first: applying one may drop its shard, and the others of it, from pending_.
  std::vector<Pending> ready;
  for (auto it = pending_.begin(); it != pending_.end();) {
    const MonitorConfig& m = *it->second.monitor;
    const bool loaded = loaded_.count(shard_of(m.name)) > 0;
    const bool may_open = !bad(it->second.decision.after) ||
                          engine_.open_incidents().count(m.name) > 0 || !ids_.empty();
    // One id is in hand for each decision taken here that may open an incident.
    if (!loaded || !may_open || (bad(it->second.decision.after) && ready.size() >= ids_.size()) ||
        (bad(it->second.decision.after) && windows_wait)) {
      ++it;
      continue;
    }
    ready.push_back(it->second);
    it = pending_.erase(it);
  }
  for (const Pending& p : ready) {
    if (loaded_.count(shard_of(p.monitor->name)) > 0) apply(*p.monitor, p.decision);
  }
}

void ClusterDecider::apply(const MonitorConfig& m, const QuorumDecision& d) {
  const WallTime now = clock_.wall();
  observed_[m.name] = now;
  AlertChanges changes;
  engine_.on_run(m, d.after, d.changed, d.cause, now, engine_.maintenance().covers(m.name, now),
                 changes);
  // The incident first: a node that dies between the two writes leaves a state that the next
  // decider's level-triggered look mends, never an incident without its notifications.
  write(changes);
  if (d.changed) put_state(m, shard_of(m.name));
}

void ClusterDecider::write(AlertChanges changes, const std::function<void()>& then) {
  if (add_mails_) add_mails_(changes);
  for (const IncidentRecord& inc : changes.incidents) {
    const int shard = shard_of(inc.monitor);
    const auto fence = fence_of_(shard);
    if (!fence) {
      reset(shard, "its eval lease is no longer held");
      continue;
    }
    // Told once written: a write refused is decided again, and would be told twice.
    AlertChanges one{{inc}, {}};
    bool opened = false;
    for (const EventRecord& e : changes.events) {
      if (e.incident_id != inc.id) continue;
      one.events.push_back(e);
      opened = opened || e.event == "incident.opened";
    }
    const PgStatement s = opened ? PgDecisions::open_incident(*fence, inc, one.events)
                                 : PgDecisions::update_incident(*fence, inc, one.events);
    const int64_t id = inc.id;
    pg_.query(
        s.sql, s.params, [self = self_, shard, opened, id, one, then](const PgResult& answer) {
          ClusterDecider* d = *self;
          if (d == nullptr) return;
          if (!answer.ok()) {
            d->failed(answer.error);
            d->reset(shard, fmt::format("incident {} was not written", id));
            return;
          }
          bool held = false, written = false;
          int64_t notifications = 0;
          std::string why;
          if (opened) {
            const auto o = PgDecisions::opening(answer);
            held = o && o->held;
            written = o && o->opened;
            notifications = o ? o->notifications : 0;
            if (o && o->open_id) why = fmt::format("incident {} was open already", *o->open_id);
          } else {
            const auto u = PgDecisions::update(answer);
            held = u && u->held;
            written = u && u->updated;
            notifications = u ? u->notifications : 0;
            if (u && !u->updated) why = fmt::format("incident {} is no longer open", id);
          }
          if (!held) {
            d->reset(shard, "its eval lease was taken by another node");
          } else if (!written) {
            d->reset(shard, why.empty() ? fmt::format("incident {} was not written", id) : why);
          } else {
            log_incident_changes(one);
            // An acknowledgement's request is deleted before the sender's claim is queued.
            if (then) then();
            if (notifications > 0 && d->notified_) d->notified_();
          }
        });
  }
}

std::optional<StateRow> ClusterDecider::state_row(const MonitorConfig& m) const {
  const MonitorQuorum* q = reader_.quorum(m.name);
  if (q == nullptr) return std::nullopt;
  StateRow row;
  row.monitor = m.name;
  row.state = to_string(q->state());
  row.since_ms = to_unix_ms(q->since());
  row.last_cause = q->cause();
  return row;
}

void ClusterDecider::put_state(const MonitorConfig& m, int shard) {
  const auto row = state_row(m);
  const auto fence = fence_of_(shard);
  if (!row || !fence) {
    // The change is the reader's once: dropped here, it would not come again while the shard
    // stays held under the same epoch (a lease the keeper counted lost for a moment, then
    // renewed), and the state would stay unwritten.
    reset(shard, "its eval lease was not held when the monitor's state was to be written");
    return;
  }
  const PgStatement s = PgDecisions::put_state(*fence, *row);
  pg_.query(s.sql, s.params, [self = self_, shard](const PgResult& answer) {
    ClusterDecider* d = *self;
    if (d == nullptr) return;
    const auto outcome = LeaseRegistry::fence_outcome(answer);
    if (!outcome) {
      d->failed(answer.ok() ? "an answer in a shape this lookout does not know" : answer.error);
      d->reset(shard, "a monitor's state was not written");
    } else if (!outcome->held) {
      d->reset(shard, "its eval lease was taken by another node");
    }
  });
}

void ClusterDecider::reset(int shard, const std::string& why) {
  if (loaded_.count(shard) == 0 && loading_.count(shard) == 0) return;
  spdlog::warn(
      "decisions about eval shard {} did not go in ({}); reading them again from PostgreSQL", shard,
      why);
  const auto in_shard = [shard](const std::string& monitor) { return shard_of(monitor) == shard; };
  engine_.drop(in_shard);
  std::erase_if(pending_, [&](const auto& p) { return in_shard(p.first); });
  std::erase_if(observed_, [&](const auto& o) { return in_shard(o.first); });
  loaded_.erase(shard);
  heartbeats_.drop(shard);
  reader_.reread(shard);
}

void ClusterDecider::failed(const std::string& error) {
  if (error == last_error_) return;
  last_error_ = error;
  spdlog::warn("cannot write or read decisions in PostgreSQL: {}; tried again every {}ms", error,
               every_.count());
}

}  // namespace lookout
