// The rolling latency window behind slo.p95: samples go into time slices of one sketch each,
// slices older than the window fall off, and a judgement merges what is left. Merging sketches
// gives the p95 of all samples in the window (within the sketch's 1 %), never an average of
// p95s. Pure: time comes in as arguments.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>

#include "config/config.h"
#include "core/clock.h"
#include "store/sketch.h"

namespace lookout {

struct SloJudgement {
  uint64_t samples = 0;
  double p50_ms = 0, p95_ms = 0, p99_ms = 0;
  bool judged = false;    // the window held at least min_samples
  bool breached = false;  // judged and p95 above the budget
  std::string cause;      // "p95 812 ms > 500 ms over the last 15m (90 samples)" when breached
};

class SloWindow {
 public:
  static constexpr int kSlices = 30;
  explicit SloWindow(const SloConfig& slo) : slo_(slo) {}

  void add(WallTime at, int64_t sample_us);
  SloJudgement judge(WallTime now);
  const SloConfig& config() const { return slo_; }

 private:
  struct Slice {
    int64_t index = 0;  // start time / slice length
    LatencySketch sketch;
  };
  void expire(WallTime now);
  int64_t slice_index(WallTime t) const;

  SloConfig slo_;
  std::deque<Slice> slices_;  // oldest first
};

}  // namespace lookout
