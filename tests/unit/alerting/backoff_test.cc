#include "alerting/backoff.h"

#include <gtest/gtest.h>

namespace lookout {
namespace {

using Kind = DeliveryOutcome::Kind;
using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(Backoff, DoublesFromOneSecondUpToFiveMinutes) {
  // Without jitter (the middle of its range): attempt n waits 2^(n-1) s, capped at 300 s.
  const std::vector<std::pair<int, int64_t>> schedule = {
      {0, 1'000},    {1, 1'000},    {2, 2'000},    {3, 4'000},    {4, 8'000},
      {5, 16'000},   {6, 32'000},   {7, 64'000},   {8, 128'000},  {9, 256'000},
      {10, 300'000}, {11, 300'000}, {30, 300'000}, {100, 300'000}};
  for (const auto& [attempts, ms] : schedule) {
    EXPECT_EQ(retry_backoff(attempts, 0.5), Duration{ms}) << "after " << attempts << " attempts";
  }
}

TEST(Backoff, JitterSpreadsEachDelayByAQuarterEitherWay) {
  const std::vector<std::tuple<int, double, int64_t>> cases = {
      {1, 0.0, 750},    {1, 0.25, 875},     {1, 0.9375, 1'218},  {4, 0.0, 6'000},
      {4, 0.75, 9'000}, {10, 0.0, 225'000}, {10, 0.875, 356'250}};
  for (const auto& [attempts, jitter, ms] : cases) {
    EXPECT_EQ(retry_backoff(attempts, jitter), Duration{ms})
        << "after " << attempts << " attempts, jitter " << jitter;
  }
}

TEST(Backoff, NeverShrinksAsAttemptsGrow) {
  for (double jitter : {0.0, 0.5, 0.999}) {
    for (int attempts = 1; attempts < 40; ++attempts) {
      EXPECT_LE(retry_backoff(attempts, jitter), retry_backoff(attempts + 1, jitter))
          << attempts << " attempts, jitter " << jitter;
    }
  }
}

TEST(Backoff, RetryAfterWinsWhenLongerUpToAnHour) {
  EXPECT_EQ(retry_delay(1, 0.5, std::nullopt), Duration{1'000});
  EXPECT_EQ(retry_delay(1, 0.5, Duration{30'000}), Duration{30'000}) << "the provider asks longer";
  EXPECT_EQ(retry_delay(9, 0.5, Duration{30'000}), Duration{256'000}) << "backoff is longer";
  EXPECT_EQ(retry_delay(1, 0.5, Duration{86'400'000}), kMaxRetryAfter) << "a day is capped";
}

TEST(Backoff, TheLongerOfTheHeaderAndTheBodysHintCounts) {
  EXPECT_EQ(longer_wait(std::nullopt, std::nullopt), std::nullopt);
  EXPECT_EQ(longer_wait(Duration{3'000}, std::nullopt), Duration{3'000}) << "only the hint";
  EXPECT_EQ(longer_wait(std::nullopt, Duration{2'000}), Duration{2'000}) << "only the header";
  EXPECT_EQ(longer_wait(Duration{3'000}, Duration{1'000}), Duration{3'000})
      << "the hint asks longer";
  EXPECT_EQ(longer_wait(Duration{1'500}, Duration{2'000}), Duration{2'000})
      << "the header asks longer";
}

TEST(Backoff, RetriesUntilTheRowIsAsOldAsGiveUpAfter) {
  const WallTime created{hours(1000)};
  const Duration give_up{86'400'000};
  struct Case {
    Kind outcome;
    Duration age;
    DeliveryStatus status;
  };
  const std::vector<Case> cases = {
      {Kind::kDelivered, Duration{0}, DeliveryStatus::kSent},
      {Kind::kDelivered, Duration{give_up * 2}, DeliveryStatus::kSent},
      {Kind::kPermanent, Duration{0}, DeliveryStatus::kFailed},
      {Kind::kPermanent, Duration{give_up * 2}, DeliveryStatus::kFailed},
      {Kind::kRetry, Duration{0}, DeliveryStatus::kPending},
      {Kind::kRetry, give_up - milliseconds(1), DeliveryStatus::kPending},
      {Kind::kRetry, give_up, DeliveryStatus::kGaveUp},
      {Kind::kRetry, give_up + hours(1), DeliveryStatus::kGaveUp},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(status_after_attempt(c.outcome, created, created + c.age, give_up), c.status)
        << to_string(c.outcome) << " at age " << c.age.count() << " ms";
  }
  // The channel's own limit counts, not the default day.
  EXPECT_EQ(status_after_attempt(Kind::kRetry, created, created + seconds(61), seconds(60)),
            DeliveryStatus::kGaveUp);
}

TEST(Backoff, StatusesAreStoredByTheirSchemaNames) {
  EXPECT_STREQ(to_string(DeliveryStatus::kSent), "sent");
  EXPECT_STREQ(to_string(DeliveryStatus::kFailed), "failed");
  EXPECT_STREQ(to_string(DeliveryStatus::kGaveUp), "gave_up");
  EXPECT_STREQ(to_string(DeliveryStatus::kPending), "pending");
}

}  // namespace
}  // namespace lookout
