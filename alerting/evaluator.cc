#include "alerting/evaluator.h"

namespace lookout {

EvaluationState::EvaluationState(const MonitorConfig& m) {
  if (m.slo.p95) slo.emplace(m.slo);
}

EvaluationState::EvaluationState(const MonitorConfig& m, const StateRow& stored)
    : EvaluationState(m) {
  sm = StateMachine(state_from_string(stored.state).value_or(State::kUnknown),
                    from_unix_ms(stored.since_ms), stored.recent);
  if (stored.last_check_ms) last_check = from_unix_ms(*stored.last_check_ms);
  last_outcome = stored.last_outcome;
  latency_us = stored.last_latency_us;
  cause = stored.last_cause;
  timings.total_us = stored.last_latency_us;
}

Evaluation Evaluator::evaluate(const MonitorConfig& m, EvaluationState& state, ProbeResult r,
                               WallTime now, bool in_maintenance) {
  if (state.slo) {
    for (int64_t us : r.samples_us) state.slo->add(r.started_at, us);
    const SloJudgement j = state.slo->judge(now);
    state.slo_last = j.samples > 0 ? std::optional<SloJudgement>(j) : std::nullopt;
    if (j.breached && r.outcome == Outcome::kUp) {
      r.outcome = Outcome::kDegraded;
      r.kind = ErrorKind::kSlow;
      r.cause = j.cause;
    }
  }
  if (r.cert_not_after) state.cert_not_after = r.cert_not_after;
  if (r.perfdata) state.perfdata = *r.perfdata;
  if (r.answers) state.last_answers = r.answers;

  Evaluation e;
  e.before = state.sm.state();
  e.changed = state.sm.apply(r.outcome, now, m.fail_after, m.recover_after);
  e.after = state.sm.state();
  if (e.changed) {
    e.event = e.after == State::kUp ? RunEvent::kNowUp : RunEvent::kNowBad;
  } else if (r.outcome != Outcome::kUp) {
    e.event = RunEvent::kRunFailed;
  }
  ++state.runs;
  if (r.outcome != Outcome::kUp) ++state.failures;
  state.last_check = r.started_at;
  state.last_outcome = r.outcome;
  state.latency_us = r.timings.total_us;
  state.cause = r.cause;
  state.timings = r.timings;

  e.state_row = StateRow{m.name,
                         to_string(e.after),
                         to_unix_ms(state.sm.since()),
                         state.sm.recent(),
                         to_unix_ms(r.started_at),
                         r.outcome,
                         r.timings.total_us,
                         r.cause};
  if (alerts_ != nullptr)
    alerts_->on_run(m, e.after, e.changed, r.cause, now, in_maintenance, e.alerts);
  e.result = ResultRow{m.name,
                       to_unix_ms(r.started_at),
                       r.outcome,
                       r.http_status,
                       r.timings,
                       r.kind,
                       std::move(r.cause),
                       in_maintenance,
                       std::move(r.detail),
                       std::move(r.samples_us)};
  return e;
}

}  // namespace lookout
