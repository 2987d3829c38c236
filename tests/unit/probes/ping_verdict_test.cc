// A ping run judged from its echoes: every echo lost is down, loss above expect.max_loss and a
// median above expect.max_rtt are degraded, with causes that say by how much.
#include "probes/ping_verdict.h"

#include <gtest/gtest.h>

#include "probes/ping_socket.h"

namespace lookout {
namespace {

constexpr int64_t kMs = 1000;

TEST(PingVerdict, EveryEchoLostIsDownWhateverTheExpectations) {
  for (const auto max_loss : {std::optional<double>{}, std::optional<double>{100.0}}) {
    const PingVerdict v = judge_ping(3, {}, max_loss, std::nullopt);
    EXPECT_EQ(v.outcome, Outcome::kDown);
    EXPECT_EQ(v.kind, ErrorKind::kConnect);
    EXPECT_EQ(v.cause, "3 of 3 echoes lost");
    EXPECT_EQ(v.loss_percent, 100.0);
    EXPECT_FALSE(v.median_rtt_us);
  }
}

TEST(PingVerdict, SomeLossIsUpWithoutMaxLossAndDegradedAboveIt) {
  const std::vector<int64_t> two{10 * kMs, 12 * kMs};
  const PingVerdict quiet = judge_ping(3, two, std::nullopt, std::nullopt);
  EXPECT_EQ(quiet.outcome, Outcome::kUp);
  EXPECT_EQ(quiet.cause, "");
  EXPECT_NEAR(quiet.loss_percent, 33.33, 0.01);

  const PingVerdict strict = judge_ping(3, two, 0.0, std::nullopt);
  EXPECT_EQ(strict.outcome, Outcome::kDegraded);
  EXPECT_EQ(strict.kind, ErrorKind::kExpectation);
  EXPECT_EQ(strict.cause, "1 of 3 echoes lost (33%, above 0%)");

  EXPECT_EQ(judge_ping(3, {kMs}, 50.0, std::nullopt).cause, "2 of 3 echoes lost (67%, above 50%)");
  EXPECT_EQ(judge_ping(4, {kMs, kMs, kMs}, 2.5, std::nullopt).cause,
            "1 of 4 echoes lost (25%, above 2.5%)");
  // At the limit is not above it.
  EXPECT_EQ(judge_ping(4, {kMs, kMs, kMs}, 25.0, std::nullopt).outcome, Outcome::kUp);
  EXPECT_EQ(judge_ping(3, {kMs, kMs, kMs}, 0.0, std::nullopt).outcome, Outcome::kUp);
}

TEST(PingVerdict, MedianRttAboveMaxRttIsSlow) {
  const PingVerdict v =
      judge_ping(3, {90 * kMs, 200 * kMs, 140 * kMs}, std::nullopt, Duration{100});
  EXPECT_EQ(v.outcome, Outcome::kDegraded);
  EXPECT_EQ(v.kind, ErrorKind::kSlow);
  EXPECT_EQ(v.cause, "median rtt 140ms above 100ms");
  EXPECT_EQ(v.median_rtt_us, 140 * kMs);
  // One slow echo does not move the median.
  EXPECT_EQ(judge_ping(3, {20 * kMs, 900 * kMs, 30 * kMs}, std::nullopt, Duration{100}).outcome,
            Outcome::kUp);
  EXPECT_EQ(judge_ping(1, {100 * kMs}, std::nullopt, Duration{100}).outcome, Outcome::kUp);
  EXPECT_EQ(judge_ping(1, {100 * kMs + 400}, std::nullopt, Duration{100}).cause,
            "median rtt 100.4ms above 100ms");
}

TEST(PingVerdict, LossAndSlownessTogetherNameBoth) {
  const PingVerdict v = judge_ping(3, {150 * kMs, 150 * kMs}, 0.0, Duration{100});
  EXPECT_EQ(v.outcome, Outcome::kDegraded);
  EXPECT_EQ(v.kind, ErrorKind::kExpectation);
  EXPECT_EQ(v.cause, "1 of 3 echoes lost (33%, above 0%); median rtt 150ms above 100ms");
}

TEST(PingVerdict, MedianOfOddAndEvenCounts) {
  EXPECT_FALSE(median_of({}));
  EXPECT_EQ(median_of({5}), 5);
  EXPECT_EQ(median_of({9, 1, 5}), 5);
  EXPECT_EQ(median_of({4, 1, 3, 2}), 2);  // (2 + 3) / 2, rounded down
  EXPECT_EQ(median_of({10, 30}), 20);
}

TEST(PingVerdict, RttIsWrittenInMillisecondsWithOneDecimalAtMost) {
  EXPECT_EQ(format_rtt(140'000), "140ms");
  EXPECT_EQ(format_rtt(12'500), "12.5ms");
  EXPECT_EQ(format_rtt(430), "0.4ms");
  EXPECT_EQ(format_rtt(0), "0ms");
}

TEST(PingPermission, TheProblemNamesTheSysctlItsValueTheGroupAndTheCapability) {
  const std::string p = ping_permission_problem("1 0", 998);
  EXPECT_NE(p.find("net.ipv4.ping_group_range (now \"1 0\")"), std::string::npos) << p;
  EXPECT_NE(p.find("gid 998"), std::string::npos) << p;
  EXPECT_NE(p.find("CAP_NET_RAW"), std::string::npos) << p;
  EXPECT_NE(p.find("docs/kinds/ping.md"), std::string::npos) << p;
  // Where /proc/sys is hidden (ProcSubset=pid) the value cannot be shown, the sysctl still is.
  const std::string hidden = ping_permission_problem("", 998);
  EXPECT_NE(hidden.find("net.ipv4.ping_group_range (which lookout cannot read here)"),
            std::string::npos)
      << hidden;
}

}  // namespace
}  // namespace lookout
