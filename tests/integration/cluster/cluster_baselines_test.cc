// dns baselines (on_change = "alert") in cluster mode, real `lookout run` nodes in two
// locations (one node in fra, two in nyc) against a real PostgreSQL, a real Knot DNS server and
// a webhook receiver: each location keeps the answers it saw first as its baseline, and stable
// answers write nothing; a changed record is down from both locations and opens one incident,
// paged once; the nyc node probing it killed, the other takes it over and holds it to nyc's
// baseline, not to its own first answers; an accept made through any node takes each
// location's last answers at once, and the monitor is up again and the incident resolved; with
// the database away the accept answers 503 and changes nothing.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "store/lease_plan.h"
#include "tests/integration/cluster/cluster_helpers.h"
#include "tests/integration/cluster/run_node.h"
#include "tests/integration/cluster/svc_target.h"
#include "tests/integration/harness.h"
#include "tests/support/http_recorder.h"

namespace lookout::testing {
namespace {

const char* const kBaselineAdmin = "admin-token-of-the-baselines-test";

std::string baseline_zone(int serial, const std::string& address) {
  return fmt::format(R"(
$ORIGIN acme.test.
$TTL 60
@ SOA ns.acme.test. hostmaster.acme.test. {0} 3600 600 86400 60
@ NS ns.acme.test.
ns A 127.0.0.1
portal A 203.0.113.10
portal A {1}
)",
                     serial, address);
}

// A node with the dns monitor portal-dns (every second, down after one changed answer set, up
// after one good run) asking `knot`.
struct BaselineNode : RunNode {
  BaselineNode(const PostgresServer& pg, const std::string& name, const std::string& location,
               const SvcTarget& target, const test::HttpRecorder& hook, const KnotServer& knot)
      : RunNode(pg, name, location, target, hook, kBaselineAdmin,
                {"admin_token = \"${env:ADMIN}\"\nrate_limit = \"1000/m\"\n", "",
                 fmt::format("[[monitor]]\nname = \"portal-dns\"\ntype = \"dns\"\n"
                             "query = \"portal.acme.test\"\nresolver = \"{}\"\n"
                             "interval = \"1s\"\ntimeout = \"1s\"\nfail_after = 1\n"
                             "recover_after = 1\n",
                             knot.address())}) {}

