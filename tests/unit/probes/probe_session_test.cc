// The callback contract every kind gets from ProbeSession, with a kind of the test's own on a
// real loop (its "work" is a timer, no network): exactly one callback per started run, on an
// answer, on the deadline and on cancel(); none when begin() fails; the probe may be destroyed
// inside the callback (the ASan build of CI catches a touch after that).
#include "probes/probe_session.h"

#include <gtest/gtest.h>

#include <optional>

#include "config/config.h"
#include "core/curl_bridge.h"
#include "core/secret.h"

namespace lookout {
namespace {

using std::chrono::milliseconds;

// What the test kind did, kept outside it so that it can be read after the probe is gone.
struct Seen {
  int begun = 0;
  int aborted = 0;
  int timed_out = 0;
};

class TestKind final : public ProbeSession {
 public:
  struct Script {
    bool can_begin = true;
    std::optional<Duration> answer_after;  // unset: the work never ends on its own
    ProbeResult answer;
    bool answer_twice = false;
    bool answer_next_turn = false;  // through next_turn(), right after begin()
  };

  TestKind(const MonitorConfig& m, ProbeContext& ctx, std::shared_ptr<const Redactor> redactor,
           Script script, Seen& seen)
      : ProbeSession(m, ctx, std::move(redactor)),
        script_(std::move(script)),
        seen_(seen),
        work_(ctx.loop) {}
  ~TestKind() override { abort(); }

 private:
  bool begin() override {
    ++seen_.begun;
    if (!script_.can_begin) return false;
    if (script_.answer_after) work_.start(*script_.answer_after, [this] { answer(); });
    if (script_.answer_next_turn) next_turn([this] { answer(); });
    return true;
  }
  void abort() override {
    ++seen_.aborted;
    work_.stop();
  }
  ProbeResult timed_out() override {
    ++seen_.timed_out;
    ProbeResult r;
    r.cause = "no answer from the test kind";
    return r;
  }
  void answer() {
    if (!script_.answer_twice) {
      finish(script_.answer);  // may destroy this
      return;
    }
    // Only a kind that knows it is not destroyed may go on after finish().
    finish(script_.answer);
    finish(script_.answer);
  }

  Script script_;
  Seen& seen_;
  Timer work_;
};

ProbeResult up() {
  ProbeResult r;
  r.outcome = Outcome::kUp;
  r.kind = ErrorKind::kNone;
  return r;
}

TestKind::Script answers(ProbeResult answer, Duration after) {
  TestKind::Script s;
  s.answer_after = after;
  s.answer = std::move(answer);
  return s;
}

TestKind::Script answers_twice(ProbeResult answer, Duration after) {
  TestKind::Script s = answers(std::move(answer), after);
  s.answer_twice = true;
  return s;
}

TestKind::Script answers_next_turn() {
  TestKind::Script s;
  s.answer = up();
  s.answer_next_turn = true;
  return s;
}

TestKind::Script cannot_begin() {
  TestKind::Script s;
  s.can_begin = false;
  return s;
}

class ProbeSessionTest : public ::testing::Test {
 protected:
  ProbeSessionTest() { m_.timeout = milliseconds(50); }

  std::unique_ptr<TestKind> make(TestKind::Script script) {
    return std::make_unique<TestKind>(m_, ctx_, redactor_, std::move(script), seen_);
  }
  // Runs the loop until nothing is left to do, or a stuck run fails the test.
  void run() {
    Timer guard(loop_);
    guard.unref();
    bool stuck = false;
    guard.start(milliseconds(5'000), [&] {
      stuck = true;
      loop_.stop();
    });
    loop_.run();
    EXPECT_FALSE(stuck) << "the loop was still busy after 5 s";
  }

