#include "alerting/evaluator.h"

#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>

#include "tests/support/fake_clock.h"

namespace lookout {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

// One monitor, routed to one webhook, so that incident decisions carry notifications.
std::shared_ptr<Config> routed_monitor_config() {
  auto c = std::make_shared<Config>();
  MonitorConfig m;
  m.name = "portal-api";
  m.group = "Portal";
  c->monitors.push_back(m);
  ChannelConfig hook;
  hook.name = "hook";
  c->channels.push_back(hook);
  RouteConfig r;
  r.name = "oncall";
  r.notify = {"hook"};
  c->routes.push_back(r);
  return c;
}

ProbeResult run_of(Outcome o, std::string cause = "") {
  ProbeResult r;
  r.outcome = o;
  r.kind = o == Outcome::kUp ? ErrorKind::kNone : ErrorKind::kConnect;
  r.cause = o == Outcome::kUp || !cause.empty() ? std::move(cause) : "connection refused";
  return r;
}

Outcome outcome_of_letter(char c) {
  return c == 'u' ? Outcome::kUp : c == 'g' ? Outcome::kDegraded : Outcome::kDown;
}

// The engine and evaluator of routed_monitor_config()'s monitor on a fake clock. Each run
// started a second before it is judged; the clock then moves on a minute.
struct EvalBench {
  std::shared_ptr<Config> config = routed_monitor_config();
  FakeClock clock;
  int ids = 0;
  AlertEngine alerts{"k3y-for-tests-0123456789abcdef",
                     [this] { return fmt::format("{:032}", ++ids); }};
  Evaluator evaluator{alerts};
  // Made at the first run, from the monitor as the test left it.
  std::optional<EvaluationState> state;
  WallTime started, judged;

  EvalBench() { alerts.configure(config); }
  MonitorConfig& monitor() { return config->monitors[0]; }

