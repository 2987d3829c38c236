#include "alerting/posts.h"

#include <gtest/gtest.h>

namespace lookout {
namespace {

const WallTime kT0 = from_unix_ms(1'780'000'000'000);

bool known_monitor(const std::string& name) { return name == "api" || name == "db"; }

PostDraft draft(std::string status = "investigating", std::string impact = "") {
  return PostDraft{"Checkout errors",
                   std::move(status),
                   std::move(impact),
                   "Looking into it.",
                   {"api", "db", "api"}};
}

TEST(PostBook, ANewPostIsNumberedOpenAndItsOpeningIsTheFirstUpdate) {
  PostBook book;
  const PostChange c = book.create(draft(), kT0, known_monitor);
  ASSERT_EQ(c.code, PostChange::Code::kDone) << c.error;
  EXPECT_EQ(c.post.id, 1);
  EXPECT_EQ(c.post.impact, PostImpact::kNone);                          // the default
  EXPECT_EQ(c.post.monitors, (std::vector<std::string>{"api", "db"}));  // once each
  ASSERT_EQ(c.post.updates.size(), 1U);
  EXPECT_EQ(c.post.updates[0].status, PostStatus::kInvestigating);
  EXPECT_EQ(c.post.updates[0].body, "Looking into it.");
  EXPECT_EQ(c.post.created_at, kT0);
  EXPECT_TRUE(c.post.open());
  EXPECT_EQ(book.create(draft("identified", "major"), kT0, known_monitor).post.id, 2);
}

TEST(PostBook, UpdatesResolveAndReopen) {
  PostBook book;
  const int64_t id = book.create(draft(), kT0, known_monitor).post.id;
  const auto later = kT0 + std::chrono::minutes(10);
  PostChange c = book.update(id, "monitoring", "A fix is out.", later);
  ASSERT_EQ(c.code, PostChange::Code::kDone);
  EXPECT_EQ(c.post.status(), PostStatus::kMonitoring);
  EXPECT_TRUE(c.post.open());
  c = book.update(id, "resolved", "All good.", later + std::chrono::minutes(5));
  EXPECT_EQ(c.post.resolved_at, later + std::chrono::minutes(5));
  // A second resolution keeps the first time; a status change opens it again.
  c = book.update(id, "resolved", "Confirmed.", later + std::chrono::minutes(9));
  EXPECT_EQ(c.post.resolved_at, later + std::chrono::minutes(5));
  c = book.update(id, "identified", "It came back.", later + std::chrono::minutes(20));
  EXPECT_TRUE(c.post.open());
  EXPECT_EQ(c.post.updates.size(), 5U);
  EXPECT_EQ(book.all().back().updates.size(), 5U);
}

TEST(PostBook, RefusesWhatItCannotShow) {
  PostBook book;
  struct Case {
    PostDraft d;
    std::string error;
  };
  const std::vector<Case> cases = {
      {{"", "investigating", "", "", {}}, "a post needs a title"},
      {{"  ", "investigating", "", "", {}}, "a post needs a title"},
      {{"t", "fixed", "", "", {}}, "status \"fixed\" is not one of"},
      {{"t", "investigating", "huge", "", {}}, "impact \"huge\" is not one of"},
      {{"t", "investigating", "", "", {"nope"}}, "no monitor named \"nope\""},
      {{"two\nlines", "investigating", "", "", {}}, "title is one line"},
      {{std::string(kPostTitleMax + 1, 'x'), "investigating", "", "", {}}, "title is longer"},
      {{"t", "investigating", "", std::string(kPostBodyMax + 1, 'x'), {}}, "body is longer"},
      {{"t", "investigating", "", std::string("bell\a"), {}}, "body holds a control character"},
  };
  for (const auto& c : cases) {
    const PostChange r = book.create(c.d, kT0, known_monitor);
    EXPECT_EQ(r.code, PostChange::Code::kInvalid) << c.error;
    EXPECT_NE(r.error.find(c.error), std::string::npos) << r.error;
  }
  EXPECT_TRUE(book.all().empty());
  EXPECT_EQ(book.update(7, "resolved", "", kT0).code, PostChange::Code::kUnknownPost);
  const int64_t id = book.create(draft(), kT0, known_monitor).post.id;
  EXPECT_EQ(id, 1);  // refusals take no number
  EXPECT_EQ(book.update(id, "done", "", kT0).code, PostChange::Code::kInvalid);
  EXPECT_EQ(book.all().front().updates.size(), 1U);
}

TEST(PostBook, NumbersGoOnAfterWhatStorageKept) {
  PostBook book;
  PostRecord kept;
  kept.id = 41;
  kept.updates.push_back({PostStatus::kResolved, "", kT0});
  book.load({kept});
  EXPECT_EQ(book.create(draft(), kT0, known_monitor).post.id, 42);
}

TEST(PostBook, APostNumberedElsewhereIsPutInItsPlace) {
  // A cluster's database numbers posts: new_post leaves the number to it, updated_post keeps
  // the post as given and only adds the update.
  const PostChange fresh = new_post(draft(), kT0, known_monitor);
  ASSERT_EQ(fresh.code, PostChange::Code::kDone);
  EXPECT_EQ(fresh.post.id, 0);
  PostRecord seven = fresh.post;
  seven.id = 7;
  const PostChange resolved = updated_post(seven, "resolved", "Fixed.", kT0 + Duration{1000});
  ASSERT_EQ(resolved.code, PostChange::Code::kDone);
  EXPECT_EQ(resolved.post.id, 7);
  EXPECT_EQ(resolved.post.updates.size(), 2U);
  EXPECT_EQ(resolved.post.resolved_at, kT0 + Duration{1000});
  EXPECT_EQ(updated_post(seven, "done", "", kT0).code, PostChange::Code::kInvalid);

  PostBook book;
  PostRecord three = fresh.post;
  three.id = 3;
  book.load({seven, three});
  book.put(resolved.post);  // in place of 7
  PostRecord five = fresh.post;
  five.id = 5;
  book.put(five);  // between 3 and 7
  ASSERT_EQ(book.all().size(), 3U);
  EXPECT_EQ(book.all()[0].id, 3);
  EXPECT_EQ(book.all()[1].id, 5);
  EXPECT_EQ(book.all()[2].id, 7);
  EXPECT_FALSE(book.all()[2].open());
  EXPECT_EQ(book.create(draft(), kT0, known_monitor).post.id, 8);
}

TEST(PostBook, APostIsPublicWhenAboutNoMonitorOrAnyPublicOne) {
  PostRecord p;
  auto only_api_public = [](const std::string& m) { return m == "api"; };
  EXPECT_TRUE(post_is_public(p, only_api_public));
  p.monitors = {"db"};
  EXPECT_FALSE(post_is_public(p, only_api_public));
  p.monitors = {"db", "api"};
  EXPECT_TRUE(post_is_public(p, only_api_public));
}

}  // namespace
}  // namespace lookout
