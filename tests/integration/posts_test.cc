// Posts on the status page against the real daemon: written through the admin API, shown
// above the monitors and on their own page, private when about private monitors only, and
// kept across a kill -9.
#include <gtest/gtest.h>
#include <signal.h>

#include <thread>

#include "tests/integration/harness.h"

namespace lookout::testing {
namespace {

constexpr char kAdmin[] = "posts-admin-token-0123456789";

std::string posts_monitors() {
  return "[[monitor]]\nname = \"checkout\"\ntype = \"heartbeat\"\npublic = true\n"
         "period = \"1h\"\ngrace = \"1h\"\n\n"
         "[[monitor]]\nname = \"billing-db\"\ntype = \"heartbeat\"\n"
         "period = \"1h\"\ngrace = \"1h\"\n";
}

std::string posts_server() { return fmt::format("admin_token = \"{}\"", kAdmin); }

httplib::Result admin_post(int port, const std::string& path, const nlohmann::json& body,
                           const std::string& token = kAdmin) {
  httplib::Client cli("127.0.0.1", port);
  return cli.Post(path.c_str(), {{"Authorization", "Bearer " + token}}, body.dump(),
                  "application/json");
}

nlohmann::json posts_of(int port, const std::string& query, bool admin) {
  httplib::Headers h;
  if (admin) h.emplace("Authorization", fmt::format("Bearer {}", kAdmin));
  const auto a = http_get(port, "/api/v1/posts" + query, h);
  EXPECT_EQ(a.status, 200) << a.body;
  return nlohmann::json::parse(a.body, nullptr, false);
}

TEST(Posts, WrittenThroughTheApiShownAboveTheMonitorsAndPrivateWhenAboutPrivateMonitors) {
  TempDir dir;
  Daemon d(dir, posts_monitors(), posts_server());
  d.start();
  const int port = d.port();

  // Refused: no token, a bad status, an unknown monitor.
  EXPECT_EQ(admin_post(port, "/api/v1/posts", {{"title", "x"}, {"status", "investigating"}},
                       "wrong-token")
                ->status,
            401);
  auto bad = admin_post(port, "/api/v1/posts", {{"title", "x"}, {"status", "fixed"}});
  EXPECT_EQ(bad->status, 400);
  EXPECT_NE(bad->body.find("is not one of"), std::string::npos) << bad->body;
  EXPECT_EQ(admin_post(port, "/api/v1/posts",
                       {{"title", "x"}, {"status", "investigating"}, {"monitors", {"nope"}}})
                ->status,
            400);

  // A public post with a link, and a private one.
  auto made = admin_post(port, "/api/v1/posts",
                         {{"title", "Checkout <slow>"},
                          {"status", "investigating"},
                          {"impact", "major"},
                          {"body", "Looking at it, see https://vendor.example/status"},
                          {"monitors", {"checkout", "billing-db"}}});
  ASSERT_EQ(made->status, 201) << made->body;
  const auto post = nlohmann::json::parse(made->body);
  EXPECT_EQ(post["status"], "investigating");
  EXPECT_EQ(post["impact"], "major");
  EXPECT_TRUE(post["resolved_at"].is_null());
  ASSERT_EQ(post["updates"].size(), 1U);
  const int64_t id = post["id"];
  auto hidden = admin_post(port, "/api/v1/posts",
                           {{"title", "Billing database failover"},
                            {"status", "identified"},
                            {"monitors", {"billing-db"}}});
  ASSERT_EQ(hidden->status, 201) << hidden->body;
  const int64_t hidden_id = nlohmann::json::parse(hidden->body)["id"];

  // The page: the post first, its text escaped, its link made; the private one absent.
  const auto page = http_get(port, "/");
  ASSERT_EQ(page.status, 200);
  const size_t notice = page.body.find("Checkout &lt;slow&gt;");
  ASSERT_NE(notice, std::string::npos) << page.body;
  EXPECT_LT(notice, page.body.find("data-monitor=\"checkout\""));
  EXPECT_NE(page.body.find("<a href=\"https://vendor.example/status\""), std::string::npos);
  EXPECT_EQ(page.body.find("Billing database failover"), std::string::npos);

  // The API without the token: only the public post, without the private monitor's name.
  auto pub = posts_of(port, "", false);
  ASSERT_EQ(pub["posts"].size(), 1U) << pub.dump();
  EXPECT_EQ(pub["posts"][0]["monitors"], nlohmann::json({"checkout"}));
  EXPECT_EQ(http_get(port, fmt::format("/posts/{}", hidden_id)).status, 404);
  EXPECT_EQ(posts_of(port, "", true)["posts"].size(), 2U);
  EXPECT_EQ(posts_of(port, "", true)["posts"][0]["id"], hidden_id);  // newest first
  EXPECT_EQ(http_get(port, "/api/v1/posts?state=maybe").status, 400);

  // Updated to resolved: gone from the page's notices, listed as resolved, on its own page.
  auto up = admin_post(port, fmt::format("/api/v1/posts/{}/updates", id),
                       {{"status", "resolved"}, {"body", "Fixed by a rollback."}});
  ASSERT_EQ(up->status, 201) << up->body;
  EXPECT_FALSE(nlohmann::json::parse(up->body)["resolved_at"].is_null());
  EXPECT_EQ(admin_post(port, "/api/v1/posts/999/updates", {{"status", "resolved"}})->status, 404);
  EXPECT_EQ(http_get(port, "/").body.find("Checkout &lt;slow&gt;"), std::string::npos);
  EXPECT_EQ(posts_of(port, "?state=resolved", false)["posts"].size(), 1U);
  EXPECT_EQ(posts_of(port, "?state=open", false)["posts"].size(), 0U);
  const auto own = http_get(port, fmt::format("/posts/{}", id));
  ASSERT_EQ(own.status, 200);
  EXPECT_LT(own.body.find("Fixed by a rollback."), own.body.find("Looking at it"));

  // A kill -9 a moment later loses nothing.
  std::this_thread::sleep_for(600ms);  // the store commits every 250 ms
  d.process().signal(SIGKILL);
  d.process().wait(5000ms);
  Daemon again(dir, posts_monitors(), posts_server());
  again.start();
  const auto kept = posts_of(again.port(), "", true);
  ASSERT_EQ(kept["posts"].size(), 2U) << kept.dump();
  EXPECT_EQ(kept["posts"][1]["updates"].size(), 2U);
  EXPECT_EQ(kept["posts"][1]["status"], "resolved");
  auto third =
      admin_post(again.port(), "/api/v1/posts", {{"title", "Next"}, {"status", "investigating"}});
  EXPECT_EQ(nlohmann::json::parse(third->body)["id"], hidden_id + 1);
}

}  // namespace
}  // namespace lookout::testing