  Evaluation run(ProbeResult r, bool maintenance = false) {
    if (!state) state.emplace(monitor());
    judged = clock.wall();
    started = judged - seconds(1);
    r.started_at = started;
    Evaluation e = evaluator.evaluate(monitor(), *state, std::move(r), judged, maintenance);
    clock.advance(minutes(1));
    return e;
  }
};

std::vector<std::string> alert_events(const AlertChanges& c) {
  std::vector<std::string> out;
  for (const auto& e : c.events) {
    out.push_back(e.event);
    for (const auto& n : e.notifications) out.back() += ":" + n.channel;
  }
  return out;
}

// Runs as letters (u up, g degraded, d down); after each, the state, and the event as a letter:
// U now up, B now bad, f a failed run without a change, . quiet.
struct StreakCase {
  int fail_after, recover_after;
  std::string runs, states, events;
};

TEST(Evaluator, FailAfterAndRecoverAfterDecideTheState) {
  const std::vector<StreakCase> cases = {
      {2, 2, "udduduu", "up up down down down down up", "UfB.f.U"},
      {1, 1, "udug", "up down up degraded", "UBUB"},
      {3, 2, "uddudddu", "up up up up up up down down", "Uff.ffB."},
      {2, 3, "ddduuuu", "down down down down down up up", "Bff..U."},
      {2, 2, "ugd", "up up down", "UfB"},
      {2, 2, "ugg", "up up degraded", "UfB"},
      {2, 2, "dgg", "down down degraded", "BfB"},
  };
  const std::map<RunEvent, char> letters = {{RunEvent::kNowUp, 'U'},
                                            {RunEvent::kNowBad, 'B'},
                                            {RunEvent::kRunFailed, 'f'},
                                            {RunEvent::kQuiet, '.'}};
  for (const auto& c : cases) {
    SCOPED_TRACE(fmt::format("fail_after {} recover_after {} runs {}", c.fail_after,
                             c.recover_after, c.runs));
    EvalBench b;
    b.monitor().fail_after = c.fail_after;
    b.monitor().recover_after = c.recover_after;
    std::string states, events;
    for (char run : c.runs) {
      const Evaluation e = b.run(run_of(outcome_of_letter(run)));
      states += (states.empty() ? "" : " ") + std::string(to_string(e.after));
      events += letters.at(e.event);
      EXPECT_EQ(e.changed, e.before != e.after);
      EXPECT_EQ(e.changed, e.event == RunEvent::kNowUp || e.event == RunEvent::kNowBad);
      EXPECT_EQ(e.state_row.state, to_string(e.after));
    }
    EXPECT_EQ(states, c.states);
    EXPECT_EQ(events, c.events);
    EXPECT_EQ(b.state->sm.recent(), c.runs);
  }
}

TEST(Evaluator, FirstRunSetsTheStateDirectly) {
  for (Outcome o : {Outcome::kUp, Outcome::kDegraded, Outcome::kDown}) {
    SCOPED_TRACE(to_string(o));
    EvalBench b;
    b.monitor().fail_after = 5;
    b.monitor().recover_after = 5;
    const Evaluation e = b.run(run_of(o));
    EXPECT_EQ(e.before, State::kUnknown);
    EXPECT_EQ(e.after, state_of(o));
    EXPECT_TRUE(e.changed);
    EXPECT_EQ(e.event, o == Outcome::kUp ? RunEvent::kNowUp : RunEvent::kNowBad);
    EXPECT_EQ(e.state_row.since_ms, to_unix_ms(b.judged));
  }
}

TEST(Evaluator, SloBreachTurnsAnUpRunIntoDegradedWithKindSlow) {
  EvalBench b;
  b.monitor().slo.p95 = Duration{100};
  b.monitor().slo.min_samples = 3;
  auto slow_up = [] {
    ProbeResult r = run_of(Outcome::kUp);
    r.samples_us = {400'000};
    return r;
  };
  // Too few samples to judge: up as the probe said.
  for (int i = 0; i < 2; ++i) {
    const Evaluation e = b.run(slow_up());
    EXPECT_EQ(e.result.outcome, Outcome::kUp);
    EXPECT_EQ(e.result.kind, ErrorKind::kNone);
    EXPECT_EQ(e.result.cause, "");
  }
  const Evaluation third = b.run(slow_up());
  EXPECT_EQ(third.result.outcome, Outcome::kDegraded);
  EXPECT_EQ(third.result.kind, ErrorKind::kSlow);
  // The window's p95 of 400 ms samples, within the sketch's 1 %.
  ASSERT_EQ(third.result.cause.rfind("p95 ", 0), 0u) << third.result.cause;
  EXPECT_NEAR(std::stod(third.result.cause.substr(4)), 400, 4) << third.result.cause;
  EXPECT_NE(third.result.cause.find(" ms > 100 ms over the last 15m (3 samples)"),
            std::string::npos)
      << third.result.cause;
  EXPECT_EQ(third.state_row.last_outcome, Outcome::kDegraded);
  EXPECT_EQ(third.state_row.last_cause, third.result.cause);
  EXPECT_EQ(third.event, RunEvent::kRunFailed) << "fail_after 2: one slow run is not a change";
  ASSERT_TRUE(b.state->slo_last.has_value());
  EXPECT_TRUE(b.state->slo_last->breached);
  EXPECT_EQ(b.state->slo_last->samples, 3u);

  const Evaluation fourth = b.run(slow_up());
  EXPECT_EQ(fourth.after, State::kDegraded);
  EXPECT_EQ(fourth.event, RunEvent::kNowBad);
  // A run that failed on its own keeps its outcome, kind and cause.
  const Evaluation down = b.run(run_of(Outcome::kDown));
  EXPECT_EQ(down.result.outcome, Outcome::kDown);
  EXPECT_EQ(down.result.kind, ErrorKind::kConnect);
  EXPECT_EQ(down.result.cause, "connection refused");
  // Once the slow samples have left the window, an up run is up again.
  b.clock.advance(minutes(20));
  ProbeResult fast = run_of(Outcome::kUp);
  fast.samples_us = {10'000};
  const Evaluation recovered = b.run(fast);
  EXPECT_EQ(recovered.result.outcome, Outcome::kUp);
  EXPECT_EQ(recovered.result.kind, ErrorKind::kNone);
  EXPECT_FALSE(b.state->slo_last->breached);
  EXPECT_EQ(b.state->slo_last->samples, 1u);
}

TEST(Evaluator, WithoutSloTheSamplesChangeNothing) {
  EvalBench b;
  ProbeResult r = run_of(Outcome::kUp);
  r.samples_us = {90'000'000};
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(b.run(r).result.outcome, Outcome::kUp);
  }
  EXPECT_FALSE(b.state->slo.has_value());
  EXPECT_FALSE(b.state->slo_last.has_value());
}

TEST(Evaluator, MaintenancePassesThroughAndSuppressesAlerts) {
  EvalBench b;
  b.run(run_of(Outcome::kUp));
  b.run(run_of(Outcome::kDown), true);
  const Evaluation down = b.run(run_of(Outcome::kDown), true);
  EXPECT_TRUE(down.result.maintenance);
  EXPECT_EQ(down.after, State::kDown) << "the state still follows the runs";
  EXPECT_EQ(down.event, RunEvent::kNowBad);
  EXPECT_TRUE(down.alerts.empty());
  EXPECT_TRUE(b.alerts.open_incidents().empty());
  // The window over and the monitor still down: the incident opens then.
  const Evaluation after = b.run(run_of(Outcome::kDown));
  EXPECT_FALSE(after.result.maintenance);
  EXPECT_EQ(alert_events(after.alerts), std::vector<std::string>{"incident.opened:hook"});
  // A recovery in the next window resolves it without a notification.
  b.run(run_of(Outcome::kUp), true);
  const Evaluation up = b.run(run_of(Outcome::kUp), true);
  EXPECT_EQ(up.after, State::kUp);
  EXPECT_EQ(alert_events(up.alerts), std::vector<std::string>{"incident.resolved"});
  EXPECT_TRUE(b.alerts.open_incidents().empty());
}

TEST(Evaluator, AStateChangeOpensAnIncidentAndARecoveryResolvesIt) {
  EvalBench b;
  EXPECT_TRUE(b.run(run_of(Outcome::kUp)).alerts.empty());
  EXPECT_TRUE(b.run(run_of(Outcome::kDown)).alerts.empty()) << "one failure of fail_after 2";
  const Evaluation opened = b.run(run_of(Outcome::kDown));
  EXPECT_EQ(alert_events(opened.alerts), std::vector<std::string>{"incident.opened:hook"});
  ASSERT_EQ(opened.alerts.incidents.size(), 1u);
  const IncidentRecord& inc = opened.alerts.incidents[0];
  EXPECT_EQ(inc.monitor, "portal-api");
  EXPECT_EQ(inc.state, State::kDown);
  EXPECT_EQ(inc.started_at, b.judged);
  EXPECT_TRUE(b.run(run_of(Outcome::kDown)).alerts.empty());
  EXPECT_TRUE(b.run(run_of(Outcome::kUp)).alerts.empty()) << "one pass of recover_after 2";
  const Evaluation resolved = b.run(run_of(Outcome::kUp));
  EXPECT_EQ(alert_events(resolved.alerts), std::vector<std::string>{"incident.resolved:hook"});
  ASSERT_EQ(resolved.alerts.incidents.size(), 1u);
  EXPECT_EQ(resolved.alerts.incidents[0].id, inc.id);
  EXPECT_EQ(resolved.alerts.incidents[0].resolved_at, b.judged);
}

TEST(Evaluator, TheCausePassesThrough) {
  EvalBench b;
  b.monitor().fail_after = 1;
  const std::string cause = "expected status 2xx, got 503";
  const Evaluation e = b.run(run_of(Outcome::kDown, cause));
  EXPECT_EQ(e.result.cause, cause);
  EXPECT_EQ(e.state_row.last_cause, cause);
  EXPECT_EQ(b.state->cause, cause);
  ASSERT_EQ(e.alerts.incidents.size(), 1u);
  EXPECT_EQ(e.alerts.incidents[0].cause, cause);
  ASSERT_EQ(e.alerts.events.size(), 1u);
  ASSERT_EQ(e.alerts.events[0].notifications.size(), 1u);
  EXPECT_EQ(nlohmann::json::parse(e.alerts.events[0].notifications[0].payload)["cause"], cause);
  // An up run clears it.
  EXPECT_EQ(b.run(run_of(Outcome::kUp)).state_row.last_cause, "");
  EXPECT_EQ(b.state->cause, "");
}

TEST(Evaluator, RowsAndCountersDescribeTheRun) {
  EvalBench b;
  ProbeResult r = run_of(Outcome::kDown, "expected status 2xx, got 500");
  r.kind = ErrorKind::kExpectation;
  r.http_status = 500;
  r.timings.dns_us = 1'000;
  r.timings.total_us = 42'000;
  r.detail = R"({"body":"oops"})";
  r.samples_us = {42'000};
  r.cert_not_after = WallTime{seconds(2'000'000'000)};
  r.answers = std::vector<std::string>{"192.0.2.1"};
  const Evaluation e = b.run(r);
  EXPECT_EQ(e.result.monitor, "portal-api");
  EXPECT_EQ(e.result.t_ms, to_unix_ms(b.started));
  EXPECT_EQ(e.result.outcome, Outcome::kDown);
  EXPECT_EQ(e.result.http_status, 500);
  EXPECT_EQ(e.result.kind, ErrorKind::kExpectation);
  EXPECT_EQ(e.result.timings.dns_us, 1'000);
  EXPECT_EQ(e.result.timings.total_us, 42'000);
  EXPECT_EQ(e.result.detail, r.detail);
  EXPECT_EQ(e.result.samples_us, r.samples_us);
  EXPECT_FALSE(e.result.maintenance);
  EXPECT_EQ(e.state_row.monitor, "portal-api");
  EXPECT_EQ(e.state_row.since_ms, to_unix_ms(b.judged));
  EXPECT_EQ(e.state_row.recent, "d");
  EXPECT_EQ(e.state_row.last_check_ms, to_unix_ms(b.started));
  EXPECT_EQ(e.state_row.last_latency_us, 42'000);

  // A run without a certificate or answers keeps the last ones seen.
  const Evaluation up = b.run(run_of(Outcome::kUp));
  EXPECT_FALSE(up.state_row.last_latency_us.has_value());
  const EvaluationState& s = *b.state;
  EXPECT_EQ(s.runs, 2u);
  EXPECT_EQ(s.failures, 1u);
  EXPECT_EQ(s.last_check, b.started);
  EXPECT_EQ(s.last_outcome, Outcome::kUp);
  EXPECT_FALSE(s.latency_us.has_value());
  EXPECT_EQ(s.cert_not_after, r.cert_not_after);
  EXPECT_EQ(s.last_answers, r.answers);
}

TEST(Evaluator, AStoredStateCarriesOnItsStreak) {
  EvalBench b;
  b.run(run_of(Outcome::kUp));
  b.run(run_of(Outcome::kDown));
  const StateRow stored = b.run(run_of(Outcome::kDown)).state_row;
  ASSERT_EQ(stored.state, "down");

  // As after a restart: a new engine and state from the stored row.
  EvalBench again;
  again.state.emplace(again.monitor(), stored);
  EXPECT_EQ(again.state->sm.state(), State::kDown);
  EXPECT_EQ(to_unix_ms(again.state->sm.since()), stored.since_ms);
  EXPECT_EQ(again.state->last_check, from_unix_ms(*stored.last_check_ms));
  EXPECT_EQ(again.state->cause, "connection refused");
  EXPECT_EQ(again.state->runs, 0u);
  const Evaluation first = again.run(run_of(Outcome::kUp));
  EXPECT_EQ(first.before, State::kDown);
  EXPECT_FALSE(first.changed);
  EXPECT_EQ(first.state_row.recent, "uddu");
  EXPECT_EQ(again.run(run_of(Outcome::kUp)).event, RunEvent::kNowUp);
}

}  // namespace
}  // namespace lookout
