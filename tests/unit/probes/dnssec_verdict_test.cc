// The dnssec monitor's verdict: bogus and insecure answers are down with the reason, signed
// denials are down with their rcode, a signature expiring within warn_within is degraded.
#include "probes/dnssec_verdict.h"

#include <gtest/gtest.h>

namespace lookout {
namespace {

constexpr int64_t kVerdictNow = 1'796'500'000;  // 2026-12-05 19:46:40 UTC

DnssecSpec spec() {
  DnssecSpec s;
  s.query = "portal.acme.test";
  return s;
}

DnssecAnswer secure_answer() {
  DnssecAnswer a;
  a.havedata = true;
  a.secure = true;
  return a;
}

RrsigRecord signature(int64_t expires_in) {
  RrsigRecord s;
  s.owner = "acme.test";
  s.type_covered = 48;
  s.signer = "acme.test";
  s.key_tag = 17455;
  s.inception = kVerdictNow - 86'400;
  s.expiration = kVerdictNow + expires_in;
  return s;
}

TEST(DnssecVerdict, SecureWithTimeLeftIsUp) {
  const auto v = judge_dnssec(spec(), secure_answer(), signature(10 * 86'400), kVerdictNow, "x");
  EXPECT_EQ(v.outcome, Outcome::kUp);
  EXPECT_EQ(v.cause, "");
  // Without signatures read there is nothing to warn of.
  EXPECT_EQ(judge_dnssec(spec(), secure_answer(), std::nullopt, kVerdictNow, "x").outcome,
            Outcome::kUp);
}

TEST(DnssecVerdict, ASignatureExpiringWithinWarnWithinIsDegraded) {
  const auto v = judge_dnssec(spec(), secure_answer(), signature(2 * 86'400 + 3 * 3'600 + 59),
                              kVerdictNow, "x");
  EXPECT_EQ(v.outcome, Outcome::kDegraded);
  EXPECT_EQ(v.kind, ErrorKind::kExpectation);
  EXPECT_EQ(v.cause,
            "the signature of acme.test DNSKEY by acme.test (key 17455) expires in 2 days 3 hours "
            "(2026-12-07 22:47 UTC)");
  // warn_within = 0 turns the check off.
  DnssecSpec off = spec();
  off.warn_within = Duration{0};
  EXPECT_EQ(judge_dnssec(off, secure_answer(), signature(60), kVerdictNow, "x").outcome,
            Outcome::kUp);
}

TEST(DnssecVerdict, BogusIsDownWithUnboundsReason) {
  DnssecAnswer a;
  a.rcode = 2;
  a.bogus = true;
  a.why_bogus =
      "validation failure <portal.acme.test. A IN>: signature expired from 127.0.0.1 for key "
      "acme.test. while building chain of trust";
  const auto v = judge_dnssec(spec(), a, std::nullopt, kVerdictNow, "127.0.0.1:53");
  EXPECT_EQ(v.outcome, Outcome::kDown);
  EXPECT_EQ(v.cause,
            "bogus: signature expired from 127.0.0.1 for key acme.test. while building chain of "
            "trust");
  EXPECT_EQ(dnssec_bogus_reason(""), "the answer failed validation");
  EXPECT_EQ(dnssec_bogus_reason("no signatures"), "no signatures");
}

TEST(DnssecVerdict, InsecureIsDown) {
  DnssecAnswer a;
  a.havedata = true;
  const auto v = judge_dnssec(spec(), a, std::nullopt, kVerdictNow, "x");
  EXPECT_EQ(v.outcome, Outcome::kDown);
  EXPECT_EQ(v.cause,
            "insecure: no DNSSEC chain of trust for portal.acme.test (no trust anchor above it, or "
            "a parent zone proves it unsigned)");
  EXPECT_STREQ(dnssec_security(a), "insecure");
}

TEST(DnssecVerdict, SignedDenialsAndResolverFailures) {
  DnssecAnswer nx = secure_answer();
  nx.havedata = false;
  nx.nxdomain = true;
  nx.rcode = 3;
  EXPECT_EQ(judge_dnssec(spec(), nx, std::nullopt, kVerdictNow, "x").cause,
            "NXDOMAIN: portal.acme.test does not exist (a signed denial)");
  DnssecAnswer nodata = secure_answer();
  nodata.havedata = false;
  const auto v = judge_dnssec(spec(), nodata, std::nullopt, kVerdictNow, "x");
  EXPECT_EQ(v.kind, ErrorKind::kNoRecords);
  EXPECT_EQ(v.cause, "no A records for portal.acme.test (the name exists; a signed denial)");
  DnssecAnswer servfail;
  servfail.rcode = 2;
  EXPECT_EQ(judge_dnssec(spec(), servfail, std::nullopt, kVerdictNow, "127.0.0.1:53").cause,
            "SERVFAIL: no answer for A portal.acme.test from 127.0.0.1:53");
  DnssecAnswer refused;
  refused.rcode = 5;
  EXPECT_EQ(judge_dnssec(spec(), refused, std::nullopt, kVerdictNow, "127.0.0.1:53").kind,
            ErrorKind::kDns);
  EXPECT_EQ(dnssec_rcode_name(9), "NOTAUTH");
  EXPECT_EQ(dnssec_rcode_name(23), "RCODE23");
}

TEST(DnssecVerdict, TimeLeftReadsAsAPersonWouldSayIt) {
  EXPECT_EQ(dnssec_time_left(86'400), "1 day");
  EXPECT_EQ(dnssec_time_left(3 * 86'400 + 3'600), "3 days 1 hour");
  EXPECT_EQ(dnssec_time_left(5 * 3'600 + 12 * 60), "5 hours 12 minutes");
  EXPECT_EQ(dnssec_time_left(40 * 60 + 5), "40 minutes");
  EXPECT_EQ(dnssec_time_left(30), "less than a minute");
  EXPECT_EQ(dnssec_time_left(-5), "no time (it has expired)");
}

}  // namespace
}  // namespace lookout
