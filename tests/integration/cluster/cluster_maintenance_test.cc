// Maintenance windows made through the admin API of `lookout run` nodes in cluster mode, real
// nodes in two locations against a real PostgreSQL and a webhook receiver: a window made on
// one node is listed by the other and keeps the whole cluster from opening an incident, whichever
// node decides; deleted on the other node, the failure opens one incident, paged once; a
// database that cannot be reached answers 503 and writes nothing.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "tests/integration/cluster/cluster_helpers.h"
#include "tests/integration/cluster/run_node.h"
#include "tests/integration/cluster/svc_target.h"
#include "tests/integration/harness.h"
#include "tests/support/http_recorder.h"

namespace lookout::testing {
namespace {

const char* const kMaintAdmin = "admin-token-of-the-maintenance-test";

// A node with the monitor home (every second, down after 2 failed runs), a config window far
// ahead (config-1) and admin calls not held back by the rate limit.
struct MaintNode : RunNode {
  MaintNode(const PostgresServer& pg, const std::string& name, const std::string& location,
            const SvcTarget& target, const test::HttpRecorder& hook)
      : RunNode(pg, name, location, target, hook, kMaintAdmin,
                {"admin_token = \"${env:ADMIN}\"\nrate_limit = \"1000/m\"\n", "",
                 "[[maintenance]]\nmonitors = [\"home\"]\nstart = "
                 "\"2099-01-01T00:00:00Z\"\nduration = \"1h\"\n"}) {}

