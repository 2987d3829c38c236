// A clock for tests of time logic: it moves only when told to, so the scheduler, SLO windows,
// escalation and retention are tested without sleeping. Not part of the daemon.
#pragma once

#include "core/clock.h"

namespace lookout {

class FakeClock final : public Clock {
 public:
  FakeClock() : wall_(std::chrono::sys_days{std::chrono::year{2026} / 11 / 1}) {}
  MonoTime mono() const override { return mono_; }
  WallTime wall() const override { return wall_; }
  void advance(Duration d) {
    mono_ += d;
    wall_ += d;
  }

 private:
  MonoTime mono_{};
  WallTime wall_;
};

}  // namespace lookout
