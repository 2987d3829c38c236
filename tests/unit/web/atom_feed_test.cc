#include "web/atom_feed.h"

#include <gtest/gtest.h>

#include "tests/support/xml_tree.h"
#include "tests/unit/web/snapshot_fixture.h"

namespace lookout {
namespace {

using test::kWebDay;

constexpr char kAtom[] = "http://www.w3.org/2005/Atom";

IncidentRecord feed_incident(int64_t id, std::string monitor, WallTime start,
                             std::optional<WallTime> resolved) {
  IncidentRecord i;
  i.id = id;
  i.monitor = std::move(monitor);
  i.state = State::kDown;
  i.cause = "expected status 200, got <503>";
  i.started_at = start;
  i.resolved_at = resolved;
  return i;
}

TEST(AtomFeed, IsWellFormedAtomWithStableIdsNewestFirst) {
  PostRecord p;
  p.id = 7;
  p.title = "Checkout <slow> & failing";
  p.impact = PostImpact::kMajor;
  p.created_at = kWebDay;
  p.updates = {{PostStatus::kInvestigating, "Looking at https://x.example/a?b=1&c=2", kWebDay},
               {PostStatus::kIdentified, "Found it.", kWebDay + std::chrono::minutes(30)}};
  FeedInput in{"Acme <Status>", "https://status.acme.example", {&p}, {}, kWebDay};
  in.incidents = {feed_incident(42, "api", kWebDay + std::chrono::minutes(10),
                                kWebDay + std::chrono::minutes(40)),
                  feed_incident(43, "web", kWebDay + std::chrono::minutes(50), std::nullopt)};
  const std::string xml = render_atom_feed(in);
  const auto doc = test::parse_xml(xml);
  ASSERT_TRUE(doc.root) << doc.error << "\n" << xml;
  EXPECT_EQ(doc.root->name, std::string(kAtom) + " feed");
  EXPECT_EQ(doc.root->first("id")->text, "https://status.acme.example/feed.atom");
  EXPECT_EQ(doc.root->first("title")->text, "Acme <Status>");
  EXPECT_EQ(doc.root->first("author")->first("name")->text, "Acme <Status>");
  EXPECT_EQ(doc.root->first("updated")->text, rfc3339(kWebDay + std::chrono::minutes(50)))
      << "the feed is as new as its newest entry";

  const auto entries = doc.root->all("entry");
  ASSERT_EQ(entries.size(), 4u);
  std::vector<std::string> ids;
  for (const auto* e : entries) {
    ids.push_back(e->first("id")->text);
    // RFC 4287: every entry has exactly one id, title and updated.
    EXPECT_EQ(e->all("id").size(), 1u);
    EXPECT_EQ(e->all("title").size(), 1u);
    EXPECT_EQ(e->all("updated").size(), 1u);
    EXPECT_EQ(e->first("link")->attributes.at("rel"), "alternate");
  }
  EXPECT_EQ(ids, (std::vector<std::string>{
                     "https://status.acme.example/monitor/web#incident-43-opened",
                     "https://status.acme.example/monitor/api#incident-42-resolved",
                     "https://status.acme.example/posts/7",
                     "https://status.acme.example/monitor/api#incident-42-opened"}));
  const test::XmlNode* post = entries[2];
  EXPECT_EQ(post->first("title")->text, "Checkout <slow> & failing (Identified)");
  EXPECT_EQ(post->first("updated")->text, rfc3339(kWebDay + std::chrono::minutes(30)));
  EXPECT_EQ(post->first("published")->text, rfc3339(kWebDay));
  const test::XmlNode* content = post->first("content");
  EXPECT_EQ(content->attributes.at("type"), "html");
  // The content is HTML as text: every update, the link made, the text escaped once for HTML.
  EXPECT_NE(content->text.find("Found it."), std::string::npos);
  EXPECT_NE(content->text.find("<a href=\"https://x.example/a?b=1&amp;c=2\""), std::string::npos)
      << content->text;
  EXPECT_LT(content->text.find("Found it."), content->text.find("Looking at"))
      << "newest update first";
  EXPECT_NE(entries[3]->first("content")->text.find("got &lt;503&gt;"), std::string::npos);

  EXPECT_EQ(render_atom_feed(in), xml) << "the same input gives the same feed";
}

TEST(AtomFeed, KeepsTheNewestFiftyEntries) {
  FeedInput in{"Acme", "https://s.example", {}, {}, kWebDay};
  for (int i = 0; i < 40; ++i) {
    in.incidents.push_back(
        feed_incident(i + 1, "api", kWebDay + std::chrono::hours(i),
                      kWebDay + std::chrono::hours(i) + std::chrono::minutes(5)));
  }
  const auto doc = test::parse_xml(render_atom_feed(in));
  ASSERT_TRUE(doc.root) << doc.error;
  const auto entries = doc.root->all("entry");
  ASSERT_EQ(entries.size(), kFeedEntries);
  EXPECT_EQ(entries.front()->first("id")->text,
            "https://s.example/monitor/api#incident-40-resolved");
  EXPECT_EQ(entries.back()->first("id")->text, "https://s.example/monitor/api#incident-16-opened");
}

TEST(AtomFeed, AnEmptyFeedIsStillValid) {
  const auto doc =
      test::parse_xml(render_atom_feed({"Acme", "https://s.example", {}, {}, kWebDay}));
  ASSERT_TRUE(doc.root) << doc.error;
  EXPECT_TRUE(doc.root->all("entry").empty());
  EXPECT_EQ(doc.root->first("updated")->text, rfc3339(kWebDay));
}

}  // namespace
}  // namespace lookout
