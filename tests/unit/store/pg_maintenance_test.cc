// PgMaintenance without a server: what each statement is sent, and its answers read strictly.
// What the statements do is proven against a real PostgreSQL in
// tests/integration/cluster/pg_maintenance_test.cc.
#include "store/pg_maintenance.h"

#include <gtest/gtest.h>

namespace lookout {
namespace {

using MaintCells = std::vector<std::optional<std::string>>;

PgResult maint_answer(std::vector<MaintCells> rows) { return PgResult{"", "", std::move(rows)}; }

MaintCells maint_row(const char* id, const char* monitors) {
  return {id, "DB upgrade", "Writes pause.", monitors, "1796090400000", "1796094000000"};
}

TEST(PgMaintenance, AnInsertCarriesTheWindowAsTextAndItsEndNotItsLength) {
  const MaintenanceRecord w{9,
                            "Racks \"b\"",
                            "",
                            {"portal-*", "a,b", "NULL"},
                            from_unix_ms(1'796'090'400'000),
                            Duration{5'400'000}};
  const PgStatement s = PgMaintenance::insert(w);
  ASSERT_EQ(s.params.size(), 5u);
  EXPECT_EQ(s.params[0], "Racks \"b\"");
  EXPECT_EQ(s.params[1], "");
  EXPECT_EQ(s.params[2], R"({"portal-*","a,b","NULL"})");
  EXPECT_EQ(s.params[3], "1796090400000");
  EXPECT_EQ(s.params[4], "1796095800000");
  EXPECT_NE(s.sql.find("RETURNING id"), std::string::npos);
  EXPECT_EQ(s.sql.find("(id,"), std::string::npos) << "the identity numbers it: " << s.sql;
}

TEST(PgMaintenance, TextThatPostgresqlRefusesIsMended) {
  const MaintenanceRecord w{0,     std::string("a\0b", 3), "\xff",
                            {"x"}, from_unix_ms(0),        Duration{1000}};
  const PgStatement s = PgMaintenance::insert(w);
  EXPECT_EQ(s.params[0],
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(s.params[1], "\xEF\xBF\xBD");
}

TEST(PgMaintenance, TheListReadsWindowsThatHaveNotLongEnded) {
  const PgStatement s = PgMaintenance::list(Duration{86'400'000});
  EXPECT_EQ(s.params, PgParams{"86400000"});
  EXPECT_NE(s.sql.find("ORDER BY id"), std::string::npos);
  const auto windows = PgMaintenance::windows(
      maint_answer({maint_row("3", R"(["portal-*","we{b}"])"), maint_row("7", R"(["NULL"])")}));
  ASSERT_TRUE(windows.has_value());
  ASSERT_EQ(windows->size(), 2u);
  const MaintenanceRecord& w = (*windows)[0];
  EXPECT_EQ(w.id, 3);
  EXPECT_EQ(w.title, "DB upgrade");
  EXPECT_EQ(w.body, "Writes pause.");
  EXPECT_EQ(w.monitors, (std::vector<std::string>{"portal-*", "we{b}"}));
  EXPECT_EQ(w.start, from_unix_ms(1'796'090'400'000));
  EXPECT_EQ(w.duration, Duration{3'600'000});
  EXPECT_EQ((*windows)[1].monitors, std::vector<std::string>{"NULL"});
  EXPECT_EQ(PgMaintenance::windows(maint_answer({})), std::vector<MaintenanceRecord>{});
}

TEST(PgMaintenance, AnswersOfAnotherShapeAreNotGuessedAt) {
  EXPECT_EQ(PgMaintenance::windows(PgResult{"PostgreSQL at db1:5432: gone", "", {}}), std::nullopt);
  EXPECT_EQ(PgMaintenance::windows(maint_answer({maint_row("x", "[]")})), std::nullopt);
  EXPECT_EQ(PgMaintenance::windows(maint_answer({maint_row("3", "[1]")})), std::nullopt);
  EXPECT_EQ(PgMaintenance::windows(maint_answer({maint_row("3", "{a}")})), std::nullopt);
  MaintCells short_row = maint_row("3", "[]");
  short_row.pop_back();
  EXPECT_EQ(PgMaintenance::windows(maint_answer({short_row})), std::nullopt);

  EXPECT_EQ(PgMaintenance::inserted_id(maint_answer({{"12"}})), 12);
  EXPECT_EQ(PgMaintenance::inserted_id(maint_answer({})), std::nullopt);
  EXPECT_EQ(PgMaintenance::inserted_id(PgResult{"refused", "42P01", {}}), std::nullopt);
}

TEST(PgMaintenance, ADeletionSaysWhetherThereWasAWindow) {
  const PgStatement s = PgMaintenance::remove(7);
  EXPECT_EQ(s.params, PgParams{"7"});
  EXPECT_NE(s.sql.find("DELETE FROM maintenance_windows"), std::string::npos);
  const auto gone = PgMaintenance::removed(maint_answer({maint_row("7", R"(["api"])")}));
  ASSERT_TRUE(gone.has_value());
  ASSERT_TRUE(gone->has_value());
  EXPECT_EQ((*gone)->id, 7);
  EXPECT_EQ((*gone)->title, "DB upgrade");
  const auto none = PgMaintenance::removed(maint_answer({}));
  ASSERT_TRUE(none.has_value());
  EXPECT_FALSE(none->has_value());
  EXPECT_EQ(PgMaintenance::removed(PgResult{"lost", "", {}}), std::nullopt);
}

}  // namespace
}  // namespace lookout