  httplib::Result accept(const std::string& monitor) const {
    httplib::Client cli("127.0.0.1", port);
    return cli.Post(("/api/v1/monitors/" + monitor + "/accept").c_str(), admin_headers(), "",
                    "application/json");
  }
};

std::string baseline_rows(const PostgresServer& pg) {
  return pg.sql(
      "SELECT string_agg(location || ' ' || answers::text || ' ' || seen::text, ', ' ORDER BY "
      "location) FROM dns_baselines WHERE monitor = 'portal-dns' AND question = 'A "
      "portal.acme.test'");
}

std::string portal_state(const PostgresServer& pg) {
  return pg.sql("SELECT state FROM monitor_states WHERE monitor = 'portal-dns'");
}

// Each location's judgement: "fra up, nyc up".
std::string portal_locations(const PostgresServer& pg) {
  return pg.sql(
      "SELECT string_agg(location || ' ' || state, ', ' ORDER BY location) FROM location_states "
      "WHERE monitor = 'portal-dns'");
}

TEST(ClusterBaselines, EachLocationKeepsItsBaselineAndAnAcceptOnEitherNodeTakesAtBoth) {
  LOOKOUT_NEED_POSTGRES();
  PostgresServer pg;
  ASSERT_TRUE(migrate(pg).ok());
  TempDir zones;
  KnotServer knot(zones, {{"acme.test", baseline_zone(1, "203.0.113.11")}});
  SvcTarget fra_target, nyc_target;
  test::HttpRecorder hook({{200, "{}"}});
  BaselineNode fra(pg, "fra-1", "fra", fra_target, hook, knot);
  BaselineNode nyc(pg, "nyc-1", "nyc", nyc_target, hook, knot);
  BaselineNode nyc2(pg, "nyc-2", "nyc", nyc_target, hook, knot);

  // Each location's first answers are its baseline.
  const std::string first = R"(["203.0.113.10", "203.0.113.11"])";
  ASSERT_TRUE(wait_until(
      [&] {
        return baseline_rows(pg) == fmt::format("fra {0} {0}, nyc {0} {0}", first) &&
               portal_state(pg) == "up";
      },
      30'000ms))
      << baseline_rows(pg) << fra.process->err() << nyc.process->err();
  // Stable answers write nothing: the version stays over several runs at each location.
  const std::string version = pg.sql("SELECT version FROM baseline_version");
  wait_until([] { return false; }, 3'000ms);
  EXPECT_EQ(pg.sql("SELECT version FROM baseline_version"), version);

  // Not a dns monitor with a baseline, or none at all: refused as on one node.
  auto r = fra.accept("home");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 409) << r->body;
  r = fra.accept("nothing");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404) << r->body;

  // The record changes: down from both locations, one incident, paged once, its cause the diff.
  knot.set_zone("acme.test", baseline_zone(2, "203.0.113.12"));
  ASSERT_TRUE(wait_until(
      [&] { return portal_state(pg) == "down" && portal_locations(pg) == "fra down, nyc down"; },
      15'000ms))
      << portal_locations(pg) << fra.process->err() << nyc.process->err();
  const std::string changed = R"(["203.0.113.10", "203.0.113.12"])";
  ASSERT_TRUE(wait_until(
      [&] { return baseline_rows(pg) == fmt::format("fra {0} {1}, nyc {0} {1}", first, changed); },
      10'000ms))
      << baseline_rows(pg);
  ASSERT_TRUE(wait_until([&] { return hook.seen().size() == 1; }, 10'000ms));
  const auto opened = nlohmann::json::parse(hook.seen()[0].body);
  EXPECT_EQ(opened["event"], "incident.opened");
  EXPECT_EQ(opened["incident"]["monitor"], "portal-dns");
  EXPECT_NE(opened["incident"]["cause"].get<std::string>().find(
                "changed: added \"203.0.113.12\"; removed \"203.0.113.11\""),
            std::string::npos)
      << opened.dump();

  // The nyc node probing portal-dns killed: the other takes it over within the lease and holds
  // it to nyc's baseline, so its runs are down too; had it taken its own first answers for the
  // baseline, the change would have vanished at nyc without an accept.
  const std::string lease = fmt::format("probe/nyc/{}", shard_of("portal-dns"));
  const std::string prober = pg.sql("SELECT holder FROM leases WHERE name = '" + lease + "'");
  ASSERT_TRUE(prober == "nyc-1" || prober == "nyc-2") << prober;
  const BaselineNode& survivor = prober == "nyc-1" ? nyc2 : nyc;
  const std::string other = prober == "nyc-1" ? "nyc-2" : "nyc-1";
  const std::string killed_at = pg.sql("SELECT clock_timestamp()");
  (prober == "nyc-1" ? nyc : nyc2).process->signal(SIGKILL);
  const auto runs_of_other = [&](const char* outcome) {
    return pg.sql(
        "SELECT count(*) FROM results WHERE monitor = 'portal-dns' AND location = "
        "'nyc' AND node = '" +
        other + "' AND t > '" + killed_at + "' AND outcome " + outcome);
  };
  ASSERT_TRUE(wait_until([&] { return std::stoi(runs_of_other("IS NOT NULL")) >= 3; }, 15'000ms))
      << survivor.process->err();
  EXPECT_EQ(runs_of_other("= 0"), "0") << "a run of the node that took over was up";
  EXPECT_EQ(portal_locations(pg), "fra down, nyc down");
  EXPECT_EQ(hook.seen().size(), 1u);

  // Accepted through the surviving nyc node: each location's last answers, at once; the
  // monitor is up again at both, and the incident resolved, paged once.
  r = survivor.accept("portal-dns");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  const auto accepted = nlohmann::json::parse(r->body);
  const nlohmann::json answers = nlohmann::json::array({"203.0.113.10", "203.0.113.12"});
  EXPECT_EQ(accepted["accepted"], true);
  EXPECT_EQ(accepted["answers"], answers);
  EXPECT_EQ(accepted["locations"], (nlohmann::json{{"fra", answers}, {"nyc", answers}}));
  EXPECT_EQ(baseline_rows(pg), fmt::format("fra {0} {0}, nyc {0} {0}", changed));
  // Up from both: fra's node took the baseline nyc's accepted, from its read.
  ASSERT_TRUE(wait_until(
      [&] { return portal_state(pg) == "up" && portal_locations(pg) == "fra up, nyc up"; },
      15'000ms))
      << portal_locations(pg) << fra.process->err() << nyc.process->err();
  ASSERT_TRUE(wait_until([&] { return hook.seen().size() == 2; }, 10'000ms));
  EXPECT_EQ(nlohmann::json::parse(hook.seen()[1].body)["event"], "incident.resolved");
  EXPECT_EQ(pg.sql("SELECT count(*) || ' ' || count(resolved_at) FROM incidents"), "1 1");

  // The database away: 503 saying so, and nothing changed.
  pg.stop();
  ASSERT_TRUE(wait_until([&] { return http_get(fra.port, "/healthz").status == 503; }, 10'000ms));
  r = fra.accept("portal-dns");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503) << r->body;
  EXPECT_NE(r->body.find("PostgreSQL"), std::string::npos) << r->body;
}

}  // namespace
}  // namespace lookout::testing
