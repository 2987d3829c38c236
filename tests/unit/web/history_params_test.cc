#include "web/history_params.h"

#include <gtest/gtest.h>

namespace lookout {
namespace {

constexpr int64_t kNow = 1'790'000'000'000;

TEST(HistoryParams, DefaultsToADayInAbout100Steps) {
  const auto p = parse_history_params("", "", kNow);
  EXPECT_EQ(p.error, "");
  EXPECT_EQ(p.window_ms, 86'400'000);
  EXPECT_EQ(p.step_ms, 14 * 60'000);  // 14.4 minutes, in whole minutes
  EXPECT_EQ(parse_history_params("7d", "", kNow).step_ms, 2 * 3'600'000);   // 1.68 h
  EXPECT_EQ(parse_history_params("30d", "", kNow).step_ms, 7 * 3'600'000);  // 7.2 h
  EXPECT_EQ(parse_history_params("90d", "", kNow).step_ms, 86'400'000);  // 21.6 h rounds to a day
  EXPECT_EQ(parse_history_params("30m", "", kNow).step_ms, 60'000);      // never below a minute
}

TEST(HistoryParams, BadValuesAreClearErrors) {
  EXPECT_EQ(parse_history_params("24", "", kNow).error.rfind("window: ", 0), 0u);
  EXPECT_EQ(parse_history_params("24h", "1x", kNow).error.rfind("step: ", 0), 0u);
  EXPECT_EQ(parse_history_params("24h", "500ms", kNow).error, "step must be at least 1s");
  EXPECT_EQ(parse_history_params("9999d", "", kNow).error, "window must be between 1ms and 3650d");
}

TEST(HistoryParams, MoreThanTenThousandPointsIsRefused) {
  EXPECT_EQ(
      parse_history_params("7d", "1m", kNow).error,
      "window 7d with step 1m would return 10081 points; the most is 10000: choose a longer step");
  EXPECT_EQ(parse_history_params("6d", "1m", kNow).error, "");
}

}  // namespace
}  // namespace lookout
