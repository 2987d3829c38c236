#include "core/scheduler.h"

#include <algorithm>

namespace lookout {

void LagHistogram::record(Duration lag) {
  const double s = std::max<double>(0, static_cast<double>(lag.count()) / 1000.0);
  size_t i = 0;
  while (i < kBounds.size() && s > kBounds[i]) ++i;
  ++counts[i];
  ++total;
  sum_seconds += s;
}

double LagHistogram::quantile(double q) const {
  if (total == 0) return 0;
  const double rank = q * static_cast<double>(total);
  double seen = 0;
  for (size_t i = 0; i < counts.size(); ++i) {
    if (counts[i] == 0) continue;
    if (seen + static_cast<double>(counts[i]) >= rank) {
      const double lo = i == 0 ? 0 : kBounds[i - 1];
      const double hi = i < kBounds.size() ? kBounds[i] : kBounds.back();
      return lo + (hi - lo) * (rank - seen) / static_cast<double>(counts[i]);
    }
    seen += static_cast<double>(counts[i]);
  }
  return kBounds.back();
}

uint64_t stable_hash(const std::string& s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

void Scheduler::add(MonitorId id, Duration interval, std::string host, uint64_t phase_seed,
                    MonoTime now) {
  remove(id);
  Entry e;
  e.interval = interval;
  e.host = std::move(host);
  e.generation = next_generation_++;
  // Spread over the first 10 s at most: a monitor run every 12 hours still runs soon after
  // start, not up to 12 hours later.
  const Duration spread = std::min(interval, kFirstRunSpread);
  const auto offset =
      Duration{static_cast<int64_t>(phase_seed % static_cast<uint64_t>(spread.count()))};
  e.next_due = now + offset;
  e.running = running_hosts_.count(id) != 0;
  heap_.push({e.next_due, id, e.generation});
  entries_[id] = std::move(e);
}

void Scheduler::remove(MonitorId id) {
  if (entries_.erase(id) == 0) return;
  const auto it =
      std::find_if(waiting_.begin(), waiting_.end(), [id](const Waiting& w) { return w.id == id; });
  if (it != waiting_.end()) waiting_.erase(it);
  stats_.waiting = waiting_.size();
}

bool Scheduler::in_flight(MonitorId id) const { return running_hosts_.count(id) != 0; }

bool Scheduler::admit(const Entry& e, MonoTime now) const {
  if (held_until_ && now < *held_until_) return false;
  if (stats_.in_flight >= cap()) return false;
  const auto it = per_host_.find(e.host);
  return it == per_host_.end() || it->second < limits_.max_per_host;
}

void Scheduler::launch(MonitorId id, Entry& e, MonoTime due, MonoTime now,
                       std::vector<Start>& out) {
  e.running = true;
  e.waiting = false;
  e.run_due = due;
  running_hosts_[id] = e.host;
  ++per_host_[e.host];
  ++stats_.in_flight;
  ++stats_.started;
  stats_.lag.record(std::chrono::duration_cast<Duration>(now - due));
  out.push_back({id, due});
}

std::vector<Scheduler::Start> Scheduler::take_due(MonoTime now) {
  std::vector<Start> out;
  if (held_until_ && now >= *held_until_) held_until_.reset();
  // Runs that waited for a cap go first, oldest first; one held back by its host's cap does
  // not hold back runs for other hosts.
  for (auto it = waiting_.begin(); it != waiting_.end() && stats_.in_flight < cap();) {
    Entry& e = entries_.at(it->id);
    if (admit(e, now)) {
      launch(it->id, e, it->due, now, out);
      it = waiting_.erase(it);
    } else {
      ++it;
    }
  }
  while (!heap_.empty() && heap_.top().at <= now) {
    const Due d = heap_.top();
    heap_.pop();
    auto it = entries_.find(d.id);
    if (it == entries_.end() || it->second.generation != d.generation)
      continue;  // removed or re-added
    Entry& e = it->second;
    MonoTime next = d.at + e.interval;
    if (next <= now) {
      const auto behind = (now - next) / e.interval + 1;
      next += behind * e.interval;
      stats_.missed_slots += static_cast<uint64_t>(behind);
    }
    e.next_due = next;
    heap_.push({next, d.id, e.generation});
    if (e.running || e.waiting) {
      ++stats_.skipped_busy;
      continue;
    }
    if (admit(e, now)) {
      launch(d.id, e, d.at, now, out);
    } else {
      e.waiting = true;
      ++stats_.waited;
      waiting_.push_back({d.id, d.at});
    }
  }
  stats_.waiting = waiting_.size();
  return out;
}

void Scheduler::release(MonitorId id) {
  const auto it = running_hosts_.find(id);
  if (it == running_hosts_.end()) return;
  auto host = per_host_.find(it->second);
  if (host != per_host_.end() && --host->second == 0) per_host_.erase(host);
  running_hosts_.erase(it);
  --stats_.in_flight;
  if (auto e = entries_.find(id); e != entries_.end()) e->second.running = false;
}

void Scheduler::finished(MonitorId id) {
  if (!in_flight(id)) return;
  release(id);
  if (shortage_cap_ != SIZE_MAX) {
    held_until_.reset();  // what the run held is free again
    if (++shortage_cap_ >= limits_.max_in_flight) shortage_cap_ = SIZE_MAX;
  }
}

void Scheduler::deferred(MonitorId id, MonoTime now) {
  if (!in_flight(id)) return;
  release(id);
  ++stats_.deferred;
  shortage_cap_ = std::max<size_t>(1, stats_.in_flight);
  held_until_ = now + kShortageHold;
  const auto e = entries_.find(id);
  if (e == entries_.end()) return;  // removed while it ran
  e->second.waiting = true;
  waiting_.push_front({id, e->second.run_due});
  stats_.waiting = waiting_.size();
}

std::optional<MonoTime> Scheduler::next_wakeup() {
  while (!heap_.empty()) {
    const Due& d = heap_.top();
    auto it = entries_.find(d.id);
    if (it != entries_.end() && it->second.generation == d.generation) break;
    heap_.pop();
  }
  std::optional<MonoTime> next;
  if (!heap_.empty()) next = heap_.top().at;
  // Waiting runs are retried when a run finishes, or when a hold after a shortage ends.
  if (held_until_ && !waiting_.empty()) next = next ? std::min(*next, *held_until_) : *held_until_;
  return next;
}

}  // namespace lookout
