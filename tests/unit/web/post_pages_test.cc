#include "web/post_pages.h"

#include <gtest/gtest.h>

namespace lookout {
namespace {

TEST(PostBodyHtml, EscapesEverythingAndLinksOnlyWebUrls) {
  struct Case {
    std::string text, html;
  };
  const std::vector<Case> cases = {
      {"plain", "plain"},
      {"<b>bold</b> & \"q\"", "&lt;b&gt;bold&lt;/b&gt; &amp; &quot;q&quot;"},
      {"see https://status.example/x?a=1&b=2 now",
       "see <a href=\"https://status.example/x?a=1&amp;b=2\" rel=\"nofollow noopener "
       "noreferrer\">https://status.example/x?a=1&amp;b=2</a> now"},
      {"http://a.example",
       "<a href=\"http://a.example\" rel=\"nofollow noopener "
       "noreferrer\">http://a.example</a>"},
      {"javascript:alert(1) data:text/html,x ftp://f.example",
       "javascript:alert(1) data:text/html,x ftp://f.example"},
      {"https:// alone", "https:// alone"},
      {"httpx://no", "httpx://no"},
      {"https://x.example/\"><script>",
       "<a href=\"https://x.example/&quot;&gt;&lt;script&gt;\" "
       "rel=\"nofollow noopener noreferrer\">"
       "https://x.example/&quot;&gt;&lt;script&gt;</a>"},
      {"a\nhttps://b.example\nc",
       "a\n<a href=\"https://b.example\" rel=\"nofollow noopener "
       "noreferrer\">https://b.example</a>\nc"},
  };
  for (const auto& c : cases) EXPECT_EQ(post_body_html(c.text), c.html) << c.text;
}

PostRecord sample_post() {
  PostRecord p;
  p.id = 3;
  p.title = "Checkout <errors>";
  p.impact = PostImpact::kMajor;
  p.monitors = {"api"};
  p.created_at = from_unix_ms(1'780'000'000'000);
  p.updates = {{PostStatus::kInvestigating, "first", p.created_at},
               {PostStatus::kIdentified, "second https://x.example", p.created_at}};
  return p;
}

TEST(PostPages, OpenPostsShowTheirLatestUpdateAndImpact) {
  EXPECT_EQ(open_posts_section({}), "");
  const PostRecord p = sample_post();
  const std::string html = open_posts_section({&p});
  for (const char* part :
       {"href=\"/posts/3\"", "Checkout &lt;errors&gt;", "Major impact", "Identified",
        "<a href=\"https://x.example\"", "class=\"post impact-major\""}) {
    EXPECT_NE(html.find(part), std::string::npos) << part << "\n" << html;
  }
  EXPECT_EQ(html.find("first"), std::string::npos);
}

TEST(PostPages, APostsPageListsEveryUpdateNewestFirst) {
  const PostRecord p = sample_post();
  const std::string html =
      render_post_page({p, {"api"}, "Acme status", from_unix_ms(1'780'000'100'000)});
  const size_t second = html.find("second");
  const size_t first = html.find("first");
  ASSERT_NE(second, std::string::npos);
  ASSERT_NE(first, std::string::npos);
  EXPECT_LT(second, first);
  EXPECT_NE(html.find("<a href=\"/monitor/api\">api</a>"), std::string::npos);
  EXPECT_NE(html.find("<title>Checkout &lt;errors&gt;: Acme status</title>"), std::string::npos);
}

TEST(PostPages, AMonitorsRowSaysTheWorstImpactOfTheOpenPostsNamingIt) {
  PostRecord minor = sample_post();
  minor.id = 9;
  minor.impact = PostImpact::kMinor;
  PostRecord major = sample_post();  // id 3, major, about "api"
  PostRecord other = sample_post();
  other.id = 11;
  other.impact = PostImpact::kCritical;
  other.monitors = {"web"};
  EXPECT_EQ(post_impact_note("api", {}), "");
  EXPECT_EQ(post_impact_note("db", {&minor, &major, &other}), "");
  EXPECT_EQ(post_impact_note("api", {&minor, &major, &other}),
            "<span class=\"post-note impact-major\"><a href=\"/posts/9\">Major impact</a></span>")
      << "the worst impact, linked to the newest post naming it";
}

}  // namespace
}  // namespace lookout
