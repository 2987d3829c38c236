// `lookout cluster init|status` through the real binary against a real PostgreSQL, the exit
// codes of CONTRACT.md (0 done, 1 database unreachable or refused, 2 bad arguments or no
// [cluster]), `check` refusing what a cluster does not share yet, `run` waiting for its
// database, and the DSN's password in no output of any of them.
#include <gtest/gtest.h>

#include <sstream>

#include "probes/heartbeat.h"
#include "probes/ping_socket.h"
#include "store/lease_plan.h"
#include "store/pg_schema.h"
#include "tests/integration/cluster/cluster_helpers.h"
#include "tests/integration/harness.h"
#include "tests/support/notify_socket.h"

namespace lookout::testing {
namespace {

const char* const kCanary = "Canary-41c7-password";

// A config whose [cluster] takes its DSN from LOOKOUT_PG, and that DSN (with a password the
// trust authentication of the test server never asks for).
struct ClusterFiles {
  explicit ClusterFiles(const std::string& dsn, const std::string& more_monitors = "")
      : config(dir.file("lookout.toml")), port(free_port()) {
    dir.write("lookout.toml",
              fmt::format("[server]\nlisten = \"127.0.0.1:{}\"\n[storage]\npath = \"{}\"\n"
                          "[cluster]\ndsn = \"${{env:LOOKOUT_PG}}\"\nnode = \"fra-1\"\n"
                          "location = \"fra\"\nlease = \"5s\"\n"
                          "[[monitor]]\nname = \"home\"\ntype = \"http\"\n"
                          "url = \"http://127.0.0.1:9/\"\n{}",
                          port, dir.file("spool.db"), more_monitors));
    env["LOOKOUT_PG"] = fmt::format("{} password={}", dsn, kCanary);
  }
  RunResult lookout(std::vector<std::string> args) const {
    args.insert(args.end(), {"-c", config});
    return run_lookout(args, env);
  }
  TempDir dir;
  std::string config;
  int port;
  std::map<std::string, std::string> env;
};

void expect_no_canary(const RunResult& r) {
  EXPECT_EQ(r.out.find(kCanary), std::string::npos) << r.out;
  EXPECT_EQ(r.err.find(kCanary), std::string::npos) << r.err;
}

TEST(ClusterCli, InitCreatesThenReportsTheSchemaCurrentAndStatusListsTheNodes) {
  LOOKOUT_NEED_POSTGRES();
  PostgresServer pg;
  const ClusterFiles files(pg.dsn());

  auto r = files.lookout({"cluster", "status"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, fmt::format("PostgreSQL at 127.0.0.1:{} holds no lookout schema yet; run "
                               "lookout cluster init -c {} first\n",
                               pg.port(), files.config));
  expect_no_canary(r);

  r = files.lookout({"cluster", "init"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, fmt::format("created the schema (version {}) in PostgreSQL at 127.0.0.1:{}\n",
                               pg_schema_version(), pg.port()));
  expect_no_canary(r);
  r = files.lookout({"cluster", "init"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, fmt::format("the schema in PostgreSQL at 127.0.0.1:{} is at version {}; "
                               "nothing to do\n",
                               pg.port(), pg_schema_version()));

  r = files.lookout({"cluster", "status"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, fmt::format("PostgreSQL at 127.0.0.1:{}, schema version {}: 0 nodes, 0 alive\n"
                               "no node has joined yet\n",
                               pg.port(), pg_schema_version()));

  pg.sql(
      "INSERT INTO nodes VALUES "
      "('fra-1', 'fra', '0.1.0', clock_timestamp(), clock_timestamp(), true, 'h'), "
      "('nyc-10', 'nyc', '0.1.0', clock_timestamp(), clock_timestamp() - interval '90 s', true, "
      "'h')");
  // fra-1 probes home from fra; nyc-10, dead, still holds its decision until its lease runs out.
  pg.sql(fmt::format(
      "INSERT INTO leases VALUES ('{}', 'fra-1', 1, clock_timestamp() + interval '1 hour'), "
      "('{}', 'nyc-10', 1, clock_timestamp() + interval '1 hour'), "
      "('{}', 'fra-1', 1, clock_timestamp() - interval '1 s')",
      LeaseSpace::probing("fra").lease(shard_of("home")),
      LeaseSpace::evaluation().lease(shard_of("home")),
      LeaseSpace::probing("nyc").lease(shard_of("home"))));
  r = files.lookout({"cluster", "status"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, fmt::format("PostgreSQL at 127.0.0.1:{}, schema version {}: 2 nodes, 1 alive\n"
                               "NODE    LOCATION  VERSION  ALIVE  LAST SEEN  PROBING  DECIDING\n"
                               "fra-1   fra       0.1.0    yes    now        1        0\n"
                               "nyc-10  nyc       0.1.0    no     1m30s ago  0        1\n",
                               pg.port(), pg_schema_version()));
  expect_no_canary(r);
}

// The ping URL of a heartbeat without a token of its own: derived from the key the nodes share,
// which the first node to join makes; before, ping-url says so rather than print a URL no node
// would take.
TEST(ClusterCli, PingUrlDerivesTheTokenFromTheKeyTheNodesShare) {
  LOOKOUT_NEED_POSTGRES();
  PostgresServer pg;
  const ClusterFiles files(pg.dsn(),
                           "[[monitor]]\nname = \"backup\"\ntype = \"heartbeat\"\n"
                           "period = \"1h\"\n");
  auto r = files.lookout({"ping-url", "backup"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("no node has joined the cluster at 127.0.0.1:"), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "");
  ASSERT_EQ(files.lookout({"cluster", "init"}).code, 0);
  r = files.lookout({"ping-url", "backup"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("start a node with -c " + files.config), std::string::npos) << r.err;

  pg.sql("INSERT INTO kept_secrets VALUES ('heartbeat_key', 'the-key-of-the-nodes')");
  r = files.lookout({"ping-url", "backup"});
  EXPECT_EQ(r.code, 0) << r.err;
  // Standard output is the path alone (no public_url here: said on standard error).
  EXPECT_EQ(r.out, fmt::format("/ping/{}\n", derived_ping_token("the-key-of-the-nodes", "backup")));
  expect_no_canary(r);
}

TEST(ClusterCli, ANewerSchemaIsRefused) {
  LOOKOUT_NEED_POSTGRES();
  PostgresServer pg;
  const ClusterFiles files(pg.dsn());
  ASSERT_EQ(files.lookout({"cluster", "init"}).code, 0);
  pg.sql(fmt::format("INSERT INTO lookout_schema (version, lookout) VALUES ({}, '9.9.9')",
                     pg_schema_version() + 1));
  const std::string refusal = fmt::format(
      "the database has schema version {}, newer than this lookout knows ({}); upgrade lookout "
      "on this node\n",
      pg_schema_version() + 1, pg_schema_version());
  for (const char* action : {"init", "status"}) {
    const auto r = files.lookout({"cluster", action});
    EXPECT_EQ(r.code, 1) << action;
    EXPECT_EQ(r.err, refusal) << action;
  }
}

TEST(ClusterCli, AnUnreachableDatabaseNamesHostAndPortAndWhatToCheck) {
  const int dead = free_port();
  const ClusterFiles files(
      fmt::format("host=127.0.0.1 port={} user=lookout dbname=postgres connect_timeout=2", dead));
  for (const char* action : {"init", "status"}) {
    const auto r = files.lookout({"cluster", action});
    EXPECT_EQ(r.code, 1) << action;
    EXPECT_EQ(r.err.rfind(fmt::format("cannot connect to PostgreSQL at 127.0.0.1:{}: connection "
                                      "to server at \"127.0.0.1\", port {} failed: Connection "
                                      "refused",
                                      dead, dead),
                          0),
              0u)
        << r.err;
    EXPECT_NE(r.err.find(fmt::format("; check that PostgreSQL runs there and accepts connections "
                                     "from this host, and that cluster.dsn in {} names it with "
                                     "the right user, password and database\n",
                                     files.config)),
              std::string::npos)
        << r.err;
    EXPECT_EQ(r.out, "");
    expect_no_canary(r);
  }
}

TEST(ClusterCli, WithoutClusterOrWithBadArgumentsItIsExitTwo) {
  TempDir dir;
  dir.write("plain.toml", "[server]\nlisten = \"127.0.0.1:8080\"\n");
  auto r = run_lookout({"cluster", "status", "-c", dir.file("plain.toml")});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, fmt::format("{} has no [cluster] section; lookout cluster status works on the "
                               "PostgreSQL database it names\n",
                               dir.file("plain.toml")));
  r = run_lookout({"cluster", "-c", dir.file("plain.toml")});
  EXPECT_EQ(r.code, 2);
  r = run_lookout({"cluster", "join", "-c", dir.file("plain.toml")});
  EXPECT_EQ(r.code, 2);
  dir.write("bad.toml", "[cluster]\nlocation = \"fra\"\n");
  r = run_lookout({"cluster", "init", "-c", dir.file("bad.toml")});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("bad.toml:1:1: [cluster] needs dsn"), std::string::npos) << r.err;
}

// Every kind runs in cluster mode: heartbeats and dns baselines are shared through PostgreSQL
// (docs/cluster.md#heartbeats, #dns-baselines), so a config holding them checks clean.
TEST(ClusterCli, CheckTakesHeartbeatsAndDnsBaselines) {
  const ClusterFiles files("host=127.0.0.1 port=1 user=lookout dbname=postgres",
                           "[[monitor]]\nname = \"backup\"\ntype = \"heartbeat\"\n"
                           "period = \"1h\"\n"
                           "[[monitor]]\nname = \"mx\"\ntype = \"dns\"\n"
                           "query = \"acme.example\"\nrecord = \"MX\"\non_change = \"alert\"\n");
  const auto r = files.lookout({"check"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err.find("mx"), std::string::npos) << r.err;
  expect_no_canary(r);
}

// [cluster] source_address: a node's probes connect from it (`lookout probe` probes as the node
// would). A target that answers only 127.0.0.2 (any 127/8 address is this host's) is up from
// there; an address that is not this host's fails each probe with a cause naming it.
TEST(ClusterCli, ProbesConnectFromTheSourceAddress) {
  TargetServer target;
  target.routes().Get("/who", [](const httplib::Request& req, httplib::Response& res) {
    res.status = req.remote_addr == "127.0.0.2" ? 200 : 403;
    res.set_content(req.remote_addr, "text/plain");
  });
  target.start();
  TempDir dir;
  const auto probe_from = [&](const std::string& source) {
    dir.write("lookout.toml",
              fmt::format("[storage]\npath = \"{}\"\n"
                          "[cluster]\ndsn = \"host=127.0.0.1 port=1\"\nnode = \"fra-1\"\n"
                          "location = \"fra\"\nsource_address = \"{}\"\n"
                          "[[monitor]]\nname = \"web\"\ntype = \"http\"\n"
                          "url = \"http://127.0.0.1:{}/who\"\n"
                          "[[monitor]]\nname = \"port\"\ntype = \"tcp\"\n"
                          "host = \"127.0.0.1\"\nport = {}\n{}",
                          dir.file("spool.db"), source, target.port(), target.port(),
                          // A name with an IPv6 address too: only the source's family is pinged.
                          ping_permission().ok() ? "[[monitor]]\nname = \"echo\"\ntype = "
                                                   "\"ping\"\nhost = \"localhost\"\n"
                                                 : ""));
    const auto r = run_lookout({"probe", "--json", "-c", dir.file("lookout.toml")}, {});
    std::map<std::string, nlohmann::json> out;
    std::istringstream lines(r.out);
    for (std::string line; std::getline(lines, line);) {
      const auto j = nlohmann::json::parse(line);
      out[j.at("monitor")] = j;
    }
    return out;
  };

  auto seen = probe_from("127.0.0.2");
  EXPECT_EQ(seen["web"]["outcome"], "up") << seen["web"].dump();
  EXPECT_EQ(seen["port"]["outcome"], "up") << seen["port"].dump();
  if (ping_permission().ok()) {
    EXPECT_EQ(seen["echo"]["outcome"], "up") << seen["echo"].dump();
  }

  seen = probe_from("192.0.2.1");
  EXPECT_EQ(seen["web"]["outcome"], "down");
  EXPECT_NE(seen["web"]["cause"].get<std::string>().find(
                "cannot connect from [cluster] source_address 192.0.2.1: "),
            std::string::npos)
      << seen["web"].dump();
  EXPECT_NE(seen["web"]["cause"].get<std::string>().find("192.0.2.1"), std::string::npos);
  EXPECT_EQ(seen["port"]["outcome"], "down");
  EXPECT_EQ(seen["port"]["cause"],
            "cannot connect from [cluster] source_address 192.0.2.1: address not available")
      << seen["port"].dump();

  seen = probe_from("::1");
  EXPECT_EQ(seen["port"]["cause"],
            "cannot connect from [cluster] source_address ::1: the target has no IPv6 address")
      << seen["port"].dump();
}

// A node started before its database waits for it: it runs, says why it waits, and /healthz
// answers 503 until it has joined; SIGTERM stops it cleanly. Under systemd its watchdog is
// petted meanwhile: a node whose database is away keeps probing into its spool, which a
// restart by the watchdog would only interrupt.
TEST(ClusterCli, RunWaitsForItsDatabaseAndHealthzSaysSo) {
  const int dead = free_port();
  ClusterFiles files(
      fmt::format("host=127.0.0.1 port={} user=lookout dbname=postgres connect_timeout=2", dead));
  test::NotifySocket notify(files.dir.file("notify.sock"));
  files.env["NOTIFY_SOCKET"] = files.dir.file("notify.sock");
  files.env["WATCHDOG_USEC"] = "400000";
  Process p({lookout_binary(), "run", "-c", files.config}, files.env, files.dir.path());
  ASSERT_TRUE(wait_until([&] { return http_get(files.port, "/healthz").status == 503; }, 10'000ms))
      << p.err();
  EXPECT_EQ(http_get(files.port, "/healthz").body, "storage: postgresql unreachable\n");
  ASSERT_TRUE(wait_until([&] { return notify.count("WATCHDOG=1") >= 3; }, 5000ms))
      << "the watchdog is petted every 200ms while the database is away";
  EXPECT_EQ(http_get(files.port, "/healthz").status, 503);
  EXPECT_FALSE(p.wait(0ms).has_value());
  p.signal(SIGTERM);
  EXPECT_EQ(p.wait(10'000ms), 0) << p.err();
  EXPECT_EQ(p.err().find(kCanary), std::string::npos) << p.err();
}

// An upgraded node among live nodes of the older schema does not migrate under them: it waits,
// saying for which nodes, with /healthz 503, and `cluster init` refuses; once they stop, it
// migrates the schema and joins.
TEST(ClusterCli, AnUpgradedNodeWaitsForTheOlderLiveNodesToStop) {
  LOOKOUT_NEED_POSTGRES();
  PostgresServer pg;
  const int older = pg_schema_version() - 1;
  for (int v = 1; v <= older; ++v) pg.sql(pg_migration_script(v, {"test"}));
  // old-1 runs the older lookout; so does this host's fra-1, which the upgraded fra-1 below
  // replaces (a node restarted under its name), but which `cluster init` must count.
  pg.sql(
      "INSERT INTO nodes (node, location, version, started_at, last_seen, alive, monitors_hash) "
      "VALUES ('old-1', 'fra', '0.1.0', now(), clock_timestamp() + interval '1 hour', true, 'h'), "
      "('fra-1', 'fra', '0.1.0', now(), clock_timestamp() + interval '1 hour', true, 'h')");
  const ClusterFiles files(pg.dsn());
  const std::string refusal = fmt::format(
      "cannot migrate the schema to version {}: PostgreSQL at 127.0.0.1:{}: nodes old-1 (lookout "
      "0.1.0) are live on schema version {}: stop every node, then start the upgraded ones",
      pg_schema_version(), pg.port(), older);

  Process p({lookout_binary(), "run", "-c", files.config}, files.env, files.dir.path());
  ASSERT_TRUE(wait_until([&] { return p.err().find(refusal) != std::string::npos; }, 10'000ms))
      << p.err();
  EXPECT_NE(p.err().find("cluster: node fra-1 waits to start: " + refusal), std::string::npos)
      << p.err();
  // Connected, so not "unreachable" once the node's health is next published.
  EXPECT_TRUE(wait_until(
      [&] {
        const auto h = http_get(files.port, "/healthz");
        return h.status == 503 && h.body.find("this node has not joined yet") != std::string::npos;
      },
      5000ms));
  const auto init = files.lookout({"cluster", "init"});
  EXPECT_EQ(init.code, 1);
  EXPECT_NE(init.err.find(fmt::format("cannot migrate the schema to version {}: PostgreSQL at "
                                      "127.0.0.1:{}: nodes fra-1 (lookout 0.1.0), old-1 (lookout "
                                      "0.1.0) are live on schema version {}",
                                      pg_schema_version(), pg.port(), older)),
            std::string::npos)
      << init.err;
  EXPECT_EQ(pg.sql("SELECT max(version) FROM lookout_schema"), std::to_string(older));
  EXPECT_FALSE(p.wait(0ms).has_value());

  pg.sql("UPDATE nodes SET alive = false WHERE node = 'old-1'");
  ASSERT_TRUE(wait_until([&] { return http_get(files.port, "/healthz").status == 200; }, 10'000ms))
      << p.err();
  EXPECT_EQ(pg.sql("SELECT max(version) FROM lookout_schema"), std::to_string(pg_schema_version()));
  EXPECT_NE(p.err().find("no node of the older schema is live any more; node fra-1 starts"),
            std::string::npos)
      << p.err();
  p.signal(SIGTERM);
  EXPECT_EQ(p.wait(10'000ms), 0) << p.err();
  EXPECT_EQ(p.err().find(kCanary), std::string::npos) << p.err();
}

// A running node shows the uptime figures and bars read from PostgreSQL: a day row a roller left
// ten days ago (half its runs down) with its marks, and the node's own runs after them.
TEST(ClusterCli, RunShowsTheUptimeFiguresAndBarsFromPostgresql) {
  LOOKOUT_NEED_POSTGRES();
  PostgresServer pg;
  ClusterFiles files(pg.dsn(),
                     "[[monitor]]\nname = \"api\"\ntype = \"http\"\n"
                     "url = \"http://127.0.0.1:9/\"\ninterval = \"1s\"\ntimeout = \"1s\"\n"
                     "public = true\n");
  ASSERT_EQ(files.lookout({"cluster", "init"}).code, 0);
  pg.sql(
      "INSERT INTO rollup_day (t, count, failures, degraded, maintenance, min_us, max_us, sum_us, "
      "monitor, sketch) VALUES (date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' - "
      "interval '10 days', 100, 50, 0, 0, NULL, NULL, 0, 'api', '')");
  pg.sql(
      "INSERT INTO rollup_marks SELECT s, l, date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME "
      "ZONE 'UTC' FROM generate_series(0, 255) s, unnest(ARRAY['minute', 'hour', 'day']) l");
  Process p({lookout_binary(), "run", "-c", files.config}, files.env, files.dir.path());
  std::optional<nlohmann::json> api;
  ASSERT_TRUE(wait_until(
      [&] {
        const auto r = http_get(files.port, "/api/v1/monitors/api");
        if (r.status != 200) return false;
        api = nlohmann::json::parse(r.body);
        return (*api)["uptime_24h"].is_number();
      },
      20'000ms))
      << p.err() << (api ? api->dump() : "no answer");
  // The node's runs are all down (nothing listens on port 9): the day row's 50 up runs are
  // what the 90 day window has up.
  EXPECT_EQ((*api)["uptime_24h"], 0.0);
  EXPECT_GT((*api)["uptime_90d"].get<double>(), 0.0);
  EXPECT_LT((*api)["uptime_90d"].get<double>(), 50.0);
  const auto page = http_get(files.port, "/");
  EXPECT_NE(page.body.find("<svg class=\"bars\""), std::string::npos) << page.body;
  EXPECT_NE(page.body.find("% uptime (90 days)"), std::string::npos);
  p.signal(SIGTERM);
  EXPECT_EQ(p.wait(10'000ms), 0) << p.err();
}

// A reload that adds [cluster] is refused: cluster mode starts with the process, and the daemon
// runs on as it was.
TEST(ClusterCli, AReloadThatAddsClusterIsRefused) {
  TempDir dir;
  TargetServer target;
  add_standard_routes(target);
  target.start();
  const std::string monitors = fmt::format(
      "[[monitor]]\nname = \"home\"\ntype = \"http\"\nurl = \"http://127.0.0.1:{}/ok\"\n"
      "interval = \"1s\"\ntimeout = \"1s\"\npublic = true\n",
      target.port());
  Daemon d(dir, monitors, "",
           {{"LOOKOUT_PG", fmt::format("host=127.0.0.1 port=1 password={}", kCanary)}});
  d.start();
  d.rewrite_config(monitors, "[cluster]\ndsn = \"${env:LOOKOUT_PG}\"\nlocation = \"fra\"\n");
  d.process().signal(SIGHUP);
  ASSERT_TRUE(wait_until(
      [&] { return d.process().err().find("still running the previous one") != std::string::npos; },
      10'000ms))
      << d.process().err();
  EXPECT_NE(d.process().err().find("the new config has [cluster]; cluster mode starts only with "
                                   "the process"),
            std::string::npos);
  EXPECT_EQ(d.process().err().find(kCanary), std::string::npos);
  EXPECT_FALSE(d.process().wait(0ms).has_value());
  EXPECT_TRUE(d.monitor("home").is_object());
}

}  // namespace
}  // namespace lookout::testing