  httplib::Result post(const nlohmann::json& body) const {
    httplib::Client cli("127.0.0.1", port);
    return cli.Post("/api/v1/maintenance",
                    {{"Authorization", fmt::format("Bearer {}", kMaintAdmin)}}, body.dump(),
                    "application/json");
  }
  httplib::Result remove(const std::string& id) const {
    httplib::Client cli("127.0.0.1", port);
    return cli.Delete(("/api/v1/maintenance/" + id).c_str(),
                      {{"Authorization", fmt::format("Bearer {}", kMaintAdmin)}});
  }
  // The ids of the windows this node lists now.
  std::vector<std::string> listed() const {
    const auto a = http_get(port, "/api/v1/maintenance",
                            {{"Authorization", fmt::format("Bearer {}", kMaintAdmin)}});
    std::vector<std::string> out;
    if (a.status != 200) return {fmt::format("{} {}", a.status, a.body)};
    const auto answer = nlohmann::json::parse(a.body);
    for (const auto& w : answer["maintenance"]) out.push_back(w["id"].get<std::string>());
    return out;
  }
  std::string state() const {
    const auto a = http_get(port, "/api/v1/monitors/home",
                            {{"Authorization", fmt::format("Bearer {}", kMaintAdmin)}});
    if (a.status != 200) return "";
    return nlohmann::json::parse(a.body)["state"];
  }
};

std::string maint_location(const PostgresServer& pg, const std::string& location) {
  return pg.sql("SELECT state FROM location_states WHERE monitor = 'home' AND location = '" +
                location + "'");
}

TEST(ClusterMaintenance, AWindowMadeOnOneNodeHoldsTheClustersIncidentUntilDeletedOnAnother) {
  LOOKOUT_NEED_POSTGRES();
  PostgresServer pg;
  ASSERT_TRUE(migrate(pg).ok());
  SvcTarget fra_target, nyc_target;
  test::HttpRecorder hook({{200, "{}"}});
  MaintNode fra(pg, "fra-1", "fra", fra_target, hook);
  MaintNode nyc(pg, "nyc-1", "nyc", nyc_target, hook);
  ASSERT_TRUE(wait_until(
      [&] {
        return maint_location(pg, "fra") == "up" && maint_location(pg, "nyc") == "up" &&
               pg.sql("SELECT state FROM monitor_states") == "up";
      },
      30'000ms))
      << fra.process->err() << nyc.process->err();

  // Checked as on one node, before the database is asked.
  const std::string now = rfc3339(SystemClock().wall());
  auto r = fra.post({{"title", "Racks"},
                     {"body", ""},
                     {"monitors", {"nothing-*"}},
                     {"start", now},
                     {"duration", "1h"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_NE(r->body.find("\\\"nothing-*\\\" matches no monitor"), std::string::npos) << r->body;
  r = fra.post({{"title", "Racks"},
                {"body", ""},
                {"monitors", {"home"}},
                {"start", "2026-01-01T00:00:00Z"},
                {"duration", "1h"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_NE(r->body.find("the window has already ended"), std::string::npos) << r->body;
  r = nyc.remove("config-1");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 409) << r->body;
  r = nyc.remove("999");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404) << r->body;
  EXPECT_EQ(pg.sql("SELECT count(*) FROM maintenance_windows"), "0");

  // Made on fra: answered once committed, listed by fra at once and by nyc within seconds.
  r = fra.post({{"title", "Racks move"},
                {"body", "Both sites at once."},
                {"monitors", {"ho*"}},
                {"start", now},
                {"duration", "1h"}});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 201) << r->body;
  const std::string id = nlohmann::json::parse(r->body)["id"];
  EXPECT_EQ(pg.sql("SELECT id || ' ' || title || ' ' || array_to_string(monitors, ',') FROM "
                   "maintenance_windows"),
            id + " Racks move ho*");
  EXPECT_EQ(fra.listed(), (std::vector<std::string>{id, "config-1"}));
  ASSERT_TRUE(wait_until([&] { return nyc.listed().size() == 2; }, 5'000ms));
  EXPECT_EQ(nyc.listed(), (std::vector<std::string>{id, "config-1"}));
  for (const MaintNode* n : {&fra, &nyc}) {
    EXPECT_TRUE(wait_until([&] { return n->state() == "maintenance"; }, 5'000ms)) << n->state();
  }

  // Failing from every location inside the window: the cluster says down, opens nothing and
  // pages nobody, whichever node decides.
  fra_target.status = 503;
  nyc_target.status = 503;
  ASSERT_TRUE(wait_until(
      [&] {
        return maint_location(pg, "fra") == "down" && maint_location(pg, "nyc") == "down" &&
               pg.sql("SELECT state FROM monitor_states") == "down";
      },
      15'000ms))
      << fra.process->err() << nyc.process->err();
  // The decider shows it the unchanged state every interval (1 s), as a run would.
  wait_until([] { return false; }, 4'000ms);
  EXPECT_EQ(pg.sql("SELECT count(*) FROM incidents"), "0");
  EXPECT_TRUE(hook.seen().empty());
  EXPECT_EQ(fra.state(), "maintenance");

  // Deleted on nyc: gone from its list at once, and from fra's within seconds; the failure
  // opens one incident, paged once.
  r = nyc.remove(id);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 204) << r->body;
  EXPECT_EQ(nyc.listed(), std::vector<std::string>{"config-1"});
  EXPECT_EQ(pg.sql("SELECT count(*) FROM maintenance_windows"), "0");
  ASSERT_TRUE(wait_until([&] { return pg.sql("SELECT count(*) FROM incidents") == "1"; }, 10'000ms))
      << fra.process->err() << nyc.process->err();
  EXPECT_TRUE(
      wait_until([&] { return fra.listed() == std::vector<std::string>{"config-1"}; }, 5'000ms))
      << fra.listed().size();
  ASSERT_TRUE(wait_until([&] { return hook.seen().size() == 1; }, 10'000ms));
  wait_until([] { return false; }, 3'000ms);
  ASSERT_EQ(hook.seen().size(), 1u);
  EXPECT_EQ(nlohmann::json::parse(hook.seen()[0].body)["event"], "incident.opened");
  EXPECT_EQ(pg.sql("SELECT count(*) FROM incidents"), "1");
  r = nyc.remove(id);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404) << r->body;

  // The database away: 503 saying so, and nothing written.
  pg.stop();
  ASSERT_TRUE(wait_until([&] { return http_get(fra.port, "/healthz").status == 503; }, 10'000ms));
  ASSERT_TRUE(wait_until(
      [&] {
        r = fra.post({{"title", "During the outage"},
                      {"body", ""},
                      {"monitors", {"home"}},
                      {"start", now},
                      {"duration", "1h"}});
        return r && r->status == 503 &&
               r->body.find("cannot be reached from this node") != std::string::npos;
      },
      10'000ms, 200ms))
      << (r ? r->body : "no answer");
  EXPECT_NE(r->body.find("the window was not made"), std::string::npos) << r->body;
  r = nyc.remove("1");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503) << r->body;
  EXPECT_EQ(nyc.listed(), std::vector<std::string>{"config-1"});
  pg.start();
  EXPECT_EQ(pg.sql("SELECT count(*) FROM maintenance_windows"), "0");
}

}  // namespace
}  // namespace lookout::testing