  EventLoop loop_;
  SystemClock clock_;
  CurlBridge curl_{loop_, clock_};
  ProbeContext ctx_{loop_, curl_, clock_, SourceAddress{}};
  MonitorConfig m_;
  std::shared_ptr<Redactor> redactor_ = std::make_shared<Redactor>();
  Seen seen_;
  std::vector<ProbeResult> results_;
  Probe::Done record_ = [this](ProbeResult r) { results_.push_back(std::move(r)); };
};

TEST_F(ProbeSessionTest, AnAnswerCallsBackOnceWithTheRunsTimesAndMaskedCause) {
  redactor_->add("hunter22");
  ProbeResult slow = up();
  slow.outcome = Outcome::kDegraded;
  slow.kind = ErrorKind::kSlow;
  slow.cause = "slow with token hunter22";
  auto probe = make(answers(slow, milliseconds(5)));
  const MonoTime before = clock_.mono();
  ASSERT_TRUE(probe->start(record_));
  run();
  ASSERT_EQ(results_.size(), 1u);
  const ProbeResult& r = results_[0];
  EXPECT_EQ(r.outcome, Outcome::kDegraded);
  EXPECT_EQ(r.cause, "slow with token ***");
  EXPECT_GE(r.started_mono, before);
  EXPECT_NE(r.started_at, WallTime{});
  // Without a latency of its own, the run's is the whole run.
  ASSERT_TRUE(r.timings.total_us.has_value());
  EXPECT_GT(*r.timings.total_us, 0);
  EXPECT_EQ(r.samples_us, std::vector<int64_t>{*r.timings.total_us});
  EXPECT_EQ(seen_.aborted, 1) << "the kind gives back what the run held";
  EXPECT_EQ(seen_.timed_out, 0);

  // A second run calls back once more, with its own start.
  ASSERT_TRUE(probe->start(record_));
  run();
  ASSERT_EQ(results_.size(), 2u);
  EXPECT_GT(results_[1].started_mono, results_[0].started_mono);
}

TEST_F(ProbeSessionTest, AKindsOwnLatencyAndAFailuresLackOfOneAreKept) {
  ProbeResult measured = up();
  measured.timings.total_us = 1234;
  measured.samples_us = {1000, 1234, 2000};
  auto probe = make(answers(measured, milliseconds(1)));
  ASSERT_TRUE(probe->start(record_));
  run();
  ProbeResult refused;
  refused.kind = ErrorKind::kConnect;
  refused.cause = "cannot connect";
  auto failing = make(answers(refused, milliseconds(1)));
  ASSERT_TRUE(failing->start(record_));
  run();
  ASSERT_EQ(results_.size(), 2u);
  EXPECT_EQ(results_[0].timings.total_us, 1234);
  EXPECT_EQ(results_[0].samples_us, (std::vector<int64_t>{1000, 1234, 2000}));
  EXPECT_FALSE(results_[1].timings.total_us.has_value()) << "a run without a response has none";
  EXPECT_TRUE(results_[1].samples_us.empty());
}

TEST_F(ProbeSessionTest, TheDeadlineEndsARunWhoseWorkNeverEnds) {
  auto probe = make({});
  const MonoTime before = clock_.mono();
  ASSERT_TRUE(probe->start(record_));
  run();
  ASSERT_EQ(results_.size(), 1u);
  EXPECT_EQ(results_[0].outcome, Outcome::kDown);
  EXPECT_EQ(results_[0].kind, ErrorKind::kTimeout);
  EXPECT_EQ(results_[0].cause, "no answer from the test kind");
  EXPECT_GE(clock_.mono() - before, milliseconds(49));  // the loop counts whole milliseconds
  EXPECT_EQ(seen_.timed_out, 1);
  EXPECT_EQ(seen_.aborted, 1);
}

TEST_F(ProbeSessionTest, AKindThatFinishesTwiceCallsBackOnce) {
  auto probe = make(answers_twice(up(), milliseconds(1)));
  ASSERT_TRUE(probe->start(record_));
  run();
  ASSERT_EQ(results_.size(), 1u);
  EXPECT_EQ(results_[0].outcome, Outcome::kUp);
  EXPECT_EQ(seen_.aborted, 1);
}

TEST_F(ProbeSessionTest, CancelCallsBackOnceAsCancelledAndStopsTheWork) {
  auto probe = make(answers(up(), milliseconds(20)));
  ASSERT_TRUE(probe->start(record_));
  probe->cancel();
  ASSERT_EQ(results_.size(), 1u);
  EXPECT_EQ(results_[0].outcome, Outcome::kDown);
  EXPECT_EQ(results_[0].kind, ErrorKind::kCancelled);
  EXPECT_EQ(results_[0].cause, "cancelled");
  EXPECT_NE(results_[0].started_at, WallTime{});
  EXPECT_EQ(seen_.aborted, 1);
  probe->cancel();  // nothing in flight: no callback
  run();            // neither the work nor the deadline comes back
  EXPECT_EQ(results_.size(), 1u);
  EXPECT_EQ(seen_.timed_out, 0);
}

TEST_F(ProbeSessionTest, NoCallbackWhenBeginFailsOrARunIsInFlight) {
  auto refused = make(cannot_begin());
  EXPECT_FALSE(refused->start(record_));
  EXPECT_EQ(seen_.aborted, 1) << "what a failed begin() took is given back";
  refused->cancel();
  auto probe = make(answers(up(), milliseconds(1)));
  ASSERT_TRUE(probe->start(record_));
  EXPECT_FALSE(probe->start(record_));
  run();  // no deadline is left armed by the refused start
  ASSERT_EQ(results_.size(), 1u);
  EXPECT_EQ(results_[0].outcome, Outcome::kUp);
}

TEST_F(ProbeSessionTest, WorkForALaterTurnIsDroppedOnceTheRunEnded) {
  auto probe = make(answers_next_turn());
  ASSERT_TRUE(probe->start(record_));
  probe->cancel();
  run();
  ASSERT_EQ(results_.size(), 1u);
  EXPECT_EQ(results_[0].kind, ErrorKind::kCancelled);

  // Nor does it run once the probe is gone.
  probe = make(answers_next_turn());
  ASSERT_TRUE(probe->start(record_));
  probe.reset();
  run();
  EXPECT_EQ(results_.size(), 1u);

  // While the run is in flight it does.
  probe = make(answers_next_turn());
  ASSERT_TRUE(probe->start(record_));
  run();
  ASSERT_EQ(results_.size(), 2u);
  EXPECT_EQ(results_[1].outcome, Outcome::kUp);
}

// The callback may destroy the probe: on an answer, on the deadline and on cancel().
TEST_F(ProbeSessionTest, TheProbeMayBeDestroyedInsideTheCallback) {
  const std::vector<std::pair<const char*, TestKind::Script>> scripts{
      {"answer", answers(up(), milliseconds(1))},
      {"deadline", TestKind::Script{}},
      {"cancel", answers(up(), milliseconds(20))},
  };
  for (const auto& [name, script] : scripts) {
    SCOPED_TRACE(name);
    std::unique_ptr<Probe> probe = make(script);
    int calls = 0;
    ASSERT_TRUE(probe->start([&](const ProbeResult&) {
      ++calls;
      probe.reset();
    }));
    if (std::string(name) == "cancel") probe->cancel();
    run();
    EXPECT_EQ(calls, 1);
    EXPECT_TRUE(probe == nullptr);
  }
}

}  // namespace
}  // namespace lookout
