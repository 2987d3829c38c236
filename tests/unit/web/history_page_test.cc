#include "web/history_page.h"

#include <gtest/gtest.h>

#include "tests/support/xml_tree.h"
#include "tests/unit/web/snapshot_fixture.h"

namespace lookout {
namespace {

using test::kWebDay;  // 2026-11-01

TEST(HistoryPage, MonthHeadings) {
  EXPECT_EQ(month_heading(kWebDay), "November 2026");
  EXPECT_EQ(month_heading(kWebDay - std::chrono::seconds(1)), "October 2026");
  EXPECT_EQ(month_heading(kWebDay + std::chrono::hours(24 * 31)), "December 2026");
}

TEST(HistoryPage, PostsAndIncidentsUnderTheirMonthNewestFirst) {
  PostRecord p;
  p.id = 5;
  p.title = "Checkout <down>";
  p.impact = PostImpact::kCritical;
  p.created_at = kWebDay + std::chrono::hours(24 * 35);  // December
  p.resolved_at = p.created_at + std::chrono::hours(1);
  IncidentRecord early, late;
  early.id = 1;
  early.monitor = "api";
  early.cause = "timeout after 5s";
  early.started_at = kWebDay - std::chrono::hours(24);  // October
  early.resolved_at = early.started_at + std::chrono::minutes(3);
  late = early;
  late.id = 2;
  late.started_at = kWebDay + std::chrono::hours(2);  // November
  late.resolved_at = late.started_at + std::chrono::minutes(3);
  const std::string html = render_history_page({"Acme", {&p}, {early, late}, kWebDay, 365});
  const auto doc = test::parse_xml(html.substr(html.find("<html")));
  ASSERT_TRUE(doc.root) << doc.error;
  const size_t dec = html.find("<h2>December 2026</h2>");
  const size_t nov = html.find("<h2>November 2026</h2>");
  const size_t oct = html.find("<h2>October 2026</h2>");
  ASSERT_NE(dec, std::string::npos) << html;
  ASSERT_NE(nov, std::string::npos);
  ASSERT_NE(oct, std::string::npos);
  EXPECT_LT(dec, nov);
  EXPECT_LT(nov, oct);
  const size_t post_at = html.find("href=\"/posts/5\"");
  EXPECT_GT(post_at, dec);
  EXPECT_LT(post_at, nov);
  EXPECT_NE(html.find("Checkout &lt;down&gt;"), std::string::npos);
  EXPECT_GT(html.find("data-incident=\"2\""), nov);
  EXPECT_GT(html.find("data-incident=\"1\""), oct);
}

TEST(HistoryPage, SaysWhenNothingHappened) {
  const std::string html = render_history_page({"Acme", {}, {}, kWebDay, 365});
  EXPECT_NE(html.find("Nothing happened"), std::string::npos);
  EXPECT_NE(html.find("last 365 days"), std::string::npos);
}

}  // namespace
}  // namespace lookout
