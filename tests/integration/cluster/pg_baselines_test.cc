// The dns baselines' statements against a real PostgreSQL: each location keeps its own; a
// location's first answers become its baseline, and a second node's first answers do not
// replace it; answers seen later are kept beside it and moved into it by an accept, at every
// location that saw answers to the question; a changed question starts afresh; a location's
// list reads its rows only when baseline_version moved.
#include "store/pg_baselines.h"

#include <gtest/gtest.h>

#include "tests/integration/cluster/cluster_helpers.h"
#include "tests/integration/harness.h"

namespace lookout::testing {
namespace {

using BaselineAnswers = std::vector<std::string>;

TEST(PgBaselines, EachLocationKeepsItsOwnUntilAnAcceptTakesWhatItSawLast) {
  LOOKOUT_NEED_POSTGRES();
  PostgresServer pg;
  EventLoop loop;
  PgConnection conn(loop, Secret::plain(pg.dsn()), nullptr);
  conn.start();
  require_schema(loop, conn);
  const auto report = [&](const std::string& location, const Baseline& baseline,
                          const BaselineAnswers& seen) {
    return PgBaselines::reported(
        answer_to(loop, conn, PgBaselines::report("portal-dns", location, baseline, seen)));
  };
  const auto list = [&](const std::string& location, int64_t known) {
    return PgBaselines::read(answer_to(loop, conn, PgBaselines::list(location, known)), known);
  };
  const std::string question = "A portal.acme.test";
  // Text that JSON must keep whole: quotes, a backslash, a TXT record's escapes.
  const BaselineAnswers fra_first{"203.0.113.10", R"("v=spf1 -all" "a\"b\\c")"};
  const BaselineAnswers nyc_first{"198.51.100.7"};

  auto read = list("fra", -1);
  ASSERT_TRUE(read.has_value());
  ASSERT_TRUE(read->rows.has_value());
  EXPECT_TRUE(read->rows->empty());
  EXPECT_EQ(read->version, 0);

  // Each location's first answers (GeoDNS: they differ), each its own row.
  EXPECT_EQ(report("fra", Baseline{question, fra_first}, fra_first), std::optional<bool>(true));
  EXPECT_EQ(report("nyc", Baseline{question, nyc_first}, nyc_first), std::optional<bool>(true));
  // Another node of fra, which had not read fra's yet: fra's baseline stays, and only what it
  // saw is kept; the same again writes nothing.
  const BaselineAnswers fra_other{"203.0.113.99"};
  EXPECT_EQ(report("fra", Baseline{question, fra_other}, fra_other), std::optional<bool>(true));
  EXPECT_EQ(report("fra", Baseline{question, fra_other}, fra_other), std::optional<bool>(false));
  EXPECT_EQ(pg.sql("SELECT version FROM baseline_version"), "3");

  read = list("fra", 0);
  ASSERT_TRUE(read.has_value());
  EXPECT_EQ(read->version, 3);
  ASSERT_TRUE(read->rows.has_value());
  ASSERT_EQ(read->rows->size(), 1u);
  const LocationBaseline& fra = read->rows->at("portal-dns");
  EXPECT_EQ(fra.baseline.question, question);
  EXPECT_EQ(fra.baseline.answers, fra_first);
  EXPECT_EQ(fra.seen, fra_other);
  EXPECT_FALSE(list("fra", 3)->rows.has_value()) << "unchanged: nothing read";
  read = list("nyc", 0);
  ASSERT_TRUE(read.has_value() && read->rows.has_value());
  EXPECT_EQ(read->rows->at("portal-dns"),
            (LocationBaseline{Baseline{question, nyc_first}, nyc_first}));

  // An accept for another question takes nothing; for this one, each location's last answers.
  auto accepted =
      PgBaselines::accepted(answer_to(loop, conn, PgBaselines::accept("portal-dns", "MX x")));
  ASSERT_TRUE(accepted.has_value());
  EXPECT_TRUE(accepted->empty());
  EXPECT_EQ(pg.sql("SELECT version FROM baseline_version"), "3");
  accepted =
      PgBaselines::accepted(answer_to(loop, conn, PgBaselines::accept("portal-dns", question)));
  ASSERT_TRUE(accepted.has_value());
  EXPECT_EQ(*accepted,
            (std::map<std::string, BaselineAnswers>{{"fra", fra_other}, {"nyc", nyc_first}}));
  EXPECT_EQ(pg.sql("SELECT version FROM baseline_version"), "4");
  read = list("fra", 3);
  ASSERT_TRUE(read.has_value() && read->rows.has_value());
  EXPECT_EQ(read->rows->at("portal-dns").baseline.answers, fra_other);

  // The config asks another question: the next run's answers replace the row whole.
  const Baseline mx{"MX acme.test", {"10 mx1.acme.test."}};
  EXPECT_EQ(report("fra", mx, mx.answers), std::optional<bool>(true));
  read = list("fra", 4);
  ASSERT_TRUE(read.has_value() && read->rows.has_value());
  EXPECT_EQ(read->rows->at("portal-dns"), (LocationBaseline{mx, mx.answers}));
  EXPECT_EQ(pg.sql("SELECT count(*) FROM dns_baselines"), "2");
}

}  // namespace
}  // namespace lookout::testing
