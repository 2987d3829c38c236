// When each monitor runs. Pure: the caller passes "now" (monotonic) and starts what
// take_due() returns; a fake clock drives it in tests.
//
// First runs are spread over the interval, at most its first 10 s, by a hash of the name, so
// many monitors do not fire at once. Runs follow a fixed grid (due + interval), so a slow run
// does not shift later ones. A monitor still running when due again is skipped (and counted),
// never started twice. Runs over the global or per-host cap wait here, in order, and their
// timeout starts only when they start. A run the daemon could not carry out for want of its
// own resources (file descriptors) is deferred: it waits again, first in line, and the cap
// follows what the process could hold.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <deque>
#include <optional>
#include <queue>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/clock.h"

namespace lookout {

using MonitorId = uint32_t;

// Scheduler lag (due to start), in the buckets exposed on /metrics (seconds).
struct LagHistogram {
  static constexpr std::array<double, 14> kBounds{0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05,
                                                  0.1,    0.2,   0.5,   1,     2,    5,    10};
  std::array<uint64_t, kBounds.size() + 1> counts{};  // the last is +Inf
  uint64_t total = 0;
  double sum_seconds = 0;
  void record(Duration lag);
  // Estimated quantile (linear within a bucket), in seconds.
  double quantile(double q) const;
};

struct SchedulerStats {
  uint64_t started = 0;
  uint64_t skipped_busy = 0;  // due while the previous run was still going
  uint64_t missed_slots = 0;  // grid slots passed over because the loop fell behind
  uint64_t waited = 0;        // runs that had to wait for a cap
  uint64_t deferred = 0;      // runs put back because the daemon was out of descriptors
  size_t in_flight = 0;
  size_t waiting = 0;
  LagHistogram lag;
};

class Scheduler {
 public:
  struct Limits {
    size_t max_in_flight = 512;
    size_t max_per_host = 16;
  };
  struct Start {
    MonitorId id;
    MonoTime due;
  };

  // A monitor's first run comes within min(interval, this) of its adding.
  static constexpr Duration kFirstRunSpread{10'000};

  explicit Scheduler(Limits limits) : limits_(limits) {}

  void set_limits(Limits limits) { limits_ = limits; }
  void add(MonitorId id, Duration interval, std::string host, uint64_t phase_seed, MonoTime now);
  // Forgets the monitor. A run of it in flight must still be reported with finished().
  void remove(MonitorId id);
  std::vector<Start> take_due(MonoTime now);
  void finished(MonitorId id);
  // The run ended without a result because the daemon lacked descriptors (or a thread): its
  // slot is freed and it waits, first in line, with its first due time. No run starts until
  // one finishes (freeing what it held) or kShortageHold has passed, and the cap on runs in
  // flight drops to those still in flight; each run that finishes raises it by one again.
  void deferred(MonitorId id, MonoTime now);
  static constexpr Duration kShortageHold{1000};
  // The next moment take_due() has something to do; nullopt when nothing is scheduled.
  std::optional<MonoTime> next_wakeup();
  const SchedulerStats& stats() const { return stats_; }
  bool in_flight(MonitorId id) const;

 private:
  struct Entry {
    Duration interval;
    std::string host;
    MonoTime next_due;
    bool running = false;
    bool waiting = false;
    MonoTime run_due{};  // of the run in flight
    uint64_t generation = 0;
  };
  struct Due {
    MonoTime at;
    MonitorId id;
    uint64_t generation;
    bool operator>(const Due& o) const { return at > o.at; }
  };
  struct Waiting {
    MonitorId id;
    MonoTime due;
  };

  size_t cap() const { return std::min(limits_.max_in_flight, shortage_cap_); }
  bool admit(const Entry& e, MonoTime now) const;
  void launch(MonitorId id, Entry& e, MonoTime due, MonoTime now, std::vector<Start>& out);
  void release(MonitorId id);

  Limits limits_;
  std::unordered_map<MonitorId, Entry> entries_;
  std::unordered_map<MonitorId, std::string> running_hosts_;  // also for removed monitors
  std::unordered_map<std::string, size_t> per_host_;
  std::priority_queue<Due, std::vector<Due>, std::greater<>> heap_;
  std::deque<Waiting> waiting_;
  uint64_t next_generation_ = 1;
  // After a shortage of descriptors: the lowered cap (none: SIZE_MAX) and the hold.
  size_t shortage_cap_ = SIZE_MAX;
  std::optional<MonoTime> held_until_;
  SchedulerStats stats_;
};

// FNV-1a: stable across runs and builds, so a monitor keeps its phase.
uint64_t stable_hash(const std::string& s);

}  // namespace lookout
