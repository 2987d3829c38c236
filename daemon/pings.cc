// Heartbeat monitors on the loop: pings queued by the web threads are judged here, and each
// monitor's deadline is a timer, so a late job is judged the moment it is late, without polling.
#include <spdlog/spdlog.h>

#include "config/kinds/heartbeat_spec.h"
#include "daemon/daemon.h"

namespace lookout {

void Daemon::add_heartbeat(Monitor& m, const StateRow* stored) {
  const auto& spec = m.cfg.spec_as<HeartbeatSpec>();
  m.pings = std::make_unique<HeartbeatTracker>(spec);
  m.ping_deadline = std::make_unique<Timer>(loop_);
  // What the tracker knew survives a restart (and a reload): a job that was due while lookout
  // was down, or started and is past max_runtime, is judged late as soon as the timer below
  // fires (at once). A database from before that was kept has the monitor's last run.
  if (const auto kept = heartbeat_memory_.find(m.cfg.name); kept != heartbeat_memory_.end()) {
    m.pings->restore(kept->second);
  } else if (stored != nullptr && stored->last_check_ms) {
    m.pings->restore(from_unix_ms(*stored->last_check_ms), stored->state == "up");
  }
  heartbeats_[m.cfg.name] = m.id;
  // In cluster mode the node deciding the monitor judges its pings and deadlines
  // (ClusterHeartbeats); this tracker only shows what that node kept.
  if (!cluster_) arm_ping_deadline(m.id);
}

Secret Daemon::ping_token(const Monitor& m) const {
  const auto& spec = m.cfg.spec_as<HeartbeatSpec>();
  return spec.token ? *spec.token : Secret(derived_ping_token(heartbeat_key_, m.cfg.name), true);
}

bool Daemon::ping_token_known(const Monitor& m) const {
  // A cluster's node reads the key when it joins: a token derived before would be derived from
  // nothing, and guessable.
  return !heartbeat_key_.empty() || m.cfg.spec_as<HeartbeatSpec>().token.has_value();
}

void Daemon::publish_ping_tokens() {
  auto tokens = std::make_shared<Snapshot::PingTokens>();
  for (const auto& [name, id] : heartbeats_) {
    Monitor& m = *monitors_.at(id);
    m.view.reset();  // its ping URL for the admin
    if (!ping_token_known(m)) continue;
    tokens->emplace(ping_token_digest(ping_token(m).reveal()), name);
  }
  ping_tokens_ = std::move(tokens);
  dirty_ = true;
}

void Daemon::arm_ping_deadline(MonitorId id) {
  Monitor& m = *monitors_.at(id);
  const auto deadline = m.pings->deadline();
  if (!deadline) {
    m.ping_deadline->stop();
    return;
  }
  const auto wait = std::max(Duration{0}, std::chrono::ceil<Duration>(*deadline - clock_.wall()));
  m.ping_deadline->start(wait, [this, id] {
    auto it = monitors_.find(id);
    if (it == monitors_.end()) return;
    Monitor& late = *it->second;
    const WallTime now = clock_.wall();
    // The loop's timers run on the monotonic clock; when the wall clock went back meanwhile,
    // the deadline is not reached yet and the timer is set again.
    if (const auto d = late.pings->deadline(); d && *d <= now) {
      ProbeResult r = late.pings->overdue(now);
      r.started_mono = clock_.mono();
      judge(late, std::move(r));
      keep_heartbeat(late);
    }
    arm_ping_deadline(id);
  });
}

void Daemon::keep_heartbeat(const Monitor& m) {
  HeartbeatMemory now = m.pings->memory();
  auto& kept = heartbeat_memory_[m.cfg.name];
  if (kept == now) return;
  kept = now;
  if (store_) store_->put_heartbeat(m.cfg.name, std::move(now));
}

PingTaken Daemon::request_ping(const std::string& monitor, Ping ping) {
  if (cluster_) {
    const auto recorded = cluster_pings_.ask({monitor, std::move(ping)}, *ping_async_);
    return recorded.value_or(false) ? PingTaken::kTaken : PingTaken::kNotRecorded;
  }
  {
    std::lock_guard lock(ping_mu_);
    if (ping_queue_.size() >= kMaxQueuedPings) return PingTaken::kBehind;
    ping_queue_.emplace_back(monitor, std::move(ping));
  }
  ping_async_->send();
  return PingTaken::kTaken;
}

void Daemon::drain_cluster_pings() {
  for (auto& req : cluster_pings_.take()) {
    auto answer = std::make_shared<std::promise<bool>>(std::move(req.answer));
    cluster_->take_ping(req.command.first, req.command.second,
                        [answer](bool taken) { answer->set_value(taken); });
  }
}

void Daemon::show_cluster_heartbeats() {
  if (cluster_->heartbeat_reads() == cluster_heartbeat_reads_) return;
  cluster_heartbeat_reads_ = cluster_->heartbeat_reads();
  const auto& kept = cluster_->heartbeats();
  for (const auto& [name, id] : heartbeats_) {
    Monitor& m = *monitors_.at(id);
    const auto it = kept.find(name);
    m.pings->restore(it != kept.end() ? it->second : HeartbeatMemory{});
    m.view.reset();
  }
  dirty_ = true;
}

void Daemon::drain_pings() {
  if (cluster_) {
    drain_cluster_pings();
    return;
  }
  std::vector<std::pair<std::string, Ping>> pings;
  {
    std::lock_guard lock(ping_mu_);
    pings.swap(ping_queue_);
  }
  for (auto& [name, ping] : pings) {
    const auto it = heartbeats_.find(name);
    if (it == heartbeats_.end()) continue;  // removed by a reload meanwhile
    Monitor& m = *monitors_.at(it->second);
    m.view.reset();
    dirty_ = true;
    if (auto r = m.pings->on_ping(ping)) {
      r->started_mono = clock_.mono();
      judge(m, std::move(*r));
    }
    keep_heartbeat(m);
    arm_ping_deadline(m.id);
  }
}

}  // namespace lookout
