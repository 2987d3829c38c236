// The import's statements without a server: staged values in COPY's text format (escapes, text
// that is not UTF-8, bytes, NULL), the monitors' rows, one staged table per single-node table,
// the move's marks only for the levels SQLite has rolled up, and its answer read strictly.
#include "store/import_statements.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace lookout {
namespace {

TEST(ImportStatements, ValuesAreWrittenAsCopyTextTakesThem) {
  std::string out;
  append_copy_integer(out, -42);
  out += '\t';
  append_copy_null(out);
  out += '\t';
  append_copy_text(out, "a\tb\nc\\d\re");
  out += '\t';
  append_copy_text(out, std::string("bad\xff\0x", 6));
  out += '\t';
  append_copy_bytea(out, std::string("\x00\x7f\xff", 3));
  out += '\t';
  append_copy_real(out, 1.5);
  EXPECT_EQ(out, "-42\t\\N\ta\\tb\\nc\\\\d\\re\tbad\xEF\xBF\xBD\xEF\xBF\xBDx\t\\\\x007fff\t1.5");
}

TEST(ImportStatements, MonitorsGoWithTheirIdOrNullAndTheirShard) {
  EXPECT_EQ(import_monitor_rows({{"api", 7, 200}, {"new\tone", std::nullopt, 3}}),
            "api\t7\t200\nnew\\tone\t\\N\t3\n");
}

TEST(ImportStatements, EveryTableIsStagedAndCopiedUnderItsOwnName) {
  const std::string staging = import_staging_script();
  for (const ImportTable& t : import_tables()) {
    EXPECT_NE(staging.find(fmt::format("CREATE TEMP TABLE {} (", t.staged)), std::string::npos)
        << t.staged;
    EXPECT_EQ(import_copy_sql(t), fmt::format("COPY {} FROM STDIN", t.staged));
  }
  EXPECT_EQ(import_tables().size(), 15u);
}

TEST(ImportStatements, TheMoveMarksOnlyTheLevelsRolledUpAndQuotesTheLocation) {
  ImportPlan plan;
  plan.location = "o'hare";
  plan.lease = Duration{5'000};
  plan.minute_until = 1'765'000'860'000;
  const std::string move = import_move_script(plan);
  EXPECT_EQ(move.rfind("BEGIN;", 0), 0u);
  EXPECT_NE(move.find("'minute', (timestamptz 'epoch' + 1765000860000 * interval "),
            std::string::npos);
  EXPECT_EQ(move.find("'hour', (timestamptz"), std::string::npos);
  EXPECT_EQ(move.find("'day', (timestamptz"), std::string::npos);
  EXPECT_NE(move.find("'o''hare', 'import'"), std::string::npos);
  EXPECT_NE(move.find("5000 * interval '1 millisecond'"), std::string::npos);
  EXPECT_NE(move.find("its lease of 5s"), std::string::npos);
  EXPECT_NE(move.find("COMMIT;\n"), std::string::npos);
}

TEST(ImportStatements, TheCountsAreReadStrictly) {
  PgResult r;
  r.rows = {{"results", "12"}, {"incidents", "0"}};
  const auto counts = import_counts(r);
  ASSERT_TRUE(counts.has_value());
  EXPECT_EQ(counts->size(), 2u);
  EXPECT_EQ(counts->at(0), (std::pair<std::string, int64_t>{"results", 12}));
  r.rows = {{"results", "twelve"}};
  EXPECT_FALSE(import_counts(r).has_value());
  r.rows = {{"results"}};
  EXPECT_FALSE(import_counts(r).has_value());
  r.error = "PostgreSQL at db:5432: gone";
  EXPECT_FALSE(import_counts(r).has_value());
}

}  // namespace
}  // namespace lookout
