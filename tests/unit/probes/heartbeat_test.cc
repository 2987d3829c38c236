#include "probes/heartbeat.h"

#include <gtest/gtest.h>

namespace lookout {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

const WallTime kT0{seconds{1'796'090'400}};  // 2026-12-01T02:00:00Z

HeartbeatSpec every_hour(Duration grace = Duration{300'000}) {
  HeartbeatSpec s;
  s.period = Duration{3'600'000};
  s.grace = grace;
  return s;
}

Ping ping(Ping::Kind kind, WallTime at, std::string body = "", std::string rid = "") {
  Ping p;
  p.kind = kind;
  p.at = at;
  p.body = std::move(body);
  p.rid = std::move(rid);
  return p;
}

TEST(Heartbeat, PathSuffixesNameThePing) {
  EXPECT_EQ(ping_of("")->kind, Ping::Kind::kSuccess);
  EXPECT_EQ(ping_of("start")->kind, Ping::Kind::kStart);
  EXPECT_EQ(ping_of("fail")->kind, Ping::Kind::kFail);
  EXPECT_EQ(ping_of("log")->kind, Ping::Kind::kLog);
  EXPECT_EQ(ping_of("0")->exit_status, 0);
  EXPECT_EQ(ping_of("255")->exit_status, 255);
  for (const char* bad : {"256", "-1", "01", "1x", "started", "FAIL", " 1"}) {
    EXPECT_FALSE(ping_of(bad)) << bad;
  }
}

TEST(Heartbeat, NoDeadlineBeforeTheFirstPingThenPeriodPlusGrace) {
  const auto spec = every_hour();
  HeartbeatTracker t(spec);
  EXPECT_FALSE(t.deadline());
  EXPECT_FALSE(t.next_due());
  const auto r = t.on_ping(ping(Ping::Kind::kSuccess, kT0));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome, Outcome::kUp);
  EXPECT_EQ(t.next_due(), kT0 + hours(1));
  EXPECT_EQ(t.deadline(), kT0 + hours(1) + minutes(5));
  EXPECT_EQ(t.last_ping(), kT0);
}

TEST(Heartbeat, ALateJobIsDownWithTheLastPingAndTheDueTimeThenWaits) {
  const auto spec = every_hour();
  HeartbeatTracker t(spec);
  t.on_ping(ping(Ping::Kind::kSuccess, kT0 + seconds(12)));
  const auto r = t.overdue(kT0 + hours(1) + minutes(5) + seconds(12));
  EXPECT_EQ(r.outcome, Outcome::kDown);
  EXPECT_EQ(r.kind, ErrorKind::kLate);
  EXPECT_EQ(r.cause, "no ping since 2026-12-01T02:00:12Z; due by 2026-12-01T03:05:12Z");
  EXPECT_FALSE(t.deadline()) << "down until the next ping: no second late run";
  EXPECT_EQ(t.on_ping(ping(Ping::Kind::kSuccess, kT0 + hours(2)))->outcome, Outcome::kUp);
  EXPECT_EQ(t.deadline(), kT0 + hours(3) + minutes(5));
}

TEST(Heartbeat, FailuresAndExitStatusesSayWhatTheJobSaid) {
  const auto spec = every_hour();
  HeartbeatTracker t(spec);
  auto r = t.on_ping(ping(Ping::Kind::kFail, kT0, "disk full\nmore detail"));
  EXPECT_EQ(r->outcome, Outcome::kDown);
  EXPECT_EQ(r->kind, ErrorKind::kJobFailed);
  EXPECT_EQ(r->cause, "disk full");
  EXPECT_EQ(r->detail, R"({"message":"disk full\nmore detail"})");
  EXPECT_FALSE(t.deadline()) << "a failed job is down already";
  r = t.on_ping(ping(Ping::Kind::kFail, kT0));
  EXPECT_EQ(r->cause, "the job reported a failure");
  auto exit3 = ping(Ping::Kind::kExitStatus, kT0);
  exit3.exit_status = 3;
  EXPECT_EQ(t.on_ping(exit3)->cause, "the job exited with status 3");
  auto exit0 = ping(Ping::Kind::kExitStatus, kT0);
  EXPECT_EQ(t.on_ping(exit0)->outcome, Outcome::kUp);
  EXPECT_EQ(t.on_ping(ping(Ping::Kind::kFail, kT0, std::string(300, 'x')))->cause.size(), 200u);
}

TEST(Heartbeat, StartsAndLogsJudgeNothingAndARunsTimeIsItsLatency) {
  auto spec = every_hour();
  spec.max_runtime = Duration{600'000};
  HeartbeatTracker t(spec);
  EXPECT_FALSE(t.on_ping(ping(Ping::Kind::kLog, kT0, "hello")));
  EXPECT_FALSE(t.on_ping(ping(Ping::Kind::kStart, kT0)));
  EXPECT_EQ(t.deadline(), kT0 + minutes(10)) << "max_runtime runs from the start";
  const auto r = t.on_ping(ping(Ping::Kind::kSuccess, kT0 + seconds(90)));
  EXPECT_EQ(r->timings.total_us, 90'000'000);
  EXPECT_EQ(r->samples_us, std::vector<int64_t>{90'000'000});
  EXPECT_EQ(r->started_at, kT0 + seconds(90)) << "stored when it ended, as the last ping";
  EXPECT_EQ(t.deadline(), kT0 + seconds(90) + hours(1) + minutes(5));
}

TEST(Heartbeat, RunIdsPairOverlappingRuns) {
  const auto spec = every_hour();
  HeartbeatTracker t(spec);
  t.on_ping(ping(Ping::Kind::kStart, kT0, "", "a"));
  t.on_ping(ping(Ping::Kind::kStart, kT0 + seconds(10), "", "b"));
  EXPECT_EQ(t.on_ping(ping(Ping::Kind::kSuccess, kT0 + seconds(30), "", "a"))->timings.total_us,
            30'000'000);
  EXPECT_EQ(t.on_ping(ping(Ping::Kind::kSuccess, kT0 + seconds(40), "", "b"))->timings.total_us,
            30'000'000);
  EXPECT_FALSE(t.on_ping(ping(Ping::Kind::kSuccess, kT0 + seconds(50), "", "c"))->timings.total_us)
      << "an end without a start has no run time";
}

TEST(Heartbeat, ARunPastMaxRuntimeIsLateAndNamesItsStart) {
  auto spec = every_hour();
  spec.max_runtime = Duration{600'000};
  HeartbeatTracker t(spec);
  t.on_ping(ping(Ping::Kind::kSuccess, kT0));
  t.on_ping(ping(Ping::Kind::kStart, kT0 + minutes(58)));
  EXPECT_EQ(t.deadline(), kT0 + minutes(65)) << "due plus grace comes first";
  const auto late = t.overdue(kT0 + minutes(65));
  EXPECT_EQ(late.cause, "no ping since 2026-12-01T02:00:00Z; due by 2026-12-01T03:05:00Z");
  EXPECT_EQ(t.deadline(), kT0 + minutes(68)) << "the run's own limit is still ahead";
  const auto over = t.overdue(kT0 + minutes(68));
  EXPECT_EQ(over.cause,
            "started at 2026-12-01T02:58:00Z and did not finish within max_runtime 10m");
  EXPECT_FALSE(t.deadline());
}

TEST(Heartbeat, RestoredAfterARestartAJobDueMeanwhileIsLateAtOnce) {
  const auto spec = every_hour();
  HeartbeatTracker up(spec);
  up.restore(kT0, true);
  EXPECT_EQ(up.deadline(), kT0 + hours(1) + minutes(5));
  HeartbeatTracker down(spec);
  down.restore(kT0, false);
  EXPECT_FALSE(down.deadline());
}

TEST(Heartbeat, ItsMemoryCarriesARunningJobAndTheLastMessageAcrossARestart) {
  auto spec = every_hour();
  spec.max_runtime = Duration{600'000};
  HeartbeatTracker before(spec);
  before.on_ping(ping(Ping::Kind::kSuccess, kT0));
  before.on_ping(ping(Ping::Kind::kStart, kT0 + minutes(30), "", "r1"));
  before.on_ping(ping(Ping::Kind::kLog, kT0 + minutes(31), "copying"));
  const HeartbeatMemory kept = before.memory();
  EXPECT_EQ(kept.last_ping, kT0) << "the last success or failure";
  EXPECT_EQ(kept.last_any_ping, kT0 + minutes(31));
  EXPECT_TRUE(kept.up);
  EXPECT_EQ(kept.starts, (std::map<std::string, WallTime>{{"r1", kT0 + minutes(30)}}));
  EXPECT_EQ(kept.last_message, (PingMessage{kT0 + minutes(31), "copying"}));

  HeartbeatTracker after(spec);
  after.restore(kept);
  EXPECT_EQ(after.memory(), kept);
  EXPECT_EQ(after.last_ping(), kT0 + minutes(31)) << "the API shows the last ping of any kind";
  EXPECT_EQ(after.next_due(), kT0 + hours(1)) << "due after the last success";
  EXPECT_EQ(after.deadline(), kT0 + minutes(40)) << "the running job's max_runtime";
  EXPECT_EQ(after.overdue(kT0 + minutes(40)).cause,
            "started at 2026-12-01T02:30:00Z and did not finish within max_runtime 10m");
  // The run pairs with its start across the restart.
  HeartbeatTracker paired(spec);
  paired.restore(kept);
  EXPECT_EQ(
      paired.on_ping(ping(Ping::Kind::kSuccess, kT0 + minutes(35), "", "r1"))->timings.total_us,
      300'000'000);
}

TEST(Heartbeat, ALogMessageIsNoRun) {
  const auto spec = every_hour();
  HeartbeatTracker t(spec);
  t.on_ping(ping(Ping::Kind::kSuccess, kT0));
  EXPECT_FALSE(t.on_ping(ping(Ping::Kind::kLog, kT0 + minutes(50), "still here")));
  EXPECT_EQ(t.next_due(), kT0 + hours(1)) << "a log message is not a success";
  EXPECT_EQ(t.memory().last_ping, kT0);
  EXPECT_EQ(t.last_ping(), kT0 + minutes(50));
  EXPECT_EQ(t.last_message()->text, "still here");
}

TEST(Heartbeat, TokensAreDerivedPerMonitorAndLookedUpByDigest) {
  const std::string a = derived_ping_token("key-1", "backup");
  EXPECT_EQ(a.size(), 32u);
  EXPECT_EQ(a, derived_ping_token("key-1", "backup")) << "stable across restarts";
  EXPECT_NE(a, derived_ping_token("key-1", "backup2"));
  EXPECT_NE(a, derived_ping_token("key-2", "backup"));
  EXPECT_EQ(ping_token_digest("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace
}  // namespace lookout
