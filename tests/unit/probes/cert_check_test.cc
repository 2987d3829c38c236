#include "probes/cert_check.h"

#include <gtest/gtest.h>
#include <openssl/x509_vfy.h>

#include "tests/support/fake_clock.h"

namespace lookout {
namespace {

constexpr Duration kOneDay{86'400'000};

struct Fixture {
  FakeClock clock;
  CertCheck check;
  CertObservation obs;
  Fixture() {
    check.host = "portal.test";
    obs.name_ok = true;
    obs.names = {"portal.test"};
    obs.chain = {
        leaf(90 * kOneDay),
        {"CN = Intermediate", "CN = Root", clock.wall() - kOneDay, clock.wall() + 900 * kOneDay}};
  }
  CertInfo leaf(Duration left) const {
    return {"CN = portal.test", "CN = Intermediate", clock.wall() - kOneDay, clock.wall() + left};
  }
};

TEST(CertCheck, ExpiryWindowsGiveDegradedThenDown) {
  Fixture f;
  EXPECT_EQ(judge_certificate(f.check, f.obs, f.clock.wall()).outcome, Outcome::kUp);
  f.obs.chain[0] = f.leaf(15 * kOneDay);
  auto v = judge_certificate(f.check, f.obs, f.clock.wall());
  EXPECT_EQ(v.outcome, Outcome::kDegraded);
  EXPECT_EQ(v.cause, "certificate for portal.test expires in 15 days (2026-11-16T00:00:00Z)");
  f.obs.chain[0] = f.leaf(5 * kOneDay);
  v = judge_certificate(f.check, f.obs, f.clock.wall());
  EXPECT_EQ(v.outcome, Outcome::kDown);
  EXPECT_EQ(v.cause, "certificate for portal.test expires in 5 days (2026-11-06T00:00:00Z)");
  EXPECT_EQ(*v.not_after, f.clock.wall() + 5 * kOneDay);
  f.obs.chain[0] = f.leaf(Duration{5 * 3'600'000});
  EXPECT_EQ(judge_certificate(f.check, f.obs, f.clock.wall())
                .cause.rfind("certificate for portal.test expires in 5 hours", 0),
            0u);
}

TEST(CertCheck, TheEarliestOfTheChainCounts) {
  Fixture f;
  f.obs.chain[1].not_after = f.clock.wall() + 3 * kOneDay;
  const auto v = judge_certificate(f.check, f.obs, f.clock.wall());
  EXPECT_EQ(v.outcome, Outcome::kDown);
  EXPECT_EQ(v.cause,
            "intermediate certificate CN = Intermediate in the chain of portal.test expires in 3 "
            "days (2026-11-04T00:00:00Z); "
            "issuer CN = Root");
}

TEST(CertCheck, VerificationErrorsNameWhatIsWrong) {
  Fixture f;
  f.obs.verify_error = X509_V_ERR_CERT_HAS_EXPIRED;
  f.obs.chain[0].not_after = f.clock.wall() - 2 * kOneDay;
  auto v = judge_certificate(f.check, f.obs, f.clock.wall());
  EXPECT_EQ(v.cause,
            "certificate for portal.test expired 2 days ago (2026-10-30T00:00:00Z; subject CN = "
            "portal.test, issuer CN = "
            "Intermediate)");
  f.obs.verify_error = X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT;
  EXPECT_NE(judge_certificate(f.check, f.obs, f.clock.wall()).cause.find("is self-signed"),
            std::string::npos);
  f.obs.verify_error = X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY;
  EXPECT_NE(judge_certificate(f.check, f.obs, f.clock.wall())
                .cause.find("is not trusted: its issuer CN = Intermediate"),
            std::string::npos);
  f.obs.verify_error = X509_V_ERR_CERT_NOT_YET_VALID;
  f.obs.chain[0].not_before = f.clock.wall() + 3 * kOneDay;
  EXPECT_NE(judge_certificate(f.check, f.obs, f.clock.wall())
                .cause.find("is not valid yet: it starts in 3 days"),
            std::string::npos);
  f.obs.verify_error = X509_V_OK;
  f.obs.chain[0] = f.leaf(90 * kOneDay);
  f.obs.name_ok = false;
  f.obs.names = {"other.test", "www.other.test"};
  v = judge_certificate(f.check, f.obs, f.clock.wall());
  EXPECT_EQ(v.outcome, Outcome::kDown);
  EXPECT_NE(v.cause.find("does not name it: it names other.test, www.other.test"),
            std::string::npos)
      << v.cause;
  f.obs.chain.clear();
  EXPECT_EQ(judge_certificate(f.check, f.obs, f.clock.wall()).cause,
            "no certificate from portal.test:443");
}

}  // namespace
}  // namespace lookout
