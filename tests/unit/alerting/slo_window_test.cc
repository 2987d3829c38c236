#include "alerting/slo_window.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "tests/support/fake_clock.h"

namespace lookout {
namespace {

SloConfig slo(int64_t p95_ms, int64_t window_ms, int min_samples = 10) {
  SloConfig c;
  c.p95 = Duration{p95_ms};
  c.window = Duration{window_ms};
  c.min_samples = min_samples;
  return c;
}

TEST(SloWindow, P95MatchesTheExactP95WithinTheSketchAccuracy) {
  FakeClock clock;
  SloWindow w(slo(500, 15 * 60'000));
  std::mt19937_64 rng(7);
  std::lognormal_distribution<double> dist(std::log(200'000.0), 0.6);
  std::vector<double> all;
  for (int i = 0; i < 900; ++i) {
    const auto us = static_cast<int64_t>(dist(rng));
    all.push_back(static_cast<double>(us));
    w.add(clock.wall(), us);
    clock.advance(Duration{1000});
  }
  std::sort(all.begin(), all.end());
  const double exact_ms =
      all[static_cast<size_t>(0.95 * static_cast<double>(all.size() - 1))] / 1000.0;
  const SloJudgement j = w.judge(clock.wall());
  EXPECT_EQ(j.samples, 900u);
  EXPECT_NEAR(j.p95_ms, exact_ms, exact_ms * 0.01);
  EXPECT_TRUE(j.judged);
}

TEST(SloWindow, BreachesWhileTheP95IsAboveTheBudgetAndRecovers) {
  FakeClock clock;
  SloWindow w(slo(500, 60'000, 10));
  for (int i = 0; i < 20; ++i) {
    w.add(clock.wall(), 100'000);
    clock.advance(Duration{1000});
  }
  EXPECT_FALSE(w.judge(clock.wall()).breached);
  for (int i = 0; i < 20; ++i) {
    w.add(clock.wall(), 900'000);
    clock.advance(Duration{1000});
  }
  const SloJudgement bad = w.judge(clock.wall());
  ASSERT_TRUE(bad.breached);
  EXPECT_NE(bad.cause.find("> 500 ms over the last 1m (40 samples)"), std::string::npos)
      << bad.cause;
  EXPECT_EQ(bad.cause.rfind("p95 9", 0), 0u) << bad.cause;
  // Fast samples again; once the slow ones leave the window, it recovers.
  for (int i = 0; i < 70; ++i) {
    w.add(clock.wall(), 100'000);
    clock.advance(Duration{1000});
  }
  const SloJudgement good = w.judge(clock.wall());
  EXPECT_FALSE(good.breached);
  EXPECT_LT(good.p95_ms, 150);
}

TEST(SloWindow, IsNotJudgedBeforeMinSamples) {
  FakeClock clock;
  SloWindow w(slo(500, 60'000, 10));
  for (int i = 0; i < 9; ++i) w.add(clock.wall(), 2'000'000);
  const SloJudgement j = w.judge(clock.wall());
  EXPECT_EQ(j.samples, 9u);
  EXPECT_FALSE(j.judged);
  EXPECT_FALSE(j.breached);
  w.add(clock.wall(), 2'000'000);
  EXPECT_TRUE(w.judge(clock.wall()).breached);
}

TEST(SloWindow, ForgetsSamplesOlderThanTheWindow) {
  FakeClock clock;
  SloWindow w(slo(500, 60'000, 1));
  w.add(clock.wall(), 900'000);
  clock.advance(Duration{30'000});
  EXPECT_EQ(w.judge(clock.wall()).samples, 1u);
  clock.advance(Duration{40'000});
  EXPECT_EQ(w.judge(clock.wall()).samples, 0u);
}

}  // namespace
}  // namespace lookout
