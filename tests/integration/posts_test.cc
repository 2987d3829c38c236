// Posts on the status page against the real daemon: written through the admin API, shown
// above the monitors and on their own page, private when about private monitors only, and
// kept across a kill -9.
#include <gtest/gtest.h>
#include <signal.h>

#include <thread>

#include "core/clock.h"
#include "tests/integration/cert_factory.h"
#include "tests/integration/harness.h"
#include "tests/support/xml_tree.h"

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

httplib::Result admin_delete(int port, const std::string& path) {
  httplib::Client cli("127.0.0.1", port);
  return cli.Delete(path.c_str(), {{"Authorization", fmt::format("Bearer {}", kAdmin)}});
}

TEST(Posts, TheCliWritesUpdatesAndListsThroughTheDaemonAlsoOverHttps) {
  TempDir dir;
  Daemon d(dir, posts_monitors(), posts_server());
  const auto stopped = run_lookout({"post", "list", "-c", d.config_path()});
  EXPECT_EQ(stopped.code, 1);
  EXPECT_NE(stopped.err.find("cannot reach the daemon"), std::string::npos) << stopped.err;
  d.start();

  const auto made = run_lookout({"post", "new", "-c", d.config_path(), "--title", "Slow checkout",
                                 "--status", "investigating", "--impact", "minor", "--monitor",
                                 "checkout", "--body", "Looking."});
  ASSERT_EQ(made.code, 0) << made.err;
  EXPECT_EQ(made.out, "1\n");
  const auto updated = run_lookout(
      {"post", "update", "1", "--status", "resolved", "--body", "Fixed.", "-c", d.config_path()});
  ASSERT_EQ(updated.code, 0) << updated.err;
  EXPECT_NE(updated.out.find("resolved"), std::string::npos) << updated.out;
  EXPECT_EQ(posts_of(d.port(), "", false)["posts"][0]["updates"].size(), 2U);

  EXPECT_EQ(
      run_lookout({"post", "new", "-c", d.config_path(), "--title", "x", "--status", "fixed"}).code,
      2)
      << "a status outside the four words is refused before anything is sent";
  const auto unknown = run_lookout({"post", "new", "-c", d.config_path(), "--title", "x",
                                    "--status", "identified", "--monitor", "nope"});
  EXPECT_EQ(unknown.code, 1);
  EXPECT_NE(unknown.err.find("nope"), std::string::npos) << unknown.err;
  EXPECT_EQ(
      run_lookout({"post", "update", "99", "--status", "resolved", "-c", d.config_path()}).code, 1);
  const auto listed = run_lookout({"post", "list", "-c", d.config_path()});
  ASSERT_EQ(listed.code, 0) << listed.err;
  EXPECT_NE(listed.out.find("resolved"), std::string::npos);
  EXPECT_NE(listed.out.find("Slow checkout"), std::string::npos) << listed.out;
  EXPECT_EQ(std::count(listed.out.begin(), listed.out.end(), '\n'), 1);

  // Over HTTPS with a certificate made out for the public name only: the CLI reaches the
  // daemon on loopback by pinning its key.
  TempDir tls_dir;
  CertFactory certs(tls_dir);
  const TestCert ca =
      certs.make({.name = "ca", .sans = {}, .until_s = 3650LL * 86'400, .ca = true});
  const TestCert leaf = certs.make({.name = "status", .sans = {"DNS:status.acme.example"}}, &ca);
  Daemon https(
      tls_dir, posts_monitors(),
      fmt::format("{}\ntls_cert = \"{}\"\ntls_key = \"{}\"", posts_server(), leaf.cert, leaf.key));
  Process daemon({lookout_binary(), "run", "-c", https.config_path()}, {}, tls_dir.path());
  RunResult over_tls{};
  ASSERT_TRUE(wait_until(
      [&] {
        over_tls = run_lookout({"post", "new", "-c", https.config_path(), "--title", "Over TLS",
                                "--status", "identified"});
        return over_tls.code == 0;
      },
      15'000ms))
      << over_tls.err << daemon.err();
  EXPECT_EQ(over_tls.out, "1\n");
}

// Maintenance windows through the API beside a [[maintenance]] block: listed, shown on the
// page, in the Statuspage JSON, kept across a kill -9, deletable (the config's are not).
TEST(Maintenance, ThroughTheApiLikeTheConfigsOwnAndDeletable) {
  TempDir dir;
  const std::string monitors =
      posts_monitors() +
      "\n[[maintenance]]\ntitle = \"Database patching\"\nmonitors = [\"billing-*\"]\n"
      "start = \"2099-01-01T02:00:00Z\"\nduration = \"1h\"\n";
  Daemon d(dir, monitors, posts_server());
  d.start();
  const int port = d.port();
  const WallTime now = std::chrono::system_clock::now();

  EXPECT_EQ(admin_post(port, "/api/v1/maintenance",
                       {{"title", "x"},
                        {"monitors", {"nothing-*"}},
                        {"start", rfc3339(now)},
                        {"duration", "1h"}})
                ->status,
            400);
  auto later = admin_post(port, "/api/v1/maintenance",
                          {{"title", "Checkout <upgrade>"},
                           {"body", "Payments pause, see https://vendor.example"},
                           {"monitors", {"check*"}},
                           {"start", rfc3339(now + std::chrono::hours(2))},
                           {"duration", "30m"}});
  ASSERT_EQ(later->status, 201) << later->body;
  const auto window = nlohmann::json::parse(later->body);
  EXPECT_EQ(window["id"], "1");
  EXPECT_EQ(window["state"], "upcoming");
  EXPECT_EQ(window["source"], "api");
  EXPECT_EQ(window["duration"], "30m");

  // Listed: the public reader sees only the window of a public monitor, the admin both.
  const auto pub = nlohmann::json::parse(http_get(port, "/api/v1/maintenance").body);
  ASSERT_EQ(pub["maintenance"].size(), 1U) << pub.dump();
  EXPECT_EQ(pub["maintenance"][0]["monitors"], nlohmann::json({"checkout"}));
  const auto all = nlohmann::json::parse(
      http_get(port, "/api/v1/maintenance", {{"Authorization", fmt::format("Bearer {}", kAdmin)}})
          .body);
  ASSERT_EQ(all["maintenance"].size(), 2U) << all.dump();
  EXPECT_EQ(all["maintenance"][1]["id"], "config-1");
  EXPECT_EQ(all["maintenance"][1]["source"], "config");
  EXPECT_EQ(all["maintenance"][1]["title"], "Database patching");

  // On the page, planned, above the monitors, its text escaped.
  const auto page = http_get(port, "/").body;
  const size_t planned = page.find("Checkout &lt;upgrade&gt;");
  ASSERT_NE(planned, std::string::npos) << page;
  EXPECT_LT(planned, page.find("data-monitor=\"checkout\""));
  EXPECT_EQ(page.find("Database patching"), std::string::npos);

  // One active now: the monitor reads maintenance, and Statuspage's JSON says so.
  auto active = admin_post(port, "/api/v1/maintenance",
                           {{"title", "Now"},
                            {"monitors", {"checkout"}},
                            {"start", rfc3339(now - std::chrono::minutes(1))},
                            {"duration", "1h"}});
  ASSERT_EQ(active->status, 201) << active->body;
  EXPECT_TRUE(wait_until([&] { return d.monitor("checkout")["state"] == "maintenance"; }, 5000ms));
  nlohmann::json summary;
  ASSERT_TRUE(wait_until(
      [&] {
        summary =
            nlohmann::json::parse(http_get(port, "/api/v2/summary.json").body, nullptr, false);
        return summary.is_object() && summary["components"].size() == 1 &&
               summary["components"][0]["status"] == "under_maintenance";
      },
      5000ms))
      << summary.dump();
  EXPECT_EQ(summary["components"][0]["id"], "checkout") << "the private monitor is left out";
  ASSERT_EQ(summary["scheduled_maintenances"].size(), 2U);
  EXPECT_EQ(summary["scheduled_maintenances"][0]["status"], "in_progress");
  EXPECT_EQ(summary["scheduled_maintenances"][1]["status"], "scheduled");

  // Deleting: a config block is refused, an API window goes, twice is unknown.
  EXPECT_EQ(admin_delete(port, "/api/v1/maintenance/config-1")->status, 409);
  EXPECT_EQ(admin_delete(port, "/api/v1/maintenance/2")->status, 204);
  EXPECT_EQ(admin_delete(port, "/api/v1/maintenance/2")->status, 404);
  EXPECT_TRUE(wait_until([&] { return d.monitor("checkout")["state"] != "maintenance"; }, 5000ms));

  // A window that begins and ends later turns the state without any run of the monitor.
  const WallTime soon = std::chrono::system_clock::now() + std::chrono::seconds(2);
  ASSERT_EQ(admin_post(port, "/api/v1/maintenance",
                       {{"title", "Brief"},
                        {"monitors", {"checkout"}},
                        {"start", rfc3339(soon)},
                        {"duration", "2s"}})
                ->status,
            201);
  EXPECT_NE(d.monitor("checkout")["state"], "maintenance");
  EXPECT_TRUE(wait_until([&] { return d.monitor("checkout")["state"] == "maintenance"; }, 5000ms));
  EXPECT_TRUE(wait_until([&] { return d.monitor("checkout")["state"] != "maintenance"; }, 5000ms));

  // A kill -9 keeps the API's window.
  std::this_thread::sleep_for(600ms);  // the store commits every 250 ms
  d.process().signal(SIGKILL);
  d.process().wait(5000ms);
  Daemon again(dir, monitors, posts_server());
  again.start();
  const auto kept = nlohmann::json::parse(http_get(again.port(), "/api/v1/maintenance").body);
  ASSERT_EQ(kept["maintenance"].size(), 1U) << kept.dump();
  EXPECT_EQ(kept["maintenance"][0]["title"], "Checkout <upgrade>");
}

// What followers read: the Atom feed (well-formed, posts and public incidents only), the
// history by month, and Statuspage's status.json.
TEST(Posts, FeedHistoryAndStatuspageJsonShowOnlyWhatIsPublic) {
  TempDir dir;
  Daemon d(dir, posts_monitors(),
           posts_server() + "\npublic_url = \"https://status.acme.example\"");
  d.start();
  const int port = d.port();
  auto shown = admin_post(port, "/api/v1/posts",
                          {{"title", "Checkout & cart"},
                           {"status", "investigating"},
                           {"impact", "critical"},
                           {"monitors", {"checkout"}}});
  ASSERT_EQ(shown->status, 201);
  ASSERT_EQ(
      admin_post(
          port, "/api/v1/posts",
          {{"title", "Secret failover"}, {"status", "identified"}, {"monitors", {"billing-db"}}})
          ->status,
      201);

  const auto feed = http_get(port, "/feed.atom");
  ASSERT_EQ(feed.status, 200);
  EXPECT_NE(feed.headers.find("Content-Type")->second.find("application/atom+xml"),
            std::string::npos);
  const auto doc = test::parse_xml(feed.body);
  ASSERT_TRUE(doc.root) << doc.error << "\n" << feed.body;
  const auto entries = doc.root->all("entry");
  ASSERT_EQ(entries.size(), 1U) << feed.body;
  EXPECT_EQ(entries[0]->first("id")->text, "https://status.acme.example/posts/1");
  EXPECT_EQ(entries[0]->first("title")->text, "Checkout & cart (Investigating)");
  EXPECT_EQ(feed.body.find("Secret failover"), std::string::npos);

  const auto status = nlohmann::json::parse(http_get(port, "/api/v2/status.json").body);
  EXPECT_EQ(status["status"]["indicator"], "critical");
  EXPECT_EQ(status["page"]["url"], "https://status.acme.example");

  ASSERT_EQ(admin_post(port, "/api/v1/posts/1/updates", {{"status", "resolved"}, {"body", "Done."}})
                ->status,
            201);
  const auto history = http_get(port, "/history");
  ASSERT_EQ(history.status, 200);
  EXPECT_NE(history.body.find("<h2>" +
                              [] {
                                const auto t = std::chrono::system_clock::to_time_t(
                                    std::chrono::system_clock::now());
                                std::tm tm{};
                                gmtime_r(&t, &tm);
                                char buf[32];
                                std::strftime(buf, sizeof buf, "%B %Y", &tm);
                                return std::string(buf);
                              }() +
                              "</h2>"),
            std::string::npos)
      << history.body;
  EXPECT_NE(history.body.find("Checkout &amp; cart"), std::string::npos);
  EXPECT_EQ(history.body.find("Secret failover"), std::string::npos) << "open, and private";
  EXPECT_TRUE(wait_until(
      [&] {
        return nlohmann::json::parse(
                   http_get(port, "/api/v2/status.json").body)["status"]["indicator"] == "none";
      },
      5000ms));
}

}  // namespace
}  // namespace lookout::testing
