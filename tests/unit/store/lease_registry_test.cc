// LeaseRegistry without a server: what each statement is sent (each name once, held leases with
// their epochs, the lease in milliseconds, names quoted into arrays), the fence's parameters after
// the decision's, and the answers read strictly. What the statements do is proven against a real
// PostgreSQL in tests/integration/cluster/lease_registry_test.cc.
#include "store/lease_registry.h"

#include <gtest/gtest.h>

namespace lookout {
namespace {

TEST(LeaseRegistry, AcquireRenewsWhatItHoldsUnderItsEpochAndAsksForTheRest) {
  const LeaseRegistry r("fra-1", Duration{10'000});
  const PgStatement s = r.acquire({"eval/7", "eval/10", "eval/7", "probe/fra/3"},
                                  {{"eval/7", "fra-1", 4, 900}, {"eval/99", "fra-1", 2, 900}});
  // Sorted and once each (ON CONFLICT changes a row once a statement); eval/99 is not asked for.
  EXPECT_EQ(s.params,
            (PgParams{"fra-1", "10000", R"({"eval/10","eval/7","probe/fra/3"})", "{NULL,4,NULL}"}));
  for (const char* part : {"clock_timestamp()", "ORDER BY w.name", "ON CONFLICT (name)"}) {
    EXPECT_NE(s.sql.find(part), std::string::npos) << part;
  }
  EXPECT_EQ(r.acquire({}, {}).params, (PgParams{"fra-1", "10000", "{}", "{}"}));
}

TEST(LeaseRegistry, NamesAreQuotedIntoTheArrays) {
  const LeaseRegistry r("fra-1", Duration{2000});
  EXPECT_EQ(r.acquire({R"(a"b\c)", "NULL"}, {}).params[2], R"({"NULL","a\"b\\c"})");
}

TEST(LeaseRegistry, ReleaseNamesEachLeaseWithTheEpochItIsHeldUnder) {
  const LeaseRegistry r("fra-1", Duration{10'000});
  const PgStatement s = r.release({{"eval/7", "fra-1", 4, 900}, {"eval/10", "fra-1", 1, 10}});
  EXPECT_EQ(s.params, (PgParams{"fra-1", R"({"eval/7","eval/10"})", "{4,1}"}));
  // The epoch stays: the next holder's tenure is a new one.
  EXPECT_NE(s.sql.find("SET holder = NULL, expires_at = '-infinity'\n"), std::string::npos);
}

TEST(LeaseRegistry, TheFenceComesAfterTheDecisionsParameters) {
  const PgStatement decision{"INSERT INTO t (a, b) SELECT $1, $2 FROM fence RETURNING a",
                             {"x", std::nullopt}};
  const PgStatement s = LeaseRegistry::fenced({"eval/7", "fra-1", 4}, decision);
  EXPECT_EQ(s.params, (PgParams{"x", std::nullopt, "eval/7", "fra-1", "4"}));
  EXPECT_NE(s.sql.find("name = $3 AND holder = $4 AND epoch = $5::bigint"), std::string::npos)
      << s.sql;
  EXPECT_NE(s.sql.find("FOR SHARE"), std::string::npos);
  EXPECT_NE(s.sql.find(decision.sql), std::string::npos);
  const PgStatement bare = LeaseRegistry::fenced({"eval/7", "fra-1", 4}, {"DELETE FROM t", {}});
  EXPECT_NE(bare.sql.find("name = $1 AND holder = $2 AND epoch = $3::bigint"), std::string::npos);
}

TEST(LeaseRegistry, ReadsAnswersStrictly) {
  PgResult ok;
  ok.rows = {{"eval/7", "fra-1", "4", "9998"}, {"eval/8", "fra-2", "1", "-2"}};
  const auto rows = LeaseRegistry::rows(ok);
  ASSERT_TRUE(rows);
  EXPECT_EQ(*rows,
            (std::vector<LeaseRow>{{"eval/7", "fra-1", 4, 9998}, {"eval/8", "fra-2", 1, -2}}));
  EXPECT_TRUE(LeaseRegistry::rows(PgResult{})->empty());

  PgResult no_holder;
  no_holder.rows = {{"eval/7", std::nullopt, "4", "9998"}};
  EXPECT_FALSE(LeaseRegistry::rows(no_holder));
  PgResult short_row;
  short_row.rows = {{"eval/7", "fra-1", "4"}};
  EXPECT_FALSE(LeaseRegistry::rows(short_row));
  PgResult not_a_number;
  not_a_number.rows = {{"eval/7", "fra-1", "4", "-Infinity"}};
  EXPECT_FALSE(LeaseRegistry::rows(not_a_number));
  PgResult failed;
  failed.error = "PostgreSQL at db1:5432: relation \"leases\" does not exist";
  EXPECT_FALSE(LeaseRegistry::rows(failed));

  PgResult released;
  released.rows = {{"eval/8"}, {"eval/10"}};
  EXPECT_EQ(LeaseRegistry::released(released), (std::vector<std::string>{"eval/10", "eval/8"}));
  PgResult null_name;
  null_name.rows = {{std::nullopt}};
  EXPECT_FALSE(LeaseRegistry::released(null_name));
  EXPECT_FALSE(LeaseRegistry::released(failed));
}

TEST(LeaseRegistry, ReadsTheFenceOutcome) {
  PgResult held;
  held.rows = {{"t", "1"}};
  const auto h = LeaseRegistry::fence_outcome(held);
  ASSERT_TRUE(h);
  EXPECT_TRUE(h->held);
  EXPECT_EQ(h->written, 1);
  PgResult lost;
  lost.rows = {{"f", "0"}};
  const auto l = LeaseRegistry::fence_outcome(lost);
  ASSERT_TRUE(l);
  EXPECT_FALSE(l->held);
  EXPECT_EQ(l->written, 0);

  PgResult two_rows;
  two_rows.rows = {{"t", "1"}, {"t", "1"}};
  EXPECT_FALSE(LeaseRegistry::fence_outcome(two_rows));
  PgResult not_bool;
  not_bool.rows = {{"yes", "1"}};
  EXPECT_FALSE(LeaseRegistry::fence_outcome(not_bool));
  PgResult failed;
  failed.error = "PostgreSQL at db1:5432: syntax error";
  EXPECT_FALSE(LeaseRegistry::fence_outcome(failed));
}

}  // namespace
}  // namespace lookout
