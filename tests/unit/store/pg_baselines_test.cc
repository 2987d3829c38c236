// PgBaselines without a server: the answers read strictly (a shape this lookout does not know
// is a failure, never a guess). What the statements do is proven against a real PostgreSQL in
// tests/integration/cluster/pg_baselines_test.cc.
#include "store/pg_baselines.h"

#include <gtest/gtest.h>

namespace lookout {
namespace {

using BaselineCells = std::vector<std::optional<std::string>>;

PgResult baseline_answer(std::vector<BaselineCells> rows) {
  return PgResult{"", "", std::move(rows)};
}

TEST(PgBaselines, AListReadsEveryRowOnlyWhenTheVersionMoved) {
  const auto read = PgBaselines::read(
      baseline_answer({{"7", "a", "A a.test", R"(["192.0.2.1"])", R"(["192.0.2.2"])"},
                       {"7", "b", "MX b.test", "[]", "[]"}}),
      6);
  ASSERT_TRUE(read.has_value());
  EXPECT_EQ(read->version, 7);
  ASSERT_TRUE(read->rows.has_value());
  ASSERT_EQ(read->rows->size(), 2u);
  EXPECT_EQ(read->rows->at("a"),
            (LocationBaseline{Baseline{"A a.test", {"192.0.2.1"}}, {"192.0.2.2"}}));
  EXPECT_TRUE(read->rows->at("b").baseline.answers.empty());

  // The version the reader knew: nothing read. None at all: one row saying the version.
  const auto same = PgBaselines::read(baseline_answer({{"7", {}, {}, {}, {}}}), 7);
  ASSERT_TRUE(same.has_value());
  EXPECT_FALSE(same->rows.has_value());
  const auto none = PgBaselines::read(baseline_answer({{"0", {}, {}, {}, {}}}), -1);
  ASSERT_TRUE(none.has_value() && none->rows.has_value());
  EXPECT_TRUE(none->rows->empty());
}

TEST(PgBaselines, AnswersOfAnotherShapeAreFailures) {
  EXPECT_FALSE(PgBaselines::read(PgResult{"timeout", "", {}}, -1));
  EXPECT_FALSE(PgBaselines::read(baseline_answer({}), -1));
  EXPECT_FALSE(PgBaselines::read(baseline_answer({{"1", "a", "A a", "{}", "[]"}}), 0))
      << "answers not an array";
  EXPECT_FALSE(PgBaselines::read(baseline_answer({{"1", "a", "A a", "[1]", "[]"}}), 0))
      << "an answer not a string";
  EXPECT_FALSE(PgBaselines::read(baseline_answer({{"1", "a", {}, "[]", "[]"}}), 0));
  EXPECT_FALSE(PgBaselines::read(
      baseline_answer({{"1", "a", "A a", "[]", "[]"}, {"2", "b", "A b", "[]", "[]"}}), 0))
      << "two versions in one answer";
  EXPECT_FALSE(PgBaselines::reported(baseline_answer({{"2"}})));
  EXPECT_EQ(PgBaselines::reported(baseline_answer({{"0"}})), std::optional<bool>(false));
  EXPECT_FALSE(PgBaselines::accepted(baseline_answer({{{}, "[]"}})));
  EXPECT_FALSE(PgBaselines::accepted(baseline_answer({{"fra", "not json"}})));
  const auto accepted = PgBaselines::accepted(baseline_answer({{"fra", R"(["x"])"}}));
  ASSERT_TRUE(accepted.has_value());
  EXPECT_EQ(accepted->at("fra"), std::vector<std::string>{"x"});
}

TEST(PgBaselines, AReportCarriesTheAnswersAsJsonAndTheQuestionMended) {
  const PgStatement s = PgBaselines::report(
      "portal-dns", "fra", Baseline{std::string("A a\0b", 5), {"\"q\" \\"}}, {"x"});
  ASSERT_EQ(s.params.size(), 5u);
  EXPECT_EQ(s.params[0], "fra");
  EXPECT_EQ(s.params[1], "portal-dns");
  EXPECT_EQ(s.params[2],
            "A a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(s.params[3], R"(["\"q\" \\"])");
  EXPECT_EQ(s.params[4], R"(["x"])");
}

}  // namespace
}  // namespace lookout
