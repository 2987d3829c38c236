#include "core/secret.h"

#include <gtest/gtest.h>
#include <sys/prctl.h>

#include <sstream>
#include <stdexcept>

#include "core/crash.h"
#include "web/metrics.h"
#include "web/server.h"

namespace lookout {
namespace {

TEST(Secret, EveryPrintedFormIsMasked) {
  Secret s("hunter2-canary", true);
  EXPECT_EQ(fmt::format("{}", s), "***");
  EXPECT_EQ(fmt::format("{:>5}", s), "  ***");
  std::ostringstream os;
  os << s;
  EXPECT_EQ(os.str(), "***");
  EXPECT_EQ(s.reveal(), "hunter2-canary");
  EXPECT_EQ(fmt::format("{}", Secret::plain("visible")), "visible");
}

TEST(Redactor, ReplacesLongestFirstAndIgnoresTinyFragments) {
  Redactor r;
  r.add("abc");  // too short to mask without mangling text
  r.add("token-1234");
  r.add("token-1234-extended");
  EXPECT_EQ(r.apply("abc token-1234-extended and token-1234"), "abc *** and ***");
}

// Out of a noexcept function, as an exception escaping a loop callback would: std::terminate.
void fail_with(const std::string& what) { throw std::runtime_error(what); }
void escape(const std::string& what) noexcept { fail_with(what); }

TEST(CrashOutput, AnUncaughtExceptionIsPrintedWithTheSecretsMasked) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        guard_crash_output();
        auto secrets = std::make_shared<Redactor>();
        secrets->add("canary-5d41402abc4b2a76");
        mask_in_crash_output(secrets);
        escape("unexpected body 'token=canary-5d41402abc4b2a76'");
      },
      "lookout: fatal: an uncaught exception stopped the process: unexpected body "
      "'token=\\*\\*\\*'\n");
}

TEST(CrashOutput, WithoutTheSecretsAtHandTheMessageIsWithheld) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        guard_crash_output();
        escape("unexpected body 'token=canary-5d41402abc4b2a76'");
      },
      "lookout: fatal: an uncaught exception stopped the process: \\(its message is withheld: it "
      "could hold a secret\\)\n");
}

TEST(CrashOutput, TheProcessLeavesNoCoreFile) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        guard_crash_output();
        std::exit(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 0 ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "");
}

TEST(AdminToken, ComparesExactly) {
  const Secret token("0123456789abcdef", true);
  EXPECT_TRUE(token_matches("0123456789abcdef", token));
  EXPECT_FALSE(token_matches("0123456789abcdeX", token));
  EXPECT_FALSE(token_matches("0123456789abcde", token));
  EXPECT_FALSE(token_matches("", Secret("", true)));
}

TEST(Metrics, LabelValuesAreEscaped) { EXPECT_EQ(escape_label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd"); }

TEST(Metrics, PrivateMonitorsAreAbsentWithoutTheToken) {
  Snapshot s;
  MonitorView pub;
  pub.name = "public-one";
  pub.is_public = true;
  pub.last_outcome = Outcome::kUp;
  MonitorView priv;
  priv.name = "private-one";
  priv.last_outcome = Outcome::kDown;
  s.monitors = {std::make_shared<const MonitorView>(pub),
                std::make_shared<const MonitorView>(priv)};
  const std::string anon = metrics_text(s, StoreHealth{}, false);
  EXPECT_NE(anon.find("public-one"), std::string::npos);
  EXPECT_EQ(anon.find("private-one"), std::string::npos);
  EXPECT_NE(
      metrics_text(s, StoreHealth{}, true).find("lookout_probe_success{monitor=\"private-one\"} 0"),
      std::string::npos);
}

}  // namespace
}  // namespace lookout
