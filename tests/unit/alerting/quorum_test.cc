#include "alerting/quorum.h"

#include <gtest/gtest.h>

#include "config/kinds/heartbeat_spec.h"
#include "config/kinds/http_spec.h"

namespace lookout {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

WallTime at_second(int64_t s) { return WallTime{} + std::chrono::hours(1000) + seconds(s); }

// A monitor run every 10 s with a 5 s timeout, in a cluster whose lease is 10 s: a location's
// newest run counts for 35 s. fail_after = recover_after = 2.
MonitorConfig quorum_monitor() {
  MonitorConfig m;
  m.name = "portal-home";
  m.interval = seconds(10);
  m.timeout = seconds(5);
  m.spec = std::make_shared<HttpSpec>();
  return m;
}

QuorumRules rules_with(std::optional<int> quorum) {
  ClusterConfig cluster;
  cluster.lease = seconds(10);
  cluster.quorum = quorum;
  return quorum_rules(quorum_monitor(), cluster);
}

constexpr Outcome kUpRun = Outcome::kUp, kDegradedRun = Outcome::kDegraded,
                  kDownRun = Outcome::kDown;

// A monitor's quorum on the deciding node, with each location's judge on the node probing from
// there; a report reaches the database as its run starts (the tests' one clock).
struct Watched : MonitorQuorum {
  std::map<std::string, LocationJudge> judges;
};

// Feeds one run of `location` started at second `s`, with a cause naming the location so that
// tests can tell whose cause a monitor shows.
void report(Watched& q, const std::string& location, Outcome o, int64_t s) {
  LocationRun run;
  run.outcome = o;
  run.started_at = at_second(s);
  if (o == kDownRun) {
    run.cause = "expected status 200, got 503 at " + location;
  } else if (o == kDegradedRun) {
    run.cause = "p95 above 200ms at " + location;
  } else {
    run.latency_us = 42'000;
  }
  LocationJudge& judge = q.judges[location];
  judge.add_run(run, 2, 2);
  q.set_location(location, judge.report(), run.started_at);
}

// Every location in `locations` reports `o` at `s`.
void report_all(Watched& q, const std::vector<std::string>& locations, Outcome o, int64_t s) {
  for (const auto& l : locations) report(q, l, o, s);
}

TEST(Quorum, FreshnessIsTwoIntervalsATimeoutAndTheLease) {
  MonitorConfig m = quorum_monitor();
  m.interval = seconds(60);
  m.timeout = seconds(10);
  EXPECT_EQ(freshness_bound(m, seconds(10)), seconds(140));
  EXPECT_EQ(rules_with(std::nullopt).fresh_for, seconds(35));
  EXPECT_EQ(rules_with(2).quorum, 2);
  EXPECT_FALSE(rules_with(std::nullopt).quorum.has_value());
}

// A heartbeat has no locations: its state is what its last run said, and it stays so while
// no location reports (none ever does).
TEST(Quorum, AMonitorJudgedAloneTakesTheStateItsRunSays) {
  MonitorQuorum q;
  q.restore(State::kUp, at_second(0), "");
  const QuorumDecision late = q.set(State::kDown, at_second(40), "no ping since then");
  EXPECT_TRUE(late.changed);
  EXPECT_EQ(late.before, State::kUp);
  EXPECT_EQ(late.after, State::kDown);
  EXPECT_EQ(late.cause, "no ping since then");
  EXPECT_EQ(q.since(), at_second(40));
  const QuorumDecision failed = q.set(State::kDown, at_second(50), "disk full");
  EXPECT_FALSE(failed.changed);
  EXPECT_EQ(q.since(), at_second(40)) << "since moves only on a change";
  EXPECT_EQ(q.cause(), "disk full");
  const QuorumDecision none = q.decide(at_second(100), rules_with(std::nullopt));
  EXPECT_FALSE(none.changed);
  EXPECT_EQ(q.state(), State::kDown);
}

TEST(Quorum, OneLocationDownOfThreeKeepsTheMonitorUp) {
  Watched q;
  report_all(q, {"fra", "nyc", "sgp"}, kUpRun, 0);
  QuorumDecision d = q.decide(at_second(1), rules_with(std::nullopt));
  EXPECT_TRUE(d.changed);
  EXPECT_EQ(d.after, State::kUp);

  report(q, "fra", kDownRun, 10);
  report_all(q, {"nyc", "sgp"}, kUpRun, 10);
  report(q, "fra", kDownRun, 20);
  report_all(q, {"nyc", "sgp"}, kUpRun, 20);
  d = q.decide(at_second(21), rules_with(std::nullopt));
  EXPECT_FALSE(d.changed);
  EXPECT_EQ(d.before, State::kUp);
  EXPECT_EQ(d.after, State::kUp);
  EXPECT_EQ(d.cause, "");
  // The failing location still shows, with its own cause.
  const auto view = q.view(at_second(21), seconds(35));
  ASSERT_EQ(view.size(), 3U);
  EXPECT_EQ(view[0].location, "fra");
  EXPECT_EQ(view[0].state, State::kDown);
  EXPECT_EQ(view[0].cause, "expected status 200, got 503 at fra");
  EXPECT_EQ(view[1].state, State::kUp);
}

TEST(Quorum, TwoLocationsDownOfThreeIsDownNamingThem) {
  Watched q;
  report_all(q, {"fra", "nyc", "sgp"}, kUpRun, 0);
  q.decide(at_second(1), rules_with(std::nullopt));
  report_all(q, {"fra", "nyc"}, kDownRun, 10);
  report(q, "sgp", kUpRun, 10);
  // One down run each: neither location says down before its fail_after.
  EXPECT_EQ(q.decide(at_second(11), rules_with(std::nullopt)).after, State::kUp);

  report_all(q, {"fra", "nyc"}, kDownRun, 20);
  report(q, "sgp", kUpRun, 20);
  // The locations applied fail_after; the monitor follows them at once, without a second one.
  const QuorumDecision d = q.decide(at_second(21), rules_with(std::nullopt));
  EXPECT_TRUE(d.changed);
  EXPECT_EQ(d.before, State::kUp);
  EXPECT_EQ(d.after, State::kDown);
  EXPECT_EQ(d.cause, "down from fra, nyc (2 of 3): expected status 200, got 503 at fra");
  EXPECT_EQ(q.state(), State::kDown);
  EXPECT_EQ(q.since(), at_second(21));
  EXPECT_EQ(q.cause(), d.cause);

  // Staying down changes nothing, not even since.
  report_all(q, {"fra", "nyc"}, kDownRun, 30);
  report(q, "sgp", kUpRun, 30);
  EXPECT_FALSE(q.decide(at_second(31), rules_with(std::nullopt)).changed);
  EXPECT_EQ(q.since(), at_second(21));
}

TEST(Quorum, UpAgainOnceFewerThanTheQuorumSayDown) {
  Watched q;
  report_all(q, {"fra", "nyc"}, kDownRun, 0);
  report(q, "sgp", kUpRun, 0);
  ASSERT_EQ(q.decide(at_second(1), rules_with(std::nullopt)).after, State::kDown);

  // nyc's first up run leaves it down until its recover_after.
  report(q, "fra", kDownRun, 10);
  report_all(q, {"nyc", "sgp"}, kUpRun, 10);
  EXPECT_EQ(q.decide(at_second(11), rules_with(std::nullopt)).after, State::kDown);

  report(q, "fra", kDownRun, 20);
  report_all(q, {"nyc", "sgp"}, kUpRun, 20);
  const QuorumDecision d = q.decide(at_second(21), rules_with(std::nullopt));
  EXPECT_TRUE(d.changed);
  EXPECT_EQ(d.after, State::kUp);
  EXPECT_EQ(d.cause, "");
  EXPECT_EQ(q.since(), at_second(21));
}

TEST(Quorum, AStaleLocationStopsCounting) {
  Watched q;
  report_all(q, {"fra", "nyc"}, kDownRun, 0);
  report(q, "sgp", kUpRun, 0);
  EXPECT_EQ(q.decide(at_second(1), rules_with(std::nullopt)).cause,
            "down from fra, nyc (2 of 3): expected status 200, got 503 at fra");

  // sgp sends nothing more; fra and nyc go on. sgp's run at 0 counts up to 35 s, not after.
  for (int64_t s = 10; s <= 40; s += 10) report_all(q, {"fra", "nyc"}, kDownRun, s);
  EXPECT_EQ(q.decide(at_second(35), rules_with(std::nullopt)).cause,
            "down from fra, nyc (2 of 3): expected status 200, got 503 at fra");
  const QuorumDecision d = q.decide(at_second(35) + milliseconds(1), rules_with(std::nullopt));
  EXPECT_FALSE(d.changed);
  EXPECT_EQ(d.cause, "down from fra, nyc (2 of 2): expected status 200, got 503 at fra");
  EXPECT_EQ(q.view(at_second(36), seconds(35))[2].state, State::kUnknown);
}

TEST(Quorum, FewerFreshLocationsThanTheQuorumMustAllSayDown) {
  // quorum = 2: fra alone says down while nyc and sgp say up, then nyc and sgp fall silent.
  Watched q;
  report(q, "fra", kDownRun, 0);
  report_all(q, {"nyc", "sgp"}, kUpRun, 0);
  EXPECT_EQ(q.decide(at_second(1), rules_with(2)).after, State::kUp);
  for (int64_t s = 10; s <= 40; s += 10) report(q, "fra", kDownRun, s);
  const QuorumDecision d = q.decide(at_second(41), rules_with(2));
  EXPECT_TRUE(d.changed);
  EXPECT_EQ(d.after, State::kDown);
  EXPECT_EQ(d.cause, "down from fra (1 of 1): expected status 200, got 503 at fra");

  // quorum = 3 with two fresh locations: both down is down, one of them is not.
  Watched both;
  report_all(both, {"fra", "nyc"}, kDownRun, 0);
  EXPECT_EQ(both.decide(at_second(1), rules_with(3)).cause,
            "down from fra, nyc (2 of 2): expected status 200, got 503 at fra");
  Watched one;
  report(one, "fra", kDownRun, 0);
  report(one, "nyc", kUpRun, 0);
  EXPECT_EQ(one.decide(at_second(1), rules_with(3)).after, State::kUp);
}

TEST(Quorum, ExplicitQuorumAgainstTheDefaultMajority) {
  // Two of four down: not a majority (3), but the quorum when it is set to 2.
  Watched q;
  report_all(q, {"ams", "fra"}, kDownRun, 0);
  report_all(q, {"nyc", "sgp"}, kUpRun, 0);
  EXPECT_EQ(q.decide(at_second(1), rules_with(std::nullopt)).after, State::kUp);
  const QuorumDecision d = q.decide(at_second(2), rules_with(2));
  EXPECT_EQ(d.after, State::kDown);
  EXPECT_EQ(d.cause, "down from ams, fra (2 of 4): expected status 200, got 503 at ams");

  // One of two: a majority of two is both.
  Watched pair;
  report(pair, "fra", kDownRun, 0);
  report(pair, "nyc", kUpRun, 0);
  EXPECT_EQ(pair.decide(at_second(1), rules_with(std::nullopt)).after, State::kUp);
  EXPECT_EQ(pair.decide(at_second(2), rules_with(1)).after, State::kDown);

  // Three of five is a majority.
  Watched five;
  report_all(five, {"ams", "fra", "nyc"}, kDownRun, 0);
  report_all(five, {"sgp", "syd"}, kUpRun, 0);
  EXPECT_EQ(five.decide(at_second(1), rules_with(std::nullopt)).cause,
            "down from ams, fra, nyc (3 of 5): expected status 200, got 503 at ams");
}

TEST(Quorum, DegradedCountsDegradedAndDownLocations) {
  // Two degraded of three.
  Watched q;
  report_all(q, {"fra", "nyc"}, kDegradedRun, 0);
  report(q, "sgp", kUpRun, 0);
  EXPECT_EQ(q.decide(at_second(1), rules_with(std::nullopt)).cause,
            "degraded from fra, nyc (2 of 3): p95 above 200ms at fra");

  // One down and one degraded: degraded, with the cause of the degraded one.
  Watched mixed;
  report(mixed, "fra", kDownRun, 0);
  report(mixed, "nyc", kDegradedRun, 0);
  report(mixed, "sgp", kUpRun, 0);
  const QuorumDecision d = mixed.decide(at_second(1), rules_with(std::nullopt));
  EXPECT_EQ(d.after, State::kDegraded);
  EXPECT_EQ(d.cause, "degraded from fra, nyc (2 of 3): p95 above 200ms at nyc");

  // Down wins once enough say down: it names only the down ones.
  report(mixed, "sgp", kDownRun, 10);
  report(mixed, "sgp", kDownRun, 20);
  report(mixed, "fra", kDownRun, 20);
  report(mixed, "nyc", kDegradedRun, 20);
  EXPECT_EQ(mixed.decide(at_second(21), rules_with(std::nullopt)).cause,
            "down from fra, sgp (2 of 3): expected status 200, got 503 at fra");

  // One degraded of three is up.
  Watched lone;
  report(lone, "fra", kDegradedRun, 0);
  report_all(lone, {"nyc", "sgp"}, kUpRun, 0);
  EXPECT_EQ(lone.decide(at_second(1), rules_with(std::nullopt)).after, State::kUp);
}

TEST(Quorum, NoFreshLocationKeepsTheState) {
  Watched never;
  const QuorumDecision first = never.decide(at_second(0), rules_with(std::nullopt));
  EXPECT_EQ(first.after, State::kUnknown);
  EXPECT_FALSE(first.changed);

  Watched q;
  report_all(q, {"fra", "nyc"}, kDownRun, 0);
  ASSERT_TRUE(q.decide(at_second(1), rules_with(std::nullopt)).changed);
  const QuorumDecision d = q.decide(at_second(100), rules_with(std::nullopt));
  EXPECT_FALSE(d.changed);
  EXPECT_EQ(d.after, State::kDown);
  EXPECT_EQ(d.cause, "down from fra, nyc (2 of 2): expected status 200, got 503 at fra");
  EXPECT_EQ(q.since(), at_second(1));
  for (const LocationView& v : q.view(at_second(100), seconds(35))) {
    EXPECT_EQ(v.state, State::kUnknown);
  }
}

TEST(Quorum, TheCauseDoesNotDependOnTheOrderOfReports) {
  // The same runs in two orders: the cause is the alphabetically first down location's.
  const std::vector<std::string> orders[] = {{"sgp", "ams", "fra", "nyc"},
                                             {"nyc", "fra", "ams", "sgp"}};
  std::vector<std::string> causes;
  for (const auto& order : orders) {
    Watched q;
    for (int64_t s : {0, 10}) {
      for (const auto& l : order) report(q, l, l == "ams" ? kUpRun : kDownRun, s);
    }
    causes.push_back(q.decide(at_second(11), rules_with(std::nullopt)).cause);
  }
  EXPECT_EQ(causes[0], "down from fra, nyc, sgp (3 of 4): expected status 200, got 503 at fra");
  EXPECT_EQ(causes[1], causes[0]);
}

// A run of one location at second `s`: a timeout when down.
LocationRun run_at(Outcome o, int64_t s) {
  LocationRun r;
  r.outcome = o;
  if (o != kUpRun) r.cause = "timeout after 5s";
  r.started_at = at_second(s);
  return r;
}

TEST(Quorum, AnOlderRunIsNotCounted) {
  LocationJudge fra;
  LocationRun up;
  up.started_at = at_second(20);
  EXPECT_TRUE(fra.add_run(up, 2, 2));
  EXPECT_FALSE(fra.add_run(run_at(kDownRun, 10), 1, 1));
  EXPECT_EQ(fra.report().state, State::kUp);
  EXPECT_EQ(fra.report().last_check, at_second(20));
  EXPECT_EQ(fra.report().cause, "");
}

TEST(Quorum, ANodeThatTakesALocationsMonitorOverCarriesOnWithItsStreak) {
  LocationJudge first;
  first.add_run(run_at(kDownRun, 0), 2, 2);
  EXPECT_EQ(first.report().state, State::kDown);
  // The next node of the location starts from the report kept in the database: its first up
  // run is the first of two, and the location still says down, and why.
  LocationJudge next(first.report());
  EXPECT_EQ(next.report(), first.report());
  LocationRun up;
  up.started_at = at_second(10);
  up.latency_us = 42'000;
  EXPECT_TRUE(next.add_run(up, 2, 2));
  EXPECT_EQ(next.report().state, State::kDown);
  EXPECT_EQ(next.report().since, at_second(0));
  EXPECT_EQ(next.report().cause, "timeout after 5s");
  up.started_at = at_second(20);
  next.add_run(up, 2, 2);
  EXPECT_EQ(next.report().state, State::kUp);
  EXPECT_EQ(next.report().since, at_second(20));
  EXPECT_EQ(next.report().cause, "");
  // A judge that started over would have believed the first up run at once.
  LocationJudge over;
  up.started_at = at_second(10);
  over.add_run(up, 2, 2);
  EXPECT_EQ(over.report().state, State::kUp);
}

TEST(Quorum, AJudgeCarryingOnFromAnotherNodesReportTakesItsFirstRunWhateverItsClock) {
  LocationJudge first;
  first.add_run(run_at(kDownRun, 100), 2, 2);
  // The next node's clock is a minute behind: its run "started" before the kept one.
  LocationJudge next(first.report());
  EXPECT_TRUE(next.add_run(run_at(kUpRun, 50), 2, 2));
  EXPECT_EQ(next.report().last_check, at_second(50));
  // Its own runs are compared with each other.
  EXPECT_FALSE(next.add_run(run_at(kUpRun, 40), 2, 2));
}

TEST(Quorum, FreshnessCountsFromWhenTheDatabaseHeardTheReportNotTheNodesClock) {
  // fra's node runs 10 minutes behind: its runs start "10 minutes ago" by the database's clock,
  // yet each report was just written, so fra counts.
  Watched q;
  for (const char* l : {"fra", "nyc"}) {
    LocationJudge judge;
    LocationRun run;
    run.outcome = kDownRun;
    run.cause = std::string("refused at ") + l;
    for (int64_t s : {0, 10}) {
      run.started_at = at_second(s) - (std::string(l) == "fra" ? seconds(600) : seconds(0));
      judge.add_run(run, 2, 2);
    }
    q.set_location(l, judge.report(), at_second(11));
  }
  const QuorumDecision d = q.decide(at_second(12), rules_with(std::nullopt));
  EXPECT_EQ(d.after, State::kDown);
  EXPECT_EQ(d.cause, "down from fra, nyc (2 of 2): refused at fra");
  // The view shows each location's own run time; freshness is the database's.
  const auto view = q.view(at_second(12), seconds(35));
  EXPECT_EQ(view[0].last_check, at_second(10) - seconds(600));
  EXPECT_EQ(view[0].state, State::kDown);
  // Heard 36 s ago: stale, whatever its run time says.
  EXPECT_EQ(q.view(at_second(47), seconds(35))[0].state, State::kUnknown);
}

TEST(Quorum, ALocationKeepsItsCauseUntilAnUpRunFindsItUp) {
  Watched q;
  report(q, "fra", kUpRun, 0);
  report(q, "fra", kDownRun, 10);
  // Up with one failed run: the run's cause shows.
  EXPECT_EQ(q.view(at_second(11), seconds(35))[0].cause, "expected status 200, got 503 at fra");
  report(q, "fra", kDownRun, 20);
  report(q, "fra", kUpRun, 30);
  // Down while it recovers: still why, and the up run's latency.
  const LocationView recovering = q.view(at_second(31), seconds(35))[0];
  EXPECT_EQ(recovering.state, State::kDown);
  EXPECT_EQ(recovering.cause, "expected status 200, got 503 at fra");
  EXPECT_EQ(recovering.latency_us, 42'000);
  EXPECT_EQ(recovering.last_check, at_second(30));
  report(q, "fra", kUpRun, 40);
  EXPECT_EQ(q.view(at_second(41), seconds(35))[0].state, State::kUp);
  EXPECT_EQ(q.view(at_second(41), seconds(35))[0].cause, "");
}

TEST(Quorum, ARestoredStateIsCarriedOnFromAtATakeover) {
  Watched q;
  q.restore(State::kDown, at_second(0), "down from fra, nyc (2 of 2): refused");
  report_all(q, {"fra", "nyc"}, kDownRun, 10);
  const QuorumDecision same = q.decide(at_second(11), rules_with(std::nullopt));
  EXPECT_FALSE(same.changed);
  EXPECT_EQ(q.since(), at_second(0));
  Watched fresh;
  report_all(fresh, {"fra", "nyc"}, kDownRun, 10);
  EXPECT_TRUE(fresh.decide(at_second(11), rules_with(std::nullopt)).changed);
}

TEST(Quorum, SilenceBoundIsTheShortestFreshnessOfTheLocationsMonitors) {
  MonitorConfig everywhere = quorum_monitor();  // 35 s with a 10 s lease
  MonitorConfig slow = quorum_monitor();
  slow.interval = seconds(60);
  slow.locations = std::vector<std::string>{"fra", "sgp"};
  MonitorConfig fast_fra = quorum_monitor();
  fast_fra.interval = seconds(5);
  fast_fra.timeout = seconds(1);
  fast_fra.locations = std::vector<std::string>{"fra"};
  MonitorConfig pinged = quorum_monitor();  // a heartbeat: no location sends its results
  pinged.interval = seconds(1);
  pinged.spec = std::make_shared<HeartbeatSpec>();

  const std::vector<MonitorConfig> all{everywhere, slow, fast_fra, pinged};
  EXPECT_EQ(silence_bound(all, "fra", seconds(10)), seconds(21));
  EXPECT_EQ(silence_bound(all, "nyc", seconds(10)), seconds(35));
  EXPECT_EQ(silence_bound({slow, pinged}, "sgp", seconds(10)), seconds(135));
  EXPECT_EQ(silence_bound({slow, pinged}, "nyc", seconds(10)), std::nullopt);
}

TEST(Quorum, SilentLocationsAreNamedWithHowLongTheyHaveBeenQuiet) {
  const WallTime now = at_second(1000);
  const WallTime started = at_second(900);  // when the deciding node began to watch
  const std::vector<LocationActivity> activity{
      {"sgp", std::nullopt, at_second(940), seconds(35)},  // nothing since it was added
      {"nyc", at_second(954) + milliseconds(700), started, seconds(35)},  // quiet 45.3 s
      {"fra", at_second(990), started, seconds(35)},
      {"ams", at_second(965), started, seconds(35)},  // exactly at the bound: not yet
      // Its newest result is from long before the decider started: it gets the bound from then.
      {"syd", at_second(100), at_second(980), seconds(35)},
  };
  const auto silent = silent_locations(activity, now);
  ASSERT_EQ(silent.size(), 2U);
  EXPECT_EQ(silent[0].location, "nyc");
  EXPECT_EQ(silent[0].silent_for, milliseconds(45'300));
  EXPECT_EQ(silent[0].message, "location nyc has sent no results for 45s");
  EXPECT_EQ(silent[1].location, "sgp");
  EXPECT_EQ(silent[1].message, "location sgp has sent no results for 1m");
}

}  // namespace
}  // namespace lookout
