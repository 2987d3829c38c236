#include "store/lease_keeper.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>
#include <utility>

#include "core/units.h"
#include "store/node_registry.h"

namespace lookout {

LeaseKeeper::LeaseKeeper(EventLoop& loop, PgConnection& pg, const Clock& clock, std::string node,
                         std::string location, Duration lease)
    : pg_(pg),
      clock_(clock),
      node_(std::move(node)),
      location_(std::move(location)),
      lease_(lease),
      registry_(node_, lease),
      probe_space_(LeaseSpace::probing(location_)),
      eval_space_(LeaseSpace::evaluation()),
      renewal_(loop),
      expiry_(loop),
      finish_(loop),
      self_(std::make_shared<LeaseKeeper*>(this)) {}

LeaseKeeper::~LeaseKeeper() { *self_ = nullptr; }

void LeaseKeeper::start() {
  tick();
  renewal_.start_repeating(renew_every(), [this] { tick(); });
}

void LeaseKeeper::tick() {
  if (in_flight_ || stopping_) return;
  in_flight_ = true;
  const PgStatement s = NodeRegistry::list(lease_);
  pg_.query(s.sql, s.params, [self = self_](const PgResult& answer) {
    if (LeaseKeeper* k = *self; k != nullptr) k->on_nodes(answer);
  });
}

void LeaseKeeper::on_nodes(const PgResult& answer) {
  if (stopping_) {
    step_done();
    return;
  }
  const auto nodes = NodeRegistry::nodes(answer);
  if (!nodes) {
    renewal_failed(answer, "the list of nodes");
    step_done();
    return;
  }
  std::vector<std::string> here, everywhere;
  for (const NodeRow& n : *nodes) {
    if (!n.alive) continue;
    everywhere.push_back(n.node);
    if (n.location == location_) here.push_back(n.node);
  }
  std::vector<std::string> held;
  held.reserve(known_.size());
  for (const auto& entry : known_) held.push_back(entry.first);
  const LeasePlan probe = plan_leases(probe_space_, node_, here, held);
  const LeasePlan eval = plan_leases(eval_space_, node_, everywhere, held);

  std::vector<std::string> release = probe.release;
  release.insert(release.end(), eval.release.begin(), eval.release.end());
  std::vector<std::string> acquire = probe.acquire;
  acquire.insert(acquire.end(), eval.acquire.begin(), eval.acquire.end());
  // The release goes first: a node that joined takes these at its next renewal.
  if (!release.empty()) send_release(release, false);
  if (!acquire.empty()) send_acquire(std::move(acquire));
  if (pending_ == 0) step_done();
}

void LeaseKeeper::send_acquire(std::vector<std::string> names) {
  std::vector<LeaseRow> held;
  for (const std::string& name : names) {
    if (const auto it = known_.find(name); it != known_.end()) {
      held.push_back(LeaseRow{name, node_, it->second.epoch, 0});
    }
  }
  const PgStatement s = registry_.acquire(names, held);
  ++pending_;
  // The server sets expires_at after this moment, so a lease counted from here runs out locally
  // before it does on the server, however long the answer takes to arrive or to be read.
  const MonoTime sent = clock_.mono();
  pg_.query(s.sql, s.params,
            [self = self_, sent, names = std::move(names)](const PgResult& answer) {
              if (LeaseKeeper* k = *self; k != nullptr) {
                k->on_acquired(sent, names, answer);
                k->step_done();
              }
            });
}

void LeaseKeeper::on_acquired(MonoTime sent, const std::vector<std::string>& asked,
                              const PgResult& answer) {
  const MonoTime now = clock_.mono();
  LeaseChanges changes = lapse(now);
  const auto rows = LeaseRegistry::rows(answer);
  if (!rows) {
    renewal_failed(answer, "the renewal of its leases");
    report(changes);
    return;
  }
  last_error_.clear();
  std::set<std::string> answered;
  for (const LeaseRow& row : *rows) {
    answered.insert(row.name);
    Known& k = known_[row.name];
    // lapse() left a deadline only on leases held now.
    const bool was_held = k.deadline.has_value();
    const MonoTime deadline = sent + Duration{row.remaining_ms} - margin();
    // An answer read after its deadline (the loop was stalled) gives nothing: the server's
    // clock may have run the lease out meanwhile.
    const bool held = !stopping_ && deadline > now;
    const bool new_tenure = k.epoch != row.epoch;
    if (was_held && (new_tenure || !held)) changes.lost.push_back(kept(row.name, k.epoch));
    if (held && (!was_held || new_tenure)) changes.gained.push_back(kept(row.name, row.epoch));
    k.epoch = row.epoch;
    k.deadline = held ? std::optional(deadline) : std::nullopt;
  }
  // Not answered: another node holds it, or this node's name under an epoch it never had.
  for (const std::string& name : asked) {
    const auto it = known_.find(name);
    if (answered.count(name) > 0 || it == known_.end()) continue;
    if (it->second.deadline) changes.lost.push_back(kept(name, it->second.epoch));
    known_.erase(it);
  }
  report(changes);
  arm_expiry();
}

void LeaseKeeper::send_release(const std::vector<std::string>& names, bool final) {
  std::vector<LeaseRow> rows;
  for (const std::string& name : names) {
    if (const auto it = known_.find(name); it != known_.end()) {
      rows.push_back(LeaseRow{name, node_, it->second.epoch, 0});
    }
  }
  // Dropped before the release is sent: once it commits another node may take them at once.
  report(drop(names));
  arm_expiry();
  const PgStatement s = registry_.release(rows);
  if (!final) ++pending_;
  pg_.query(s.sql, s.params, [self = self_, rows, final](const PgResult& answer) {
    LeaseKeeper* k = *self;
    if (k == nullptr) return;
    k->on_released(rows, answer, final);
    if (!final) k->step_done();
  });
}

void LeaseKeeper::on_released(const std::vector<LeaseRow>& sent, const PgResult& answer,
                              bool final) {
  const bool released = LeaseRegistry::released(answer).has_value();
  if (!released && final)
    last_error_ = answer.ok() ? "an answer in an unexpected shape" : answer.error;
  if (released) {
    // Whatever the answer left out was no longer this node's under that epoch: nothing to name.
    for (const LeaseRow& row : sent) {
      const auto it = known_.find(row.name);
      if (it != known_.end() && it->second.epoch == row.epoch && !it->second.deadline) {
        known_.erase(it);
      }
    }
  } else if (!final) {
    // Named again at the next renewal: released then, or renewed if its share came back here.
    renewal_failed(answer, "the release of leases in other nodes' shares");
  }
  if (final) finish_stop(released);
}

// Ends one statement of a renewal, or the renewal when it sent none: it is done once each of its
// statements has answered.
void LeaseKeeper::step_done() {
  if (pending_ > 0) --pending_;
  if (pending_ > 0) return;
  in_flight_ = false;
  if (stopping_) release_everything();
}

void LeaseKeeper::stop(std::function<void(bool)> done) {
  renewal_.stop();
  expiry_.stop();
  stopping_ = true;
  stopped_ = std::move(done);
  std::vector<std::string> names;
  for (const auto& entry : known_) names.push_back(entry.first);
  report(drop(names));
  // A renewal in flight may still take leases: the release waits for its answers, so that it
  // names every epoch they gave.
  if (!in_flight_) release_everything();
}

void LeaseKeeper::release_everything() {
  if (known_.empty()) {
    finish_.start(Duration{0}, [this] { finish_stop(true); });
    return;
  }
  std::vector<std::string> names;
  for (const auto& entry : known_) names.push_back(entry.first);
  send_release(names, true);
}

void LeaseKeeper::finish_stop(bool released) {
  if (released) {
    spdlog::info("node {} released its leases", node_);
  } else {
    spdlog::warn(
        "node {} could not release its leases ({}); the other nodes take them once they run "
        "out, within {}",
        node_, last_error_.empty() ? "no answer" : last_error_, format_duration(lease_));
  }
  if (stopped_) std::exchange(stopped_, nullptr)(released);
}

LeaseChanges LeaseKeeper::lapse(MonoTime now) {
  LeaseChanges changes;
  for (auto& [name, k] : known_) {
    if (!k.deadline || *k.deadline > now) continue;
    changes.lost.push_back(kept(name, k.epoch));
    k.deadline.reset();
  }
  if (!changes.lost.empty()) {
    spdlog::warn(
        "node {} stops the work of {} leases: their local deadline passed before a renewal was "
        "answered ({}); it holds them again after a renewal that succeeds, unless another node "
        "took them meanwhile",
        node_, changes.lost.size(),
        last_error_.empty()
            ? fmt::format("PostgreSQL at {} is slow or unreachable, or this node's loop stalled",
                          pg_.server())
            : last_error_);
  }
  return changes;
}

LeaseChanges LeaseKeeper::drop(const std::vector<std::string>& names) {
  LeaseChanges changes;
  for (const std::string& name : names) {
    const auto it = known_.find(name);
    if (it == known_.end() || !it->second.deadline) continue;
    changes.lost.push_back(kept(name, it->second.epoch));
    it->second.deadline.reset();
  }
  return changes;
}

void LeaseKeeper::renewal_failed(const PgResult& answer, const char* statement) {
  std::string error = answer.error;
  if (answer.ok()) {
    error =
        fmt::format("PostgreSQL at {} answered {} in an unexpected shape", pg_.server(), statement);
  }
  // The connection logs its own failures; those of the statements are logged here, once.
  if ((answer.ok() || !answer.sqlstate.empty()) && error != last_error_) {
    spdlog::error(
        "node {} cannot renew its leases: {}; it keeps each lease until its local deadline and "
        "tries again every {}",
        node_, error, format_duration(renew_every()));
  }
  last_error_ = std::move(error);
}

void LeaseKeeper::report(const LeaseChanges& changes) {
  if (changes.empty()) return;
  if (!stopping_) {
    spdlog::info(
        "node {} holds {} probe leases of location {} and {} eval leases (gained {}, lost {})",
        node_, probing().size(), location_, deciding().size(), changes.gained.size(),
        changes.lost.size());
  }
  if (on_change_) on_change_(changes);
}

void LeaseKeeper::arm_expiry() {
  std::optional<MonoTime> first;
  for (const auto& entry : known_) {
    const auto& deadline = entry.second.deadline;
    if (deadline && (!first || *deadline < *first)) first = deadline;
  }
  if (!first) {
    expiry_.stop();
    return;
  }
  // The loop's timers count whole milliseconds from a time cached at the start of the turn, so
  // this may fire a little early: it then finds nothing due and waits for the rest.
  const Duration wait = std::chrono::ceil<Duration>(*first - clock_.mono());
  expiry_.start(std::max(wait, Duration{1}), [this] {
    report(lapse(clock_.mono()));
    arm_expiry();
  });
}

std::map<int, int64_t> LeaseKeeper::held_in(const LeaseSpace& space) const {
  const MonoTime now = clock_.mono();
  std::map<int, int64_t> out;
  for (const auto& [name, k] : known_) {
    if (!k.deadline || *k.deadline <= now) continue;
    if (const auto shard = space.shard(name)) out.emplace(*shard, k.epoch);
  }
  return out;
}

std::map<int, int64_t> LeaseKeeper::probing() const { return held_in(probe_space_); }
std::map<int, int64_t> LeaseKeeper::deciding() const { return held_in(eval_space_); }

std::optional<LeaseFence> LeaseKeeper::decision_fence(int shard) const {
  const std::string name = eval_space_.lease(shard);
  const auto it = known_.find(name);
  if (it == known_.end() || !it->second.deadline || *it->second.deadline <= clock_.mono()) {
    return std::nullopt;
  }
  return LeaseFence{name, node_, it->second.epoch};
}

Duration LeaseKeeper::life(const std::string& lease) const {
  const auto it = known_.find(lease);
  if (it == known_.end() || !it->second.deadline) return Duration::zero();
  return std::max(Duration::zero(),
                  std::chrono::floor<Duration>(*it->second.deadline - clock_.mono()));
}

bool LeaseKeeper::fits(const std::string& lease, Duration need) const {
  const Duration left = life(lease);
  return left > Duration::zero() && left >= need;
}

KeptLease LeaseKeeper::kept(const std::string& name, int64_t epoch) const {
  if (const auto shard = probe_space_.shard(name)) {
    return KeptLease{name, LeaseWork::kProbe, *shard, epoch};
  }
  return KeptLease{name, LeaseWork::kEval, eval_space_.shard(name).value_or(0), epoch};
}

}  // namespace lookout
