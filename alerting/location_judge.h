// One location's judgement of a monitor in cluster mode, kept by the node that probes the
// monitor from there: its runs go through the monitor's fail_after and recover_after as a
// single node judges them, and its latest cause is kept. Its report is what the location says
// of the monitor; the node deciding the monitor reads every location's report and applies the
// quorum (alerting/quorum.h). Pure: no clock, no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "alerting/state_machine.h"
#include "core/clock.h"
#include "probes/probe.h"
#include "store/records.h"

namespace lookout {

// One run of a monitor from one location.
struct LocationRun {
  Outcome outcome = Outcome::kUp;
  std::string cause;                  // empty for an up run
  std::optional<int64_t> latency_us;  // the run's total; unset without a response
  WallTime started_at;
};

// What a location says of a monitor.
struct LocationReport {
  State state = State::kUnknown;
  WallTime since{};
  // The latest runs as StateMachine keeps them, so that another node of the location that takes
  // the monitor over carries on with the streak.
  std::string recent;
  WallTime last_check{};  // its newest run's start, by the clock of the node that ran it
  std::optional<int64_t> latency_us;  // of that run; unset without a response
  std::string cause;                  // why it is not up, or why its last run was not
  bool operator==(const LocationReport&) const = default;
};

class LocationJudge {
 public:
  LocationJudge() = default;
  // Carries on from what the location's report kept (a takeover within the location).
  explicit LocationJudge(LocationReport kept);

  // Judges a run with the location's streak. A run that started before the newest this judge
  // judged is not counted (runs that end out of order): false. The runs of a kept report were
  // timed on another node's clock and are not compared.
  bool add_run(const LocationRun& run, int fail_after, int recover_after);
  const LocationReport& report() const { return report_; }

 private:
  StateMachine sm_;
  LocationReport report_;
  bool judged_ = false;  // a run was judged here
};

}  // namespace lookout
