// The posts' statements against a real PostgreSQL: a post goes in whole with its notifications
// (text a text[] or JSON could split or read as NULL, times to the millisecond) under a reserved
// number; a list reads every post only when post_version moved; an update written after the
// one it read goes in, one written over an update another node made first fails as a unique
// violation and writes nothing, not even its notifications.
#include "store/pg_posts.h"

#include <gtest/gtest.h>

#include "tests/integration/cluster/cluster_helpers.h"
#include "tests/integration/harness.h"

namespace lookout::testing {
namespace {

OutboxRow post_note(const std::string& id, const std::string& event, WallTime at) {
  return OutboxRow{id, 0, event, "hook", "oncall", "", at, R"({"post": {"title": "x"}})"};
}

TEST(PgPosts, APostGoesInWholeAndAnUpdateOverAnotherIsRefused) {
  LOOKOUT_NEED_POSTGRES();
  PostgresServer pg;
  EventLoop loop;
  PgConnection conn(loop, Secret::plain(pg.dsn()), nullptr);
  conn.start();
  require_schema(loop, conn);

  // No post yet: the first list reads the empty list; the same version again reads nothing.
  auto read = PgPosts::read(answer_to(loop, conn, PgPosts::list(-1)), -1);
  ASSERT_TRUE(read.has_value());
  ASSERT_TRUE(read->posts.has_value());
  EXPECT_TRUE(read->posts->empty());
  EXPECT_EQ(read->version, 0);
  EXPECT_FALSE(PgPosts::read(answer_to(loop, conn, PgPosts::list(0)), 0)->posts.has_value());

  const auto id = PgPosts::reserved_id(answer_to(loop, conn, PgPosts::reserve_id()));
  ASSERT_EQ(id, std::optional<int64_t>(1));
  const WallTime created = from_unix_ms(1'790'000'000'123);
  PostRecord post;
  post.id = *id;
  post.title = R"(Checkout "slow" {1,2}, \ and ')";
  post.impact = PostImpact::kMajor;
  post.monitors = {"portal-home", "a,b", "NULL", ""};
  post.created_at = created;
  post.updates.push_back(
      PostUpdate{PostStatus::kInvestigating, "Line one\nline \"two\" NULL", created});
  const auto notes =
      PgPosts::written(answer_to(loop, conn,
                                 PgPosts::write(post, "fra-1",
                                                {post_note("evt_a", "incident.posted", created),
                                                 post_note("evt_b", "incident.posted", created)},
                                                17)));
  ASSERT_EQ(notes, std::optional<int64_t>(2));
  EXPECT_EQ(pg.sql("SELECT string_agg(id || ' ' || incident_id || ' ' || shard || ' ' || status || "
                   "' ' || (event_id IS NULL), ',' ORDER BY id) FROM outbox"),
            "evt_a 0 17 pending true,evt_b 0 17 pending true");
  EXPECT_EQ(pg.sql("SELECT node || ' ' || seq FROM post_updates"), "fra-1 0");

  read = PgPosts::read(answer_to(loop, conn, PgPosts::list(read->version)), read->version);
  ASSERT_TRUE(read.has_value());
  EXPECT_EQ(read->version, 1);
  ASSERT_TRUE(read->posts.has_value());
  ASSERT_EQ(read->posts->size(), 1u);
  const PostRecord& got = read->posts->front();
  EXPECT_EQ(got.id, 1);
  EXPECT_EQ(got.title, post.title);
  EXPECT_EQ(got.impact, PostImpact::kMajor);
  EXPECT_EQ(got.monitors, post.monitors);
  EXPECT_EQ(got.created_at, created);
  EXPECT_FALSE(got.resolved_at.has_value());
  ASSERT_EQ(got.updates.size(), 1u);
  EXPECT_EQ(got.updates[0].body, post.updates[0].body);
  EXPECT_EQ(got.updates[0].status, PostStatus::kInvestigating);
  EXPECT_EQ(got.updates[0].at, created);
  // Unchanged since: nothing read.
  const auto same = PgPosts::read(answer_to(loop, conn, PgPosts::list(1)), 1);
  ASSERT_TRUE(same.has_value());
  EXPECT_FALSE(same->posts.has_value());

  // Two nodes update the post they both read: the first goes in, the second fails whole.
  const WallTime later = created + Duration{60'001};
  PostRecord fra = got;
  fra.updates.push_back(PostUpdate{PostStatus::kResolved, "Fixed.", later});
  fra.resolved_at = later;
  PostRecord nyc = got;
  nyc.updates.push_back(PostUpdate{PostStatus::kIdentified, "Found it.", later});
  EXPECT_EQ(
      PgPosts::written(answer_to(
          loop, conn,
          PgPosts::write(fra, "fra-1", {post_note("evt_c", "incident.post_updated", later)}, 17))),
      std::optional<int64_t>(1));
  const PgResult lost = answer_to(
      loop, conn,
      PgPosts::write(nyc, "nyc-1", {post_note("evt_d", "incident.post_updated", later)}, 17));
  EXPECT_EQ(lost.sqlstate, "23505") << lost.error;
  EXPECT_EQ(PgPosts::written(lost), std::nullopt);
  EXPECT_EQ(pg.sql("SELECT count(*) FROM outbox WHERE id = 'evt_d'"), "0");
  EXPECT_EQ(pg.sql("SELECT version FROM post_version"), "2");

  const auto one = PgPosts::post(answer_to(loop, conn, PgPosts::one(1)));
  ASSERT_TRUE(one.has_value());
  ASSERT_TRUE(one->has_value());
  ASSERT_EQ((*one)->updates.size(), 2u);
  EXPECT_EQ((*one)->updates[1].body, "Fixed.");
  EXPECT_EQ((*one)->updates[1].status, PostStatus::kResolved);
  EXPECT_EQ((*one)->resolved_at, std::optional<WallTime>(later));
  EXPECT_EQ((*one)->title, post.title);
  const auto none = PgPosts::post(answer_to(loop, conn, PgPosts::one(2)));
  ASSERT_TRUE(none.has_value());
  EXPECT_FALSE(none->has_value());

  // A server that is gone answers an error, not an empty list.
  pg.stop();
  EXPECT_EQ(PgPosts::read(answer_to(loop, conn, PgPosts::list(-1)), -1), std::nullopt);
  conn.stop();
}

}  // namespace
}  // namespace lookout::testing
