// The maintenance windows' statements against a real PostgreSQL: a window goes in whole (text
// that a text[] could split or read as NULL, times to the millisecond) under the identity's
// next id, also past ids copied in by hand; the list leaves out what ended long ago; a deletion
// answers the window once and nothing the second time.
#include "store/pg_maintenance.h"

#include <gtest/gtest.h>

#include "tests/integration/cluster/cluster_helpers.h"
#include "tests/integration/harness.h"

namespace lookout::testing {
namespace {

TEST(PgMaintenance, WindowsGoInWholeAreListedAndDeletedOnce) {
  LOOKOUT_NEED_POSTGRES();
  PostgresServer pg;
  EventLoop loop;
  PgConnection conn(loop, Secret::plain(pg.dsn()), nullptr);
  conn.start();
  require_schema(loop, conn);

  const WallTime start = from_unix_ms(to_unix_ms(SystemClock().wall()) + 3'600'123);
  const MaintenanceRecord racks{0,      R"(Racks "b" {1,2}, \ and ')",
                                "NULL", {"portal-*", "a,b", "NULL", R"(we"b\)", ""},
                                start,  Duration{5'400'001}};
  const auto first =
      PgMaintenance::inserted_id(answer_to(loop, conn, PgMaintenance::insert(racks)));
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(*first, 1);
  // A window copied in under its own id, and the identity moved past it as the import does.
  pg.sql(
      "INSERT INTO maintenance_windows (id, title, body, monitors, starts_at, ends_at) VALUES "
      "(40, 'copied', '', '{api}', now() - interval '3 hours', now() - interval '2 hours'); "
      "SELECT setval(pg_get_serial_sequence('maintenance_windows', 'id'), 40)");
  MaintenanceRecord later = racks;
  later.title = "later";
  later.monitors = {"api"};
  const auto second =
      PgMaintenance::inserted_id(answer_to(loop, conn, PgMaintenance::insert(later)));
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(*second, 41);
  // Ended two days ago: left out of the list, kept in the table.
  pg.sql(
      "INSERT INTO maintenance_windows (title, body, monitors, starts_at, ends_at) VALUES "
      "('old', '', '{api}', now() - interval '3 days', now() - interval '2 days')");

  const auto listed =
      PgMaintenance::windows(answer_to(loop, conn, PgMaintenance::list(Duration{86'400'000})));
  ASSERT_TRUE(listed.has_value());
  ASSERT_EQ(listed->size(), 3u);
  MaintenanceRecord expected = racks;
  expected.id = 1;
  EXPECT_TRUE((*listed)[0] == expected) << (*listed)[0].title << " " << (*listed)[0].monitors.size()
                                        << " " << (*listed)[0].duration.count();
  EXPECT_EQ((*listed)[1].id, 40);
  EXPECT_EQ((*listed)[1].title, "copied");
  EXPECT_EQ((*listed)[2].id, 41);
  EXPECT_EQ(pg.sql("SELECT count(*) FROM maintenance_windows"), "4");
  EXPECT_EQ(pg.sql("SELECT count(*) FROM maintenance_windows, unnest(monitors) m WHERE m IS NULL"),
            "0");

  const auto gone = PgMaintenance::removed(answer_to(loop, conn, PgMaintenance::remove(1)));
  ASSERT_TRUE(gone.has_value());
  ASSERT_TRUE(gone->has_value());
  EXPECT_TRUE(**gone == expected);
  const auto again = PgMaintenance::removed(answer_to(loop, conn, PgMaintenance::remove(1)));
  ASSERT_TRUE(again.has_value());
  EXPECT_FALSE(again->has_value());
  EXPECT_EQ(pg.sql("SELECT string_agg(id::text, ',' ORDER BY id) FROM maintenance_windows"),
            "40,41,42");

  // A server that is gone answers an error, not an empty list.
  pg.stop();
  const PgResult down = answer_to(loop, conn, PgMaintenance::list(Duration{86'400'000}));
  EXPECT_FALSE(down.ok());
  EXPECT_EQ(PgMaintenance::windows(down), std::nullopt);
  conn.stop();
}

}  // namespace
}  // namespace lookout::testing
