// What every kind's probe shares: one run at a time, its start times, its deadline, cancel(),
// and the callback contract of probe.h, kept in one place so that no kind can break it. A kind
// starts its work in begin(), stops it in abort(), says in timed_out() how far a run got when
// the deadline passed, and ends every run it judged with finish().
#pragma once

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>

#include "core/event_loop.h"
#include "probes/probe.h"

namespace lookout {

class ProbeSession : public Probe {
 public:
  ~ProbeSession() override;
  ProbeSession(const ProbeSession&) = delete;
  ProbeSession& operator=(const ProbeSession&) = delete;

  bool start(Done done) final;
  void cancel() final;

 protected:
  ProbeSession(const MonitorConfig& m, ProbeContext& ctx, std::shared_ptr<const Redactor> redactor);

  // Starts the run's work; false when it cannot start (then no callback comes). Must not end
  // the run from inside: what it starts reports on a later turn of the loop.
  virtual bool begin() = 0;
  // Stops the work in flight without calling back and gives back what the run holds. Called
  // at every end of a run, after a failed begin() too, so it must cope with holding nothing.
  virtual void abort() = 0;
  // The deadline passed first: the run as far as it got (the phase, step or question still
  // waited for, the timings so far). Called before abort(), while that work can still be
  // read; the session makes the result down with ErrorKind::kTimeout.
  virtual ProbeResult timed_out() = 0;
  // How long a run may take in all. The kind's own timeouts (libcurl's, c-ares's) may end it
  // sooner; this one ends it even when they do not.
  virtual Duration deadline() const;
  // What a cause is masked with: the config's secrets (a journey adds its run's values).
  virtual const Redactor* secrets() const { return redactor_.get(); }

  // Ends the run, once: the start times, the cause masked, the whole run's time as the total
  // and sample of a run that passed without a total of its own, the kind's abort(), then the
  // callback, last, since it may destroy the probe.
  void finish(ProbeResult r);
  // Runs `f` on a later turn of the loop, if this run is still in flight then: for the next
  // part of a run, not from inside the callback of the part that just ended.
  void next_turn(std::function<void()> f);
  bool running() const { return run_ != nullptr; }
  int64_t elapsed_us() const;
  Duration time_left() const;

  const MonitorConfig& m_;  // owned by the caller of make_probe, and outlives the probe
  ProbeContext& ctx_;
  std::shared_ptr<const Redactor> redactor_;

 private:
  void expire();

  Timer deadline_;
  WallTime started_at_;
  MonoTime started_mono_;
  // Set while a run is in flight; work left for a later turn holds it weakly, so a run that
  // ended, or a probe destroyed, leaves it expired.
  std::shared_ptr<int> run_;
  Done done_;
};

// The phases of a sample or step as milliseconds, for a run's detail.
nlohmann::json phases_json(const PhaseTimings& t);

}  // namespace lookout
