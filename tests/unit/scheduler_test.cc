#include "daemon/scheduler.h"

#include <gtest/gtest.h>

#include <map>

#include "daemon/clock.h"

namespace lookout {
namespace {

using std::chrono::milliseconds;

TEST(Scheduler, FirstRunsSpreadOverTheInterval) {
  FakeClock clock;
  Scheduler s({100'000, 100'000});
  const Duration interval{10'000};
  for (MonitorId id = 0; id < 10'000; ++id) s.add(id, interval, "h" + std::to_string(id), stable_hash("m" + std::to_string(id)), clock.mono());
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
  for (MonitorId id = 1; id <= 4; ++id) s.add(id, Duration{60'000}, "h" + std::to_string(id), 0, clock.mono());
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
