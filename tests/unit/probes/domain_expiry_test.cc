// The domain kind's verdicts: whole days rounded down with the UTC date, the warn and fail
// windows, an expired registration, and a rate-limited run with and without an expiry seen
// before; and the registry times RDAP and WHOIS share.
#include "probes/domain_expiry.h"

#include <gtest/gtest.h>

namespace lookout {
namespace {

constexpr Duration kExpiryDay{86'400'000};
constexpr Duration kExpiryHour{3'600'000};

WallTime at(int y, int m, int d, int hh = 0, int mm = 0) { return *utc_time(y, m, d, hh, mm); }

TEST(DomainExpiry, WindowsGiveUpDegradedAndDown) {
  const WallTime now = at(2026, 12, 4, 10);
  const Duration warn = 30 * kExpiryDay, fail = 7 * kExpiryDay;

  auto v = judge_domain_expiry(at(2027, 8, 13, 4), now, warn, fail);
  EXPECT_EQ(v.outcome, Outcome::kUp);
  EXPECT_EQ(v.kind, ErrorKind::kNone);
  EXPECT_EQ(v.cause, "");
  EXPECT_EQ(v.days_left, 251);

  // 5 days and 14 hours: 5 whole days, and the expiry's own UTC date.
  v = judge_domain_expiry(at(2026, 12, 10), now, warn, fail);
  EXPECT_EQ(v.outcome, Outcome::kDown);
  EXPECT_EQ(v.kind, ErrorKind::kExpectation);
  EXPECT_EQ(v.cause, "registration expires in 5 days (2026-12-10)");
  EXPECT_EQ(v.days_left, 5);

  v = judge_domain_expiry(now + 20 * kExpiryDay + kExpiryHour, now, warn, fail);
  EXPECT_EQ(v.outcome, Outcome::kDegraded);
  EXPECT_EQ(v.cause, "registration expires in 20 days (2026-12-24)");

  // The edges: exactly warn_within left is no longer within it; a day and a bit is "1 day".
  EXPECT_EQ(judge_domain_expiry(now + warn, now, warn, fail).outcome, Outcome::kUp);
  EXPECT_EQ(judge_domain_expiry(now + warn - Duration{1}, now, warn, fail).outcome,
            Outcome::kDegraded);
  EXPECT_EQ(judge_domain_expiry(now + fail, now, warn, fail).outcome, Outcome::kDegraded);
  EXPECT_EQ(judge_domain_expiry(now + kExpiryDay + kExpiryHour, now, warn, fail).cause,
            "registration expires in 1 day (2026-12-05)");
  EXPECT_EQ(judge_domain_expiry(now + 3 * kExpiryHour, now, warn, fail).cause,
            "registration expires in less than a day (2026-12-04)");
}

TEST(DomainExpiry, AnExpiredRegistrationIsDownWithItsDate) {
  const WallTime now = at(2026, 12, 4, 10);
  auto v = judge_domain_expiry(at(2026, 12, 1), now, 30 * kExpiryDay, 7 * kExpiryDay);
  EXPECT_EQ(v.outcome, Outcome::kDown);
  EXPECT_EQ(v.cause, "registration expired 3 days ago (2026-12-01)");
  EXPECT_LT(v.days_left, 0);
  EXPECT_EQ(judge_domain_expiry(now, now, 30 * kExpiryDay, 7 * kExpiryDay).cause,
            "registration expired less than a day ago (2026-12-04)");
}

TEST(DomainExpiry, ARateLimitIsJudgedOnTheExpirySeenBefore) {
  const WallTime now = at(2026, 12, 4, 10);
  const WallTime next = now + kExpiryHour;
  // Nothing seen yet: degraded, naming the registry and the next try; never down.
  auto v = judge_rate_limited(std::nullopt, now, 30 * kExpiryDay, 7 * kExpiryDay,
                              "rdap.verisign.com (429)", next);
  EXPECT_EQ(v.outcome, Outcome::kDegraded);
  EXPECT_EQ(v.kind, ErrorKind::kRateLimited);
  EXPECT_EQ(v.cause,
            "rate-limited by rdap.verisign.com (429); next try after 2026-12-04T11:00:00Z");
  // An expiry seen before: the run reads as that expiry does now, as if the registry answered.
  v = judge_rate_limited(at(2027, 8, 13), now, 30 * kExpiryDay, 7 * kExpiryDay, "x", next);
  EXPECT_EQ(v.outcome, Outcome::kUp);
  EXPECT_EQ(v.cause, "");
  v = judge_rate_limited(at(2026, 12, 9), now, 30 * kExpiryDay, 7 * kExpiryDay, "x", next);
  EXPECT_EQ(v.outcome, Outcome::kDown);
  EXPECT_EQ(v.cause, "registration expires in 4 days (2026-12-09)");
}

TEST(DomainExpiry, RegistryTimesAreReadLeniently) {
  EXPECT_EQ(parse_registry_time("2027-08-13T04:00:00Z"), at(2027, 8, 13, 4));
  EXPECT_EQ(parse_registry_time("2027-08-13T04:00:00.000Z"), at(2027, 8, 13, 4));
  EXPECT_EQ(parse_registry_time("2027-08-13t04:00:00z"), at(2027, 8, 13, 4));
  EXPECT_EQ(parse_registry_time("2027-08-13T06:30:00+02:30"), at(2027, 8, 13, 4));
  EXPECT_EQ(parse_registry_time("2027-08-13T00:00:00-0400"), at(2027, 8, 13, 4));
  EXPECT_EQ(parse_registry_time("2027-08-13 04:00:00"), at(2027, 8, 13, 4));
  EXPECT_EQ(parse_registry_time("2027-08-13"), at(2027, 8, 13));
  EXPECT_EQ(parse_registry_time("  2027-08-13T04:00Z"), at(2027, 8, 13, 4));
  EXPECT_FALSE(parse_registry_time(""));
  EXPECT_FALSE(parse_registry_time("2027-02-30"));
  EXPECT_FALSE(parse_registry_time("2027-13-01"));
  EXPECT_FALSE(parse_registry_time("13-08-2027"));
  EXPECT_FALSE(parse_registry_time("2027-08-13T25:00:00Z"));
  EXPECT_FALSE(parse_registry_time("20270813"));
  // Beyond what a nanosecond clock holds (found by fuzzing): no date, not an overflow.
  EXPECT_FALSE(parse_registry_time("6481-08-13T04:00:00Z"));
  EXPECT_TRUE(parse_registry_time("2200-12-31T23:59:59Z"));
  EXPECT_EQ(utc_date(at(2027, 8, 13, 23, 59)), "2027-08-13");
}

}  // namespace
}  // namespace lookout
