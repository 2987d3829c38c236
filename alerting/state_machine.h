// A monitor's state from its runs: fail_after consecutive runs that are not up move it to the
// worst of them, recover_after consecutive up runs bring it back, and the first run ever sets
// it directly. Pure: no clock, no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/clock.h"
#include "probes/probe.h"
#include "store/records.h"

namespace lookout {

State state_of(Outcome o);

class StateMachine {
 public:
  static constexpr size_t kMaxHistory = 100;  // fail_after and recover_after are at most this

  StateMachine() = default;
  // Restores what storage kept: the state, since when, and the latest runs (oldest first).
  StateMachine(State state, WallTime since, std::string recent);

  // Records one run; true when the state changed.
  bool apply(Outcome run, WallTime at, int fail_after, int recover_after);

  State state() const { return state_; }
  WallTime since() const { return since_; }
  // The latest runs as letters u/g/d (up, degraded, down), oldest first: stored as is.
  const std::string& recent() const { return recent_; }

 private:
  State state_ = State::kUnknown;
  WallTime since_{};
  std::string recent_;
};

}  // namespace lookout
