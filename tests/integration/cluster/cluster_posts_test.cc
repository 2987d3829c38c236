// Status-page posts made through the admin API of `lookout run` nodes in cluster mode, real
// nodes in two locations against a real PostgreSQL and a webhook receiver on a route that asks
// for posts: a post made on one node is on the other's API and page within seconds and is sent
// once; updates made on both nodes at once all go in, numbered without a gap, each sent once
// with its own id; bad input is refused as on one node; a database that cannot be reached
// answers 503 and writes nothing.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "tests/integration/cluster/cluster_helpers.h"
#include "tests/integration/cluster/run_node.h"
#include "tests/integration/cluster/svc_target.h"
#include "tests/integration/harness.h"
#include "tests/support/http_recorder.h"

namespace lookout::testing {
namespace {

const char* const kPostsAdmin = "admin-token-of-the-posts-test";

struct PostNode : RunNode {
  PostNode(const PostgresServer& pg, const std::string& name, const std::string& location,
           const SvcTarget& target, const test::HttpRecorder& hook)
      : RunNode(
            pg, name, location, target, hook, kPostsAdmin,
            {"admin_token = \"${env:ADMIN}\"\nrate_limit = \"1000/m\"\n", "on_post = true\n", ""}) {
  }

  httplib::Result make(const nlohmann::json& body) const {
    httplib::Client cli("127.0.0.1", port);
    return cli.Post("/api/v1/posts", admin_headers(), body.dump(), "application/json");
  }
  httplib::Result update(int64_t id, const std::string& status, const std::string& text) const {
    httplib::Client cli("127.0.0.1", port);
    return cli.Post(fmt::format("/api/v1/posts/{}/updates", id), admin_headers(),
                    nlohmann::json{{"status", status}, {"body", text}}.dump(), "application/json");
  }
  // The posts this node lists now, newest first, or an empty list for any other answer.
  nlohmann::json posts() const {
    const auto a = http_get(port, "/api/v1/posts", admin_headers());
    if (a.status != 200) return nlohmann::json::array();
    return nlohmann::json::parse(a.body)["posts"];
  }
};

TEST(ClusterPosts, APostMadeOnOneNodeIsOnEveryNodeAndEachChangeIsSentOnce) {
  LOOKOUT_NEED_POSTGRES();
  PostgresServer pg;
  ASSERT_TRUE(migrate(pg).ok());
  SvcTarget fra_target, nyc_target;
  test::HttpRecorder hook({{200, "{}"}});
  PostNode fra(pg, "fra-1", "fra", fra_target, hook);
  PostNode nyc(pg, "nyc-1", "nyc", nyc_target, hook);
  ASSERT_TRUE(wait_until(
      [&] {
        return http_get(fra.port, "/healthz").status == 200 &&
               http_get(nyc.port, "/healthz").status == 200;
      },
      30'000ms))
      << fra.process->err() << nyc.process->err();

  // Checked as on one node, before the database is asked.
  auto r = fra.make({{"title", " "},
                     {"status", "investigating"},
                     {"impact", "major"},
                     {"body", ""},
                     {"monitors", nlohmann::json::array()}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_NE(r->body.find("a post needs a title"), std::string::npos) << r->body;
  r = fra.make({{"title", "Checkout errors"},
                {"status", "investigating"},
                {"impact", "major"},
                {"body", ""},
                {"monitors", {"nothing"}}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_NE(r->body.find("no monitor named \\\"nothing\\\""), std::string::npos) << r->body;
  r = nyc.update(999, "resolved", "");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404) << r->body;
  EXPECT_EQ(pg.sql("SELECT count(*) FROM posts"), "0");

  // Made on fra: answered once committed, listed by fra at once and by nyc within seconds, and
  // sent once to the route that asks for posts.
  r = fra.make({{"title", "Checkout errors"},
                {"status", "investigating"},
                {"impact", "major"},
                {"body", "Looking into it."},
                {"monitors", {"home"}}});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 201) << r->body;
  const auto made = nlohmann::json::parse(r->body);
  const int64_t id = made["id"].get<int64_t>();
  EXPECT_EQ(r->get_header_value("Location"), fmt::format("/posts/{}", id));
  EXPECT_EQ(pg.sql("SELECT p.title || ' ' || p.impact || ' ' || u.seq || ' ' || u.node FROM posts "
                   "p JOIN post_updates u ON u.post_id = p.id"),
            "Checkout errors major 0 fra-1");
  ASSERT_EQ(fra.posts().size(), 1u);
  ASSERT_TRUE(wait_until([&] { return nyc.posts().size() == 1; }, 5'000ms));
  EXPECT_EQ(nyc.posts()[0]["title"], "Checkout errors");
  EXPECT_EQ(nyc.posts()[0]["id"], id);
  const auto page = http_get(nyc.port, fmt::format("/posts/{}", id), nyc.admin_headers());
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("Looking into it."), std::string::npos) << page.body;
  ASSERT_TRUE(wait_until([&] { return hook.seen().size() == 1; }, 10'000ms))
      << fra.process->err() << nyc.process->err();
  EXPECT_EQ(hook.seen()[0].header("X-Lookout-Event"), "incident.posted");

  // Updated on both nodes at once, two callers each: every update goes in, numbered 0, 1, ...
  // without a gap, and each is sent once under its own id (grouped or not, as on one node).
  std::vector<std::thread> writers;
  std::atomic<int> created{0};
  std::mutex mu;
  std::vector<std::string> refused;
  const std::vector<const PostNode*> callers{&fra, &nyc, &fra, &nyc};
  for (size_t w = 0; w < callers.size(); ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0; i < 3; ++i) {
        const auto a = callers[w]->update(id, "identified", fmt::format("Update {} of {}", i, w));
        if (a && a->status == 201) {
          ++created;
        } else {
          std::lock_guard lock(mu);
          refused.push_back(a ? a->body : "no answer");
        }
      }
    });
  }
  for (auto& t : writers) t.join();
  EXPECT_EQ(created.load(), 12) << (refused.empty() ? "" : refused.front());
  EXPECT_EQ(pg.sql("SELECT count(*) || ' ' || max(seq) || ' ' || count(DISTINCT body) FROM "
                   "post_updates"),
            "13 12 13");
  // The notifications each webhook call carries: one, or a group's.
  const auto sent_ids = [&] {
    std::multiset<std::string> ids;
    for (const auto& seen : hook.seen()) {
      const auto body = nlohmann::json::parse(seen.body);
      if (body["event"] == "group") {
        for (const auto& e : body["events"]) ids.insert(e["id"].get<std::string>());
      } else {
        ids.insert(body["id"].get<std::string>());
      }
    }
    return ids;
  };
  ASSERT_TRUE(wait_until([&] { return sent_ids().size() >= 13; }, 20'000ms)) << sent_ids().size();
  wait_until([] { return false; }, 2'000ms);
  const auto ids = sent_ids();
  EXPECT_EQ(ids.size(), 13u);
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), 13u);
  EXPECT_EQ(pg.sql("SELECT count(*) FROM outbox WHERE status = 'sent' AND incident_id = 0"), "13");

  // Resolved on nyc: both nodes show it resolved.
  r = nyc.update(id, "resolved", "Fixed.");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 201) << r->body;
  EXPECT_EQ(nlohmann::json::parse(r->body)["status"], "resolved");
  ASSERT_TRUE(wait_until(
      [&] {
        const auto posts = fra.posts();
        return posts.size() == 1 && posts[0]["status"] == "resolved" &&
               posts[0]["updates"].size() == 14;
      },
      5'000ms))
      << fra.posts().dump();
  r = fra.update(id, "bogus", "");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400) << r->body;

  // The database away: 503 saying so, and nothing written.
  pg.stop();
  ASSERT_TRUE(wait_until([&] { return http_get(fra.port, "/healthz").status == 503; }, 10'000ms));
  ASSERT_TRUE(wait_until(
      [&] {
        r = fra.make({{"title", "During the outage"},
                      {"status", "investigating"},
                      {"impact", "none"},
                      {"body", ""},
                      {"monitors", nlohmann::json::array()}});
        return r && r->status == 503 &&
               r->body.find("cannot be reached from this node") != std::string::npos;
      },
      10'000ms, 200ms))
      << (r ? r->body : "no answer");
  EXPECT_NE(r->body.find("the post was not made"), std::string::npos) << r->body;
  r = nyc.update(id, "monitoring", "During the outage");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503) << r->body;
  EXPECT_EQ(nyc.posts().size(), 1u);
  pg.start();
  EXPECT_EQ(pg.sql("SELECT count(*) FROM posts"), "1");
  EXPECT_EQ(pg.sql("SELECT count(*) FROM post_updates"), "14");
}

}  // namespace
}  // namespace lookout::testing
