// NodeRegistry without a server: the renewal cadence, the statements' parameters, and the list
// answer read strictly (a row in another shape is refused, not half read).
#include "store/node_registry.h"

#include <gtest/gtest.h>

namespace lookout {
namespace {

const NodeIdentity kFra1{"fra-1", "fra", "0.1.0", "h1"};

TEST(NodeRegistry, RenewsFiveTimesALease) {
  EXPECT_EQ(NodeRegistry(kFra1, Duration{10'000}).renew_every(), Duration{2000});
  EXPECT_EQ(NodeRegistry(kFra1, Duration{2000}).renew_every(), Duration{400});
}

TEST(NodeRegistry, StatementsCarryTheNodeAndNeverItsClock) {
  const NodeRegistry r(kFra1, Duration{10'000});
  const PgParams self{"fra-1", "fra", "0.1.0", "h1"};
  EXPECT_EQ(r.join().params, self);
  EXPECT_EQ(r.renew().params, self);
  EXPECT_EQ(r.leave().params, PgParams{"fra-1"});
  // The join sets started_at, a renewal keeps it.
  EXPECT_NE(r.join().sql.find("started_at = excluded.started_at"), std::string::npos);
  EXPECT_EQ(r.renew().sql.find("started_at = excluded"), std::string::npos);
  for (const auto& s : {r.join(), r.renew(), NodeRegistry::list(Duration{10'000})}) {
    EXPECT_NE(s.sql.find("clock_timestamp()"), std::string::npos) << s.sql;
  }
  EXPECT_EQ(NodeRegistry::list(Duration{10'000}).params, PgParams{"10000"});
}

TEST(NodeRegistry, ReadsTheListStrictly) {
  PgResult ok;
  ok.rows = {{"fra-1", "fra", "0.1.0", "t", "1500", "h1"},
             {"nyc-1", "nyc", "0.1.0", "f", "-3", "h1"}};
  const auto nodes = NodeRegistry::nodes(ok);
  ASSERT_TRUE(nodes);
  ASSERT_EQ(nodes->size(), 2u);
  EXPECT_EQ((*nodes)[0].node, "fra-1");
  EXPECT_TRUE((*nodes)[0].alive);
  EXPECT_EQ((*nodes)[0].last_seen_ago_ms, 1500);
  EXPECT_FALSE((*nodes)[1].alive);
  EXPECT_EQ((*nodes)[1].last_seen_ago_ms, -3);

  PgResult short_row;
  short_row.rows = {{"fra-1", "fra", "0.1.0", "t", "1500"}};
  EXPECT_FALSE(NodeRegistry::nodes(short_row));
  PgResult not_a_number;
  not_a_number.rows = {{"fra-1", "fra", "0.1.0", "t", "15s", "h1"}};
  EXPECT_FALSE(NodeRegistry::nodes(not_a_number));
  PgResult null_name;
  null_name.rows = {{std::nullopt, "fra", "0.1.0", "t", "1", "h1"}};
  EXPECT_FALSE(NodeRegistry::nodes(null_name));
  PgResult failed;
  failed.error = "PostgreSQL at db1:5432: relation \"nodes\" does not exist";
  EXPECT_FALSE(NodeRegistry::nodes(failed));
  EXPECT_TRUE(NodeRegistry::nodes(PgResult{})->empty());
}

}  // namespace
}  // namespace lookout
