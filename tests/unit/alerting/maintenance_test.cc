#include "alerting/maintenance.h"

#include <gtest/gtest.h>

namespace lookout {
namespace {

const WallTime kMaintNow = from_unix_ms(1'796'090'400'000);  // 2026-12-01T02:00:00Z

bool any_portal(const std::string& glob) { return glob.rfind("portal", 0) == 0; }

MaintenanceDraft window_draft(std::string start, std::string duration) {
  return {"DB upgrade",
          "Writes pause for a minute.",
          std::move(start),
          std::move(duration),
          {"portal-*"}};
}

TEST(MaintenanceBook, AWindowCoversItsMonitorsFromStartUntilItsEnd) {
  MaintenanceBook book;
  const auto c = book.add(window_draft("2026-12-01T03:00:00Z", "1h"), kMaintNow, any_portal);
  ASSERT_EQ(c.code, MaintenanceChange::Code::kDone) << c.error;
  EXPECT_EQ(c.window.id, 1);
  const WallTime start = kMaintNow + std::chrono::hours(1);
  EXPECT_FALSE(book.covers("portal-home", start - std::chrono::milliseconds(1)));
  EXPECT_TRUE(book.covers("portal-home", start));
  EXPECT_TRUE(book.covers("portal-home", start + std::chrono::minutes(59)));
  EXPECT_FALSE(book.covers("portal-home", start + std::chrono::minutes(60)));
  EXPECT_FALSE(book.covers("billing", start));
}

TEST(MaintenanceBook, RefusesWhatCannotBeMeant) {
  MaintenanceBook book;
  struct Case {
    MaintenanceDraft d;
    std::string error;
  };
  MaintenanceDraft no_title = window_draft("2026-12-01T03:00:00Z", "1h");
  no_title.title.clear();
  MaintenanceDraft nothing = window_draft("2026-12-01T03:00:00Z", "1h");
  nothing.monitors.clear();
  MaintenanceDraft many = window_draft("2026-12-01T03:00:00Z", "1h");
  many.monitors.assign(101, "portal-*");
  MaintenanceDraft unknown = window_draft("2026-12-01T03:00:00Z", "1h");
  unknown.monitors = {"billing-*"};
  const std::vector<Case> cases = {
      {no_title, "title is required"},
      {nothing, "at least one"},
      {many, "more than 100"},
      {unknown, "\"billing-*\" matches no monitor"},
      {window_draft("tomorrow", "1h"), "not an RFC 3339 time"},
      {window_draft("2026-12-01T03:00:00Z", "an hour"), "duration"},
      {window_draft("2026-12-01T03:00:00Z", "0s"), "more than 0s"},
      {window_draft("2026-12-01T03:00:00Z", "40d"), "at most 31 days"},
      {window_draft("2026-12-01T00:00:00Z", "1h"), "already ended"},
  };
  for (const auto& c : cases) {
    const auto r = book.add(c.d, kMaintNow, any_portal);
    EXPECT_EQ(r.code, MaintenanceChange::Code::kInvalid) << c.error;
    EXPECT_NE(r.error.find(c.error), std::string::npos) << r.error;
  }
  EXPECT_TRUE(book.listed(kMaintNow).empty()) << "nothing refused is kept";
}

TEST(MaintenanceBook, ListsConfigAndApiWindowsSoonestFirstAndDeletesOnlyApiOnes) {
  MaintenanceBook book;
  MaintenanceWindow block;
  block.title = "Quarterly patching";
  block.monitors = {"portal-*"};
  block.start = kMaintNow + std::chrono::hours(5);
  block.duration = Duration{3'600'000};
  MaintenanceWindow ended = block;
  ended.start = kMaintNow - std::chrono::hours(5);
  book.set_config({ended, block});
  ASSERT_EQ(book.add(window_draft("2026-12-01T01:30:00Z", "1h"), kMaintNow, any_portal).code,
            MaintenanceChange::Code::kDone);

  const auto listed = book.listed(kMaintNow);
  ASSERT_EQ(listed.size(), 2u) << "an ended window is not listed";
  EXPECT_EQ(listed[0].id, "1");
  EXPECT_TRUE(listed[0].active(kMaintNow));
  EXPECT_FALSE(listed[0].from_config);
  EXPECT_EQ(listed[1].id, "config-2");
  EXPECT_FALSE(listed[1].active(kMaintNow));
  EXPECT_TRUE(listed[1].from_config);

  EXPECT_EQ(book.next_edge(kMaintNow), kMaintNow + std::chrono::minutes(30))
      << "the API window ends first";
  EXPECT_EQ(book.next_edge(kMaintNow + std::chrono::minutes(30)), block.start);
  EXPECT_EQ(book.next_edge(block.start + block.duration), std::nullopt);
  EXPECT_EQ(book.remove("config-2").code, MaintenanceChange::Code::kFromConfig);
  EXPECT_EQ(book.remove("config-9").code, MaintenanceChange::Code::kUnknown);
  EXPECT_EQ(book.remove("7").code, MaintenanceChange::Code::kUnknown);
  const auto gone = book.remove("1");
  EXPECT_EQ(gone.code, MaintenanceChange::Code::kDone);
  EXPECT_EQ(gone.window.title, "DB upgrade");
  EXPECT_FALSE(book.covers("portal-home", kMaintNow));
  EXPECT_EQ(book.remove("1").code, MaintenanceChange::Code::kUnknown);
}

TEST(MaintenanceBook, StoredWindowsComeBackAndNumberingGoesOn) {
  MaintenanceBook book;
  MaintenanceRecord kept{4, "kept", "", {"portal-*"}, kMaintNow, Duration{60'000}};
  book.load({kept});
  EXPECT_TRUE(book.covers("portal-x", kMaintNow));
  const auto next = book.add(window_draft("2026-12-01T03:00:00Z", "1h"), kMaintNow, any_portal);
  EXPECT_EQ(next.window.id, 5);
}

// A cluster's nodes check a draft alone and let the database number it: the same checks as
// add(), the window unnumbered, and the book unchanged.
TEST(MaintenanceBook, ADraftIsCheckedAsAddChecksItWithoutANumber) {
  const auto ok =
      check_maintenance(window_draft("2026-12-01T03:00:00Z", "1h"), kMaintNow, any_portal);
  ASSERT_EQ(ok.code, MaintenanceChange::Code::kDone) << ok.error;
  EXPECT_EQ(ok.window.id, 0);
  EXPECT_EQ(ok.window.title, "DB upgrade");
  EXPECT_EQ(ok.window.monitors, std::vector<std::string>{"portal-*"});
  EXPECT_EQ(ok.window.start, kMaintNow + std::chrono::hours(1));
  EXPECT_EQ(ok.window.duration, Duration{3'600'000});
  MaintenanceDraft nowhere = window_draft("2026-12-01T03:00:00Z", "1h");
  nowhere.monitors = {"billing-*"};
  const auto unmatched = check_maintenance(nowhere, kMaintNow, any_portal);
  EXPECT_EQ(unmatched.code, MaintenanceChange::Code::kInvalid);
  EXPECT_EQ(unmatched.error, "\"billing-*\" matches no monitor");
  const auto ended =
      check_maintenance(window_draft("2026-12-01T01:00:00Z", "1h"), kMaintNow, any_portal);
  EXPECT_EQ(ended.code, MaintenanceChange::Code::kInvalid);
  EXPECT_EQ(ended.error, "the window has already ended");
  EXPECT_EQ(check_maintenance(window_draft("tomorrow", "1h"), kMaintNow, any_portal).error,
            "start \"tomorrow\" is not an RFC 3339 time such as \"2026-12-01T02:00:00Z\"");
}

TEST(MaintenanceBook, IdsAreTakenApartAsListed) {
  EXPECT_EQ(api_maintenance_id("7"), 7);
  EXPECT_EQ(api_maintenance_id("123456789012"), 123'456'789'012);
  for (const char* bad : {"", "0", "07", "-1", "7a", "config-1", "1234567890123456789"})
    EXPECT_EQ(api_maintenance_id(bad), std::nullopt) << bad;
  MaintenanceBook book;
  MaintenanceWindow block;
  block.title = "Racks";
  block.monitors = {"portal-*"};
  block.start = kMaintNow;
  block.duration = Duration{60'000};
  book.set_config({block, block});
  EXPECT_EQ(book.config_block("config-2"), MaintenanceChange::Code::kFromConfig);
  EXPECT_EQ(book.config_block("config-3"), MaintenanceChange::Code::kUnknown);
  EXPECT_EQ(book.config_block("config-"), MaintenanceChange::Code::kUnknown);
  EXPECT_EQ(book.config_block("7"), std::nullopt);
}

}  // namespace
}  // namespace lookout
