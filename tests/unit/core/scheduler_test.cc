#include "core/scheduler.h"

#include <gtest/gtest.h>
#include <sys/resource.h>

#include <map>
#include <set>

#include "core/clock.h"
#include "core/descriptors.h"
#include "tests/support/fake_clock.h"

namespace lookout {
namespace {

using std::chrono::milliseconds;

TEST(Scheduler, FirstRunsSpreadOverTheInterval) {
  FakeClock clock;
  Scheduler s({100'000, 100'000});
  const Duration interval{10'000};
  for (MonitorId id = 0; id < 10'000; ++id)
    s.add(id, interval, "h" + std::to_string(id), stable_hash("m" + std::to_string(id)),
          clock.mono());
  // Count starts per second of the first interval: none may hold much more than its share.
  std::map<int, int> per_second;
  for (int ms = 0; ms <= 10'000; ms += 10) {
    for (const auto& st : s.take_due(clock.mono())) {
      ++per_second[std::min(ms / 1000, 9)];
      s.finished(st.id);
    }
    clock.advance(milliseconds(10));
  }
  int total = 0;
  for (const auto& [sec, n] : per_second) {
    EXPECT_LT(n, 1200) << "second " << sec;
    EXPECT_GT(n, 800) << "second " << sec;
    total += n;
  }
  EXPECT_EQ(total, 10'000);
}

TEST(Scheduler, ALongIntervalStillRunsWithinTenSecondsOfStart) {
  FakeClock clock;
  Scheduler s({100, 100});
  const Duration twelve_hours{12LL * 3'600'000};
  for (MonitorId id = 0; id < 50; ++id)
    s.add(id, twelve_hours, "h", stable_hash("d" + std::to_string(id)), clock.mono());
  const MonoTime start = clock.mono();
  std::set<MonitorId> ran;
  while (clock.mono() - start <= Duration{10'000}) {
    for (const auto& st : s.take_due(clock.mono())) {
      ran.insert(st.id);
      s.finished(st.id);
    }
    clock.advance(milliseconds(100));
  }
  EXPECT_EQ(ran.size(), 50u);
  // The grid goes on from the first run: the next is 12 hours later.
  EXPECT_GE(*s.next_wakeup(), start + twelve_hours);
}

TEST(Scheduler, RunsFollowAFixedGridAndMeasureLag) {
  FakeClock clock;
  Scheduler s({10, 10});
  s.add(1, Duration{1000}, "h", 0, clock.mono());  // phase 0: due now
  auto starts = s.take_due(clock.mono());
  ASSERT_EQ(starts.size(), 1u);
  s.finished(1);
  EXPECT_EQ(*s.next_wakeup(), clock.mono() + milliseconds(1000));
  clock.advance(milliseconds(1003));  // started 3 ms late
  starts = s.take_due(clock.mono());
  ASSERT_EQ(starts.size(), 1u);
  EXPECT_EQ(clock.mono() - starts[0].due, milliseconds(3));
  s.finished(1);
  // The next slot is on the grid, not 1000 ms after the late start.
  EXPECT_EQ(*s.next_wakeup(), starts[0].due + milliseconds(1000));
  EXPECT_EQ(s.stats().lag.total, 2u);
  EXPECT_EQ(s.stats().lag.counts[0], 1u);  // 0 ms
  EXPECT_EQ(s.stats().lag.counts[3], 1u);  // 3 ms falls in (2 ms, 5 ms]
}

TEST(Scheduler, ABusyMonitorIsSkippedNotStartedTwice) {
  FakeClock clock;
  Scheduler s({10, 10});
  s.add(1, Duration{1000}, "h", 0, clock.mono());
  ASSERT_EQ(s.take_due(clock.mono()).size(), 1u);
  clock.advance(milliseconds(1000));
  EXPECT_TRUE(s.take_due(clock.mono()).empty());
  EXPECT_EQ(s.stats().skipped_busy, 1u);
  s.finished(1);
  clock.advance(milliseconds(1000));
  EXPECT_EQ(s.take_due(clock.mono()).size(), 1u);
}

TEST(Scheduler, GlobalCapMakesRunsWaitInOrder) {
  FakeClock clock;
  Scheduler s({2, 100});
  for (MonitorId id = 1; id <= 4; ++id)
    s.add(id, Duration{60'000}, "h" + std::to_string(id), 0, clock.mono());
  auto first = s.take_due(clock.mono());
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(s.stats().waiting, 2u);
  EXPECT_EQ(s.stats().in_flight, 2u);
  clock.advance(milliseconds(40));
  s.finished(first[0].id);
  auto next = s.take_due(clock.mono());
  ASSERT_EQ(next.size(), 1u);
  // The waiting run's lag counts from its due time.
  EXPECT_EQ(clock.mono() - next[0].due, milliseconds(40));
  EXPECT_EQ(s.stats().waiting, 1u);
}

TEST(Scheduler, PerHostCapDoesNotBlockOtherHosts) {
  FakeClock clock;
  Scheduler s({100, 1});
  s.add(1, Duration{60'000}, "a", 0, clock.mono());
  s.add(2, Duration{60'000}, "a", 0, clock.mono());
  s.add(3, Duration{60'000}, "b", 0, clock.mono());
  auto starts = s.take_due(clock.mono());
  ASSERT_EQ(starts.size(), 2u);
  EXPECT_EQ(s.stats().waiting, 1u);
  s.finished(3);  // host b finishing frees nothing for host a
  EXPECT_TRUE(s.take_due(clock.mono()).empty());
  s.finished(starts[0].id == 3 ? starts[1].id : starts[0].id);
  ASSERT_EQ(s.take_due(clock.mono()).size(), 1u);
}

TEST(Scheduler, FallingBehindSkipsMissedSlotsInsteadOfBursting) {
  FakeClock clock;
  Scheduler s({10, 10});
  s.add(1, Duration{1000}, "h", 0, clock.mono());
  s.take_due(clock.mono());
  s.finished(1);
  clock.advance(milliseconds(5500));  // the loop stalled
  EXPECT_EQ(s.take_due(clock.mono()).size(), 1u);
  s.finished(1);
  EXPECT_TRUE(s.take_due(clock.mono()).empty());
  EXPECT_EQ(s.stats().missed_slots, 4u);
  EXPECT_EQ(*s.next_wakeup(), clock.mono() + milliseconds(500));
}

TEST(Scheduler, RemovedMonitorsStopAndTheirRunningSlotIsFreed) {
  FakeClock clock;
  Scheduler s({1, 10});
  s.add(1, Duration{1000}, "h", 0, clock.mono());
  s.add(2, Duration{1000}, "h", 0, clock.mono());
  ASSERT_EQ(s.take_due(clock.mono()).size(), 1u);
  s.remove(1);
  s.remove(2);
  s.finished(1);
  s.finished(2);
  EXPECT_EQ(s.stats().in_flight, 0u);
  clock.advance(milliseconds(5000));
  EXPECT_TRUE(s.take_due(clock.mono()).empty());
  EXPECT_FALSE(s.next_wakeup());
}

// Ten runs in flight (the cap), two of which could not open a socket.
TEST(Scheduler, ARunDeferredForWantOfDescriptorsWaitsFirstAndLowersTheCap) {
  FakeClock clock;
  Scheduler s({10, 10});
  for (MonitorId id = 1; id <= 12; ++id)
    s.add(id, Duration{60'000}, "h" + std::to_string(id), 0, clock.mono());
  const MonoTime due = clock.mono();
  const auto first = s.take_due(clock.mono());
  ASSERT_EQ(first.size(), 10u);
  clock.advance(milliseconds(20));
  s.deferred(first[0].id, clock.mono());
  s.deferred(first[1].id, clock.mono());
  EXPECT_EQ(s.stats().deferred, 2u);
  EXPECT_EQ(s.stats().in_flight, 8u);
  EXPECT_EQ(s.stats().waiting, 4u);
  EXPECT_FALSE(s.in_flight(first[0].id));
  // Held: nothing starts before a run finishes or the hold ends, and the scheduler wakes for it.
  EXPECT_TRUE(s.take_due(clock.mono()).empty());
  EXPECT_EQ(*s.next_wakeup(), clock.mono() + Scheduler::kShortageHold);
  // A run finishes: the cap, lowered to the eight then in flight, grows by one, and the
  // deferred runs go first, with their first due time (their lag counts).
  s.finished(first[2].id);
  const auto again = s.take_due(clock.mono());
  ASSERT_EQ(again.size(), 2u);
  EXPECT_EQ(std::set<MonitorId>({again[0].id, again[1].id}),
            std::set<MonitorId>({first[0].id, first[1].id}));
  EXPECT_EQ(again[0].due, due);
  EXPECT_EQ(s.stats().in_flight, 9u);  // below max_in_flight
  // The next finished run lifts the cap back to max_in_flight.
  s.finished(first[3].id);
  EXPECT_EQ(s.take_due(clock.mono()).size(), 2u);
  EXPECT_EQ(s.stats().in_flight, 10u);
  EXPECT_EQ(s.stats().waiting, 0u);
}

TEST(Scheduler, WithNothingInFlightADeferredRunStartsAgainAfterTheHold) {
  FakeClock clock;
  Scheduler s({10, 10});
  s.add(1, Duration{60'000}, "h", 0, clock.mono());
  ASSERT_EQ(s.take_due(clock.mono()).size(), 1u);
  s.deferred(1, clock.mono());
  // Not at once, which would spin while the descriptors are held elsewhere.
  EXPECT_TRUE(s.take_due(clock.mono()).empty());
  clock.advance(Scheduler::kShortageHold - milliseconds(1));
  EXPECT_TRUE(s.take_due(clock.mono()).empty());
  clock.advance(milliseconds(1));
  ASSERT_EQ(s.take_due(clock.mono()).size(), 1u);
  s.deferred(1, clock.mono());
  clock.advance(Scheduler::kShortageHold);
  ASSERT_EQ(s.take_due(clock.mono()).size(), 1u);
  s.finished(1);
  // Once the shortage is over, nothing is held and the next run is on the grid.
  EXPECT_EQ(*s.next_wakeup(), clock.mono() - 2 * Scheduler::kShortageHold + milliseconds(60'000));
  EXPECT_EQ(s.stats().deferred, 2u);
}

TEST(Scheduler, ADeferredRunOfARemovedMonitorOnlyFreesItsSlot) {
  FakeClock clock;
  Scheduler s({10, 10});
  s.add(1, Duration{1000}, "h", 0, clock.mono());
  ASSERT_EQ(s.take_due(clock.mono()).size(), 1u);
  s.remove(1);
  s.deferred(1, clock.mono());
  EXPECT_EQ(s.stats().in_flight, 0u);
  EXPECT_EQ(s.stats().waiting, 0u);
  clock.advance(milliseconds(5000));
  EXPECT_TRUE(s.take_due(clock.mono()).empty());
  EXPECT_FALSE(s.next_wakeup());
}

TEST(Descriptors, RunsWithinTheLimitKeepAShareForTheRest) {
  EXPECT_EQ(runs_within_descriptor_limit(65'536), (65'536u - 256) / 3);
  EXPECT_EQ(runs_within_descriptor_limit(1024), 256u);
  EXPECT_EQ(runs_within_descriptor_limit(64), 10u);  // half kept
  EXPECT_EQ(runs_within_descriptor_limit(2), 1u);
  EXPECT_GE(runs_within_descriptor_limit(RLIM_INFINITY), 1u << 30);
}

TEST(LagHistogram, QuantilesInterpolateWithinBuckets) {
  LagHistogram h;
  for (int i = 0; i < 99; ++i) h.record(Duration{0});
  h.record(Duration{40});
  EXPECT_LE(h.quantile(0.5), 0.0005);
  EXPECT_GT(h.quantile(0.999), 0.02);
  EXPECT_LE(h.quantile(0.999), 0.05);
}

}  // namespace
}  // namespace lookout
