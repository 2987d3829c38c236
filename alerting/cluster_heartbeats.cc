#include "alerting/cluster_heartbeats.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <utility>

#include "config/kinds/heartbeat_spec.h"
#include "store/lease_plan.h"

namespace lookout {

ClusterHeartbeats::ClusterHeartbeats(PgConnection& pg, const Clock& clock, const Config& config,
                                     std::string node, std::string location, Hooks hooks)
    : pg_(pg),
      clock_(clock),
      config_(config),
      node_(std::move(node)),
      location_(std::move(location)),
      hooks_(std::move(hooks)),
      self_(std::make_shared<ClusterHeartbeats*>(this)) {
  for (const MonitorConfig& m : config_.monitors) {
    if (m.spec_if<HeartbeatSpec>() != nullptr) monitors_.emplace(m.name, &m);
  }
}

ClusterHeartbeats::~ClusterHeartbeats() { *self_ = nullptr; }

const HeartbeatTracker* ClusterHeartbeats::tracker(const std::string& monitor) const {
  const auto it = trackers_.find(monitor);
  return it == trackers_.end() ? nullptr : &it->second;
}

bool ClusterHeartbeats::ready(int shard) const {
  const auto it = shards_.find(shard);
  return it != shards_.end() && it->second.read && hooks_.restored(shard, it->second.epoch);
}

void ClusterHeartbeats::drop(int shard) {
  shards_.erase(shard);
  std::erase_if(trackers_, [shard](const auto& t) { return shard_of(t.first) == shard; });
}

void ClusterHeartbeats::tick(const std::map<int, int64_t>& loaded) {
  if (stopped_ || monitors_.empty()) return;
  std::vector<int> gone;
  for (const auto& [shard, s] : shards_) {
    const auto l = loaded.find(shard);
    if (l == loaded.end() || l->second != s.epoch) gone.push_back(shard);
  }
  for (const int shard : gone) drop(shard);
  for (const auto& [shard, epoch] : loaded) {
    if (shards_.count(shard) > 0) continue;
    shards_[shard] = Shard{epoch, false, 0};
    read_kept(shard);
  }
  read_pings();
}

void ClusterHeartbeats::read_kept(int shard) {
  std::vector<std::string> names;
  for (const auto& [name, m] : monitors_) {
    if (shard_of(name) == shard) names.push_back(name);
  }
  if (names.empty()) {
    shards_[shard].read = true;
    return;
  }
  const uint64_t asked = ++reads_;
  shards_[shard].asked = asked;
  const PgStatement s = PgHeartbeats::kept(names);
  pg_.query(s.sql, s.params, [self = self_, shard, asked](const PgResult& answer) {
    if (ClusterHeartbeats* h = *self; h != nullptr) h->on_kept(answer, shard, asked);
  });
}

void ClusterHeartbeats::on_kept(const PgResult& answer, int shard, uint64_t asked) {
  // A read sent before the shard was dropped and gained again may answer after the trackers
  // judged on a newer one: only the last read sent counts.
  const auto it = shards_.find(shard);
  if (stopped_ || it == shards_.end() || it->second.asked != asked) return;
  const auto kept = PgHeartbeats::memories(answer);
  if (!kept) {
    // Judging without it would take every job for new: the shard is read again next tick.
    shards_.erase(it);
    hooks_.failed(answer.ok() ? "an answer in a shape this lookout does not know" : answer.error);
    return;
  }
  std::map<std::string, HeartbeatMemory> by_name(kept->begin(), kept->end());
  for (const auto& [name, m] : monitors_) {
    if (shard_of(name) != shard) continue;
    const auto t = trackers_.try_emplace(name, m->spec_as<HeartbeatSpec>()).first;
    // A job that was due while no node decided it, or started and is past max_runtime, is
    // judged late at the next tick, as a single node judges it after a restart.
    if (const auto k = by_name.find(name); k != by_name.end()) t->second.restore(k->second);
  }
  it->second.read = true;
}

void ClusterHeartbeats::read_pings() {
  if (reading_) return;
  std::vector<int> shards;
  for (const auto& [shard, s] : shards_) {
    if (ready(shard)) shards.push_back(shard);
  }
  if (shards.empty()) return;
  reading_ = true;
  const PgStatement s = PgHeartbeats::waiting(shards, kPingsPerRead);
  pg_.query(s.sql, s.params,
            [self = self_, shards, sent_at = clock_.wall()](const PgResult& answer) {
              if (ClusterHeartbeats* h = *self; h != nullptr) h->on_pings(answer, shards, sent_at);
            });
}

void ClusterHeartbeats::on_pings(const PgResult& answer, const std::vector<int>& shards,
                                 WallTime sent_at) {
  reading_ = false;
  if (stopped_) return;
  const auto rows = PgHeartbeats::pings(answer);
  if (!rows) {
    // No deadline is judged either: a ping waiting unread may have met it.
    hooks_.failed(answer.ok() ? "an answer in a shape this lookout does not know" : answer.error);
    return;
  }
  const WallTime now = clock_.wall();
  std::map<std::string, Change> changes;
  for (const PingRow& row : *rows) {
    // A monitor that left the config, or a shard dropped while the pings were read: the ping
    // waits for whoever decides it next (or goes with the monitor's rows).
    const auto m = monitors_.find(row.monitor);
    const auto t = trackers_.find(row.monitor);
    if (m == monitors_.end() || t == trackers_.end() || !ready(shard_of(row.monitor))) continue;
    Ping ping = row.ping;
    // Taken by the server's clock: its age there, on this node's.
    ping.at = now - Duration{row.age_ms};
    Change& change = changes[row.monitor];
    // A deadline that passed before the ping came (while no node decided the monitor) was
    // missed: the job was late then, as a single node would have said at the time.
    if (const auto d = t->second.deadline(); d && *d <= ping.at) {
      judged(*m->second, t->second.overdue(*d), change);
    }
    if (auto run = t->second.on_ping(ping)) judged(*m->second, *run, change);
    change.judged.push_back(row.id);
  }
  // A full read may have left pings for the next one: their jobs' deadlines wait for it, and it
  // is sent at once, after the keeps (so it does not see the pings they delete), rather than at
  // the next tick: a burst (every job of a crontab at the full minute) drains at the
  // database's pace, not 1,000 a second.
  const bool full = rows->size() >= kPingsPerRead;
  if (!full) deadlines(shards, sent_at, changes);
  for (auto& [name, change] : changes) keep(*monitors_.at(name), std::move(change));
  if (full) read_pings();
}

void ClusterHeartbeats::deadlines(const std::vector<int>& shards, WallTime now,
                                  std::map<std::string, Change>& changes) {
  for (auto& [name, tracker] : trackers_) {
    const int shard = shard_of(name);
    if (!ready(shard) || std::find(shards.begin(), shards.end(), shard) == shards.end()) continue;
    const auto d = tracker.deadline();
    if (!d || *d > now) continue;
    judged(*monitors_.at(name), tracker.overdue(now), changes[name]);
  }
}

void ClusterHeartbeats::judged(const MonitorConfig& m, const ProbeResult& run, Change& change) {
  const State state = run.outcome == Outcome::kUp ? State::kUp : State::kDown;
  const auto d = hooks_.judge(m, state, run.started_at, run.cause);
  if (!d) {
    change.unjudged = true;
    return;
  }
  if (d->changed) change.decisions.push_back(*d);
  change.runs.push_back(ResultRow{
      m.name, to_unix_ms(run.started_at), run.outcome, run.http_status, run.timings, run.kind,
      run.cause, hooks_.in_maintenance(m.name, run.started_at), run.detail, run.samples_us});
}

void ClusterHeartbeats::keep(const MonitorConfig& m, Change change) {
  const int shard = shard_of(m.name);
  const auto fence = hooks_.fence_of(shard);
  auto standing = hooks_.standing(m);
  const auto t = trackers_.find(m.name);
  if (!fence || !standing || t == trackers_.end() || change.unjudged) {
    // The tracker judged what is not kept: it is read again, with the pings still waiting.
    hooks_.reset(shard, "its eval lease was not held when a heartbeat's pings were to be kept");
    return;
  }
  const HeartbeatKeep k{m.name,
                        t->second.memory(),
                        std::move(*standing),
                        std::move(change.runs),
                        std::move(change.judged),
                        location_,
                        node_};
  const PgStatement s = PgHeartbeats::keep(*fence, k);
  pg_.query(
      s.sql, s.params,
      [self = self_, shard, &m, decisions = std::move(change.decisions)](const PgResult& answer) {
        ClusterHeartbeats* h = *self;
        // Stopped: the next decider finds the state kept and carries it on.
        if (h == nullptr || h->stopped_) return;
        const auto outcome = LeaseRegistry::fence_outcome(answer);
        if (!outcome) {
          h->hooks_.failed(answer.ok() ? "an answer in a shape this lookout does not know"
                                       : answer.error);
          h->hooks_.reset(shard, fmt::format("the pings of {} were not kept", m.name));
          return;
        }
        if (!outcome->held) {
          h->hooks_.reset(shard, "its eval lease was taken by another node");
          return;
        }
        for (const QuorumDecision& d : decisions) h->hooks_.decided(m, d);
      });
}

}  // namespace lookout
