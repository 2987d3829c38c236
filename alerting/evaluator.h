// One run of a monitor judged: the SLO window, the state machine, the counters, the rows to
// store and the incident decisions. Pure: time comes in as arguments, and the caller logs,
// stores and sends what it returns, so the daemon and a cluster node judge runs alike.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "alerting/incidents.h"
#include "alerting/slo_window.h"
#include "alerting/state_machine.h"
#include "config/config.h"
#include "core/clock.h"
#include "probes/probe.h"
#include "store/records.h"
#include "store/storage.h"

namespace lookout {

// What the runs of one monitor have left behind, kept between runs.
struct EvaluationState {
  // A monitor that has never run: its state is unknown until its first run sets it.
  explicit EvaluationState(const MonitorConfig& m);
  // Carries on from what storage kept (the inverse of Evaluation::state_row), so a restart
  // continues the streaks instead of starting them again.
  EvaluationState(const MonitorConfig& m, const StateRow& stored);

  StateMachine sm;
  std::optional<SloWindow> slo;  // monitors with slo.p95
  std::optional<SloJudgement> slo_last;
  uint64_t runs = 0;  // since this state was made
  uint64_t failures = 0;
  std::optional<WallTime> last_check;
  std::optional<Outcome> last_outcome;
  std::optional<int64_t> latency_us;
  std::string cause;
  PhaseTimings timings;
  std::optional<WallTime> cert_not_after;
  std::vector<PerfdataValue> perfdata;                   // exec: the last run's
  std::optional<std::vector<std::string>> last_answers;  // dns: what an accept makes the baseline
};

// Which line the run is worth in the log; the words are the caller's.
enum class RunEvent {
  kQuiet,      // an up run that changed nothing
  kNowUp,      // the state became up
  kNowBad,     // the state became degraded or down
  kRunFailed,  // a run that was not up, without a change of state
};

struct Evaluation {
  State before = State::kUnknown;
  State after = State::kUnknown;
  bool changed = false;
  RunEvent event = RunEvent::kQuiet;
  // The run as judged (outcome, kind and cause after the SLO window) and in maintenance or not.
  ResultRow result;
  StateRow state_row;
  AlertChanges alerts;
};

// One for all monitors: the alert engine it decides incidents with holds every monitor's open
// incident and flap window. A cluster's probing node has none: it judges runs and reports them,
// and the deciding node decides incidents (alerting/cluster_decider.h).
class Evaluator {
 public:
  explicit Evaluator(AlertEngine& alerts) : alerts_(&alerts) {}
  Evaluator() = default;

  // Judges `r`, which started at r.started_at and is judged at `now`, and updates `state` in
  // place: the SLO window and state machine are too big to copy on every run.
  Evaluation evaluate(const MonitorConfig& m, EvaluationState& state, ProbeResult r, WallTime now,
                      bool in_maintenance);

 private:
  AlertEngine* alerts_ = nullptr;
};

}  // namespace lookout
