#include "alerting/location_judge.h"

namespace lookout {

// The kept report's runs were timed on another node's clock: the first run judged here is never
// compared with them.
LocationJudge::LocationJudge(LocationReport kept)
    : sm_(kept.state, kept.since, kept.recent), report_(std::move(kept)) {}

bool LocationJudge::add_run(const LocationRun& run, int fail_after, int recover_after) {
  if (judged_ && run.started_at < report_.last_check) return false;
  judged_ = true;
  sm_.apply(run.outcome, run.started_at, fail_after, recover_after);
  report_.state = sm_.state();
  report_.since = sm_.since();
  report_.recent = sm_.recent();
  report_.last_check = run.started_at;
  report_.latency_us = run.latency_us;
  // The cause of its latest run that was not up, until an up run finds it up: a location that
  // says down while it recovers still says why.
  if (run.outcome != Outcome::kUp) {
    report_.cause = run.cause;
  } else if (sm_.state() == State::kUp) {
    report_.cause.clear();
  }
  return true;
}

}  // namespace lookout
