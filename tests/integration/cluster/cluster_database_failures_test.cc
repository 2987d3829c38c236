// The cluster when its database fails, with real `lookout run` nodes: PostgreSQL stopped while
// the nodes probe on into their spools, one node's link to it cut through a relay while the
// others carry on, and a streaming standby promoted that the nodes follow through a multi-host
// DSN. After each, what the database holds is checked: every run written once, no decision
// taken while away, one incident per monitor, every event delivered.
#include <gtest/gtest.h>

#include <atomic>

#include "store/lease_plan.h"
#include "tests/integration/cluster/cluster_helpers.h"
#include "tests/integration/cluster/node_config.h"
#include "tests/integration/cluster/svc_target.h"
#include "tests/integration/harness.h"
#include "tests/support/http_recorder.h"
#include "tests/support/tcp_relay.h"

namespace lookout::testing {
namespace {

int64_t dbf_now_ms() { return to_unix_ms(std::chrono::system_clock::now()); }

// A node probing `home` every second under 2 s leases, its database at `dsn`.
struct DbfNode {
  DbfNode(const std::string& dsn, const std::string& node, const std::string& location,
          const SvcTarget& target, const test::HttpRecorder& hook)
      : name(node), port(free_port()) {
    dir.write("lookout.toml",
              node_config(port, dir.file("spool.db"), cluster_table(node, location), hook.url()));
    process = std::make_unique<Process>(
        std::vector<std::string>{lookout_binary(), "run", "-c", dir.file("lookout.toml")},
        std::map<std::string, std::string>{{"LOOKOUT_PG", dsn}, {"TARGET", target.url()}},
        dir.path());
  }
  ~DbfNode() {
    if (process && !process->wait(0ms)) {
      process->signal(SIGTERM);
      process->wait(10'000ms);
    }
  }
  int health() const { return http_get(port, "/healthz").status; }
  // lookout_spool_rows from /metrics; -1 without an answer.
  int64_t spool_rows() const {
    const std::string metrics = http_get(port, "/metrics").body;
    const std::string key = "\nlookout_spool_rows ";
    const size_t at = metrics.find(key);
    if (at == std::string::npos) return -1;
    return std::stoll(metrics.substr(at + key.size()));
  }
  std::string name;
  test::TempDir dir;
  int port;
  std::unique_ptr<Process> process;
};

std::string dbf_errs(const std::vector<const DbfNode*>& nodes) {
  std::string out;
  for (const DbfNode* n : nodes) out += fmt::format("--- {}:\n{}\n", n->name, n->process->err());
  return out;
}

// The webhook's deliveries as (event, notification id), in arrival order, with when each came.
struct DbfDelivery {
  std::string event, id;
  int64_t at_ms = 0;
};
std::vector<DbfDelivery> dbf_deliveries(const test::HttpRecorder& hook) {
  std::vector<DbfDelivery> out;
  for (const auto& seen : hook.seen()) {
    const auto j = nlohmann::json::parse(seen.body);
    out.push_back({j.at("event"), j.at("id"), seen.at_ms});
  }
  return out;
}
size_t dbf_count(const test::HttpRecorder& hook, const std::string& event) {
  const auto all = dbf_deliveries(hook);
  return static_cast<size_t>(std::count_if(all.begin(), all.end(),
                                           [&](const DbfDelivery& d) { return d.event == event; }));
}

// A moment for SQL, from unix milliseconds.
std::string dbf_at(int64_t ms) { return fmt::format("to_timestamp({} / 1000.0)", ms); }

// What every scenario ends with: at most one open incident per monitor, every outbox row sent,
// and every event's id delivered, no id delivered that the outbox lacks.
void dbf_expect_invariants(const PostgresServer& pg, const test::HttpRecorder& hook) {
  EXPECT_EQ(pg.sql("SELECT count(*) FROM (SELECT monitor FROM incidents WHERE resolved_at IS NULL "
                   "GROUP BY monitor HAVING count(*) > 1) doubled"),
            "0");
  EXPECT_TRUE(wait_until(
      [&] { return pg.sql("SELECT count(*) FROM outbox WHERE status <> 'sent'") == "0"; },
      15'000ms))
      << pg.sql("SELECT id || ' ' || status FROM outbox");
  std::set<std::string> outbox, delivered;
  const std::string ids = pg.sql("SELECT string_agg(id, ',' ORDER BY id) FROM outbox");
  for (size_t at = 0; at < ids.size();) {
    const size_t end = std::min(ids.find(',', at), ids.size());
    outbox.insert(ids.substr(at, end - at));
    at = end + 1;
  }
  for (const DbfDelivery& d : dbf_deliveries(hook)) delivered.insert(d.id);
  EXPECT_EQ(delivered, outbox);
}

// PostgreSQL stopped for longer than the lease while both locations' targets turn to failing:
// the nodes go on probing into their spools and say the database is away, decide and send
// nothing meanwhile; once it is back every run is written once, and the change is decided and
// delivered once.
TEST(ClusterDatabaseFailures, PostgresStoppedSpoolsEveryRunAndDecidesOnlyOnceItIsBack) {
  LOOKOUT_NEED_POSTGRES();
  PostgresServer pg;
  ASSERT_TRUE(migrate(pg).ok());
  SvcTarget fra_target, nyc_target;
  test::HttpRecorder hook({{200, "{}"}});
  DbfNode fra(pg.dsn(), "fra-1", "fra", fra_target, hook);
  DbfNode nyc(pg.dsn(), "nyc-1", "nyc", nyc_target, hook);
  const std::vector<const DbfNode*> both{&fra, &nyc};
  ASSERT_TRUE(
      wait_until([&] { return pg.sql("SELECT state FROM monitor_states") == "up"; }, 30'000ms))
      << dbf_errs(both);
  ASSERT_TRUE(wait_until([&] { return fra.health() == 200 && nyc.health() == 200; }, 10'000ms));

  const int64_t gap_start = dbf_now_ms();
  pg.stop();
  const int fra_before = fra_target.requests, nyc_before = nyc_target.requests;
  for (const DbfNode* n : both) {
    HttpAnswer h;
    EXPECT_TRUE(wait_until(
        [&] {
          h = http_get(n->port, "/healthz");
          return h.status == 503;
        },
        5000ms))
        << n->name;
    EXPECT_EQ(h.body, "storage: postgresql unreachable\n") << n->name;
  }
  // The state changes while nobody can decide.
  fra_target.status = 503;
  nyc_target.status = 503;
  for (const DbfNode* n : both) {
    EXPECT_TRUE(wait_until([&] { return n->spool_rows() > 0; }, 5000ms)) << n->name;
  }
  // Four lease lengths away: every lease ran out on every node.
  const auto kGap = 8000ms;
  wait_until([&] { return dbf_now_ms() - gap_start >= kGap.count(); }, kGap);
  const int fra_gap = fra_target.requests - fra_before, nyc_gap = nyc_target.requests - nyc_before;
  // Each location was probed once a second throughout, not only while its lease lasted.
  EXPECT_GE(fra_gap, 5);
  EXPECT_GE(nyc_gap, 5);
  EXPECT_EQ(fra.health(), 503);
  EXPECT_TRUE(hook.seen().empty());
  for (const DbfNode* n : both) EXPECT_GE(n->spool_rows(), 5) << n->name;
  const int64_t gap_end = dbf_now_ms();
  pg.start();

  for (const DbfNode* n : both) {
    EXPECT_TRUE(wait_until([&] { return n->health() == 200; }, 15'000ms)) << dbf_errs(both);
    // The gap's rows written: at most the runs of the batch under way wait (a run a second and
    // a batch every 250 ms, so zero only between two batches, which a poll may keep missing).
    EXPECT_TRUE(wait_until(
        [&] {
          const int64_t rows = n->spool_rows();
          return rows >= 0 && rows <= 2;
        },
        10'000ms))
        << n->name;
  }
  ASSERT_TRUE(wait_until([&] { return dbf_count(hook, "incident.opened") == 1; }, 20'000ms))
      << dbf_errs(both);
  EXPECT_EQ(pg.sql("SELECT count(*) FROM incidents"), "1");
  EXPECT_EQ(pg.sql("SELECT cause FROM incidents"),
            "down from fra, nyc (2 of 2): expected status 2xx, got 503");
  // Nothing was decided or written as decided while the database was away, nor delivered.
  const std::string gap = fmt::format("BETWEEN {} AND {}", dbf_at(gap_start), dbf_at(gap_end));
  EXPECT_EQ(pg.sql(fmt::format("SELECT (SELECT count(*) FROM incidents WHERE started_at {0}) + "
                               "(SELECT count(*) FROM incident_events WHERE at {0}) + "
                               "(SELECT count(*) FROM outbox WHERE created {0}) + "
                               "(SELECT count(*) FROM monitor_states WHERE decided_at {0})",
                               gap)),
            "0");
  for (const DbfDelivery& d : dbf_deliveries(hook)) {
    EXPECT_FALSE(d.at_ms >= gap_start && d.at_ms <= gap_end) << d.event << " " << d.id;
  }

  fra_target.status = 200;
  nyc_target.status = 200;
  ASSERT_TRUE(wait_until([&] { return dbf_count(hook, "incident.resolved") == 1; }, 20'000ms))
      << dbf_errs(both);
  EXPECT_EQ(dbf_count(hook, "incident.opened"), 1u);
  EXPECT_EQ(pg.sql("SELECT count(*) FROM incidents WHERE resolved_at IS NOT NULL"), "1");
  dbf_expect_invariants(pg, hook);

  // Every run the targets saw is in the results once, those of the gap too: each node writes
  // what waits at SIGTERM; a run in flight then may end unwritten.
  for (DbfNode* n : {&fra, &nyc}) {
    n->process->signal(SIGTERM);
    EXPECT_EQ(n->process->wait(10'000ms), 0) << n->process->err();
  }
  const std::vector<std::pair<std::string, const SvcTarget*>> targets{{"fra", &fra_target},
                                                                      {"nyc", &nyc_target}};
  for (const auto& [location, target] : targets) {
    const int seen = target->requests;
    const int rows = std::stoi(
        pg.sql(fmt::format("SELECT count(*) FROM results WHERE location = '{}'", location)));
    EXPECT_LE(rows, seen) << location;
    EXPECT_GE(rows, seen - 1) << location;
    const int in_gap = std::stoi(pg.sql(
        fmt::format("SELECT count(*) FROM results WHERE location = '{}' AND t {}", location, gap)));
    EXPECT_GE(in_gap, 5) << location;
  }
  EXPECT_EQ(pg.sql("SELECT count(*) - count(DISTINCT (node, t)) FROM results"), "0");
}

// One fra node's link to PostgreSQL cut through a relay: it loses its leases by their local
// deadline, the other fra node probes the monitor from fra, a node other than the cut one
// decides the incident that opens meanwhile and sends it; the cut node probes on into its spool
// and writes it when the link returns.
TEST(ClusterDatabaseFailures, ACutLinkMovesTheNodesWorkAndItsSpoolIsWrittenOnReturn) {
  LOOKOUT_NEED_POSTGRES();
  PostgresServer pg;
  ASSERT_TRUE(migrate(pg).ok());
  SvcTarget fra_target, nyc_target;
  test::HttpRecorder hook({{200, "{}"}});
  test::TcpRelay link1(pg.port()), link2(pg.port());
  auto via = [&](const test::TcpRelay& relay) {
    return fmt::format("host=127.0.0.1 port={} user=lookout dbname=postgres", relay.port());
  };
  DbfNode fra1(via(link1), "fra-1", "fra", fra_target, hook);
  DbfNode fra2(via(link2), "fra-2", "fra", fra_target, hook);
  DbfNode nyc(pg.dsn(), "nyc-1", "nyc", nyc_target, hook);
  const std::vector<const DbfNode*> all{&fra1, &fra2, &nyc};
  const std::string probe = fmt::format("probe/fra/{}", shard_of("home"));
  const std::string eval = fmt::format("eval/{}", shard_of("home"));
  ASSERT_TRUE(
      wait_until([&] { return pg.sql("SELECT state FROM monitor_states") == "up"; }, 30'000ms))
      << dbf_errs(all);
  std::string prober;
  ASSERT_TRUE(wait_until(
      [&] {
        const auto h = holders(pg, probe);
        prober = h.count(probe) > 0 ? h.at(probe) : "";
        return !prober.empty();
      },
      10'000ms));
  // The link of the node probing home from fra is cut.
  DbfNode& cut = prober == "fra-1" ? fra1 : fra2;
  DbfNode& other = prober == "fra-1" ? fra2 : fra1;
  test::TcpRelay& link = prober == "fra-1" ? link1 : link2;

  const int64_t cut_at = dbf_now_ms();
  link.cut();
  ASSERT_TRUE(wait_until(
      [&] {
        const auto h = holders(pg);
        return h.count(probe) > 0 && h.at(probe) == other.name && h.count(eval) > 0 &&
               h.at(eval) != cut.name && std::none_of(h.begin(), h.end(), [&](const auto& l) {
                 return l.second == cut.name;
               });
      },
      10'000ms))
      << dbf_errs(all);
  RecordProperty("leases_moved_ms", static_cast<int>(dbf_now_ms() - cut_at));
  EXPECT_EQ(cut.health(), 503);
  EXPECT_EQ(other.health(), 200);
  fra_target.status = 503;
  nyc_target.status = 503;
  ASSERT_TRUE(wait_until([&] { return dbf_count(hook, "incident.opened") == 1; }, 20'000ms))
      << dbf_errs(all);
  EXPECT_EQ(pg.sql("SELECT count(*) FROM incidents"), "1");
  // The cut node probed on: its rows wait in its spool.
  EXPECT_TRUE(wait_until([&] { return cut.spool_rows() > 0; }, 5000ms));
  const int64_t restored_at = dbf_now_ms();
  const std::string cut_window =
      fmt::format("BETWEEN {} AND {}", dbf_at(cut_at), dbf_at(restored_at));
  // Nothing decided or sent by the cut node, which no statement of its own could reach.
  EXPECT_EQ(pg.sql(fmt::format("SELECT (SELECT count(*) FROM incident_events WHERE node = '{0}') + "
                               "(SELECT count(*) FROM outbox WHERE claimed_by = '{0}') + "
                               "(SELECT count(*) FROM monitor_states WHERE decided_by = '{0}' AND "
                               "decided_at {1})",
                               cut.name, cut_window)),
            "0");
  EXPECT_GT(link.refused(), 0);
  link.restore();

  EXPECT_TRUE(wait_until([&] { return cut.health() == 200; }, 15'000ms)) << cut.process->err();
  EXPECT_TRUE(wait_until([&] { return cut.spool_rows() == 0; }, 10'000ms)) << cut.process->err();
  // What it probed while cut, once a second throughout, is in the results under its name, once.
  const int64_t cut_seconds = (restored_at - cut_at) / 1000;
  EXPECT_GE(std::stoll(pg.sql(fmt::format("SELECT count(*) FROM results WHERE node = '{}' AND t {}",
                                          cut.name, cut_window))),
            cut_seconds - 3)
      << "cut for " << cut_seconds << " s";
  EXPECT_EQ(pg.sql("SELECT count(*) - count(DISTINCT (node, t)) FROM results"), "0");
  // It rejoins: the fra probe leases are shared by both fra nodes again.
  EXPECT_TRUE(wait_until(
      [&] {
        std::set<std::string> fra_nodes;
        for (const auto& [lease, node] : holders(pg, "probe/fra/%")) fra_nodes.insert(node);
        return fra_nodes.size() == 2;
      },
      10'000ms));

  fra_target.status = 200;
  nyc_target.status = 200;
  ASSERT_TRUE(wait_until([&] { return dbf_count(hook, "incident.resolved") == 1; }, 20'000ms))
      << dbf_errs(all);
  EXPECT_EQ(pg.sql("SELECT count(*) FROM incidents"), "1");
  EXPECT_EQ(dbf_count(hook, "incident.opened"), 1u);
  dbf_expect_invariants(pg, hook);
}

// A primary and its streaming standby, the nodes given both in a multi-host DSN that asks for a
// writable server. The primary stops at once and the standby is promoted: the nodes connect to
// it, their results land there, and an incident opens and resolves in it, each delivered once.
TEST(ClusterDatabaseFailures, NodesFollowAPromotedStandby) {
  LOOKOUT_NEED_POSTGRES();
  PostgresServer primary;
  ASSERT_TRUE(migrate(primary).ok());
  PostgresServer standby(primary);
  const std::string dsn = fmt::format(
      "host=127.0.0.1,127.0.0.1 port={},{} user=lookout dbname=postgres "
      "target_session_attrs=read-write connect_timeout=2",
      primary.port(), standby.port());
  SvcTarget fra_target, nyc_target;
  test::HttpRecorder hook({{200, "{}"}});
  DbfNode fra(dsn, "fra-1", "fra", fra_target, hook);
  DbfNode nyc(dsn, "nyc-1", "nyc", nyc_target, hook);
  const std::vector<const DbfNode*> both{&fra, &nyc};
  ASSERT_TRUE(
      wait_until([&] { return primary.sql("SELECT state FROM monitor_states") == "up"; }, 30'000ms))
      << dbf_errs(both);
  // The standby refuses writes: the nodes are on the primary.
  EXPECT_EQ(standby.sql("SELECT pg_is_in_recovery()"), "t");

  primary.stop_immediately();
  const auto failed = std::chrono::steady_clock::now();
  standby.promote();
  const int64_t promoted_at = dbf_now_ms();
  for (const DbfNode* n : both) {
    EXPECT_TRUE(wait_until([&] { return n->health() == 200; }, 20'000ms)) << dbf_errs(both);
  }
  ASSERT_TRUE(wait_until(
      [&] {
        return standby.sql(fmt::format("SELECT count(DISTINCT location) FROM results WHERE t > {}",
                                       dbf_at(promoted_at))) == "2";
      },
      20'000ms))
      << dbf_errs(both);
  const auto writing = std::chrono::steady_clock::now() - failed;
  RecordProperty(
      "from_failure_to_both_locations_written_ms",
      static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(writing).count()));
  // Both nodes hold their locations' probe leases in the new primary.
  EXPECT_TRUE(wait_until([&] { return holders(standby, "probe/%").size() == 512; }, 10'000ms));

  fra_target.status = 503;
  nyc_target.status = 503;
  ASSERT_TRUE(wait_until([&] { return dbf_count(hook, "incident.opened") == 1; }, 20'000ms))
      << dbf_errs(both);
  EXPECT_EQ(standby.sql(fmt::format("SELECT count(*) FROM incidents WHERE started_at > {}",
                                    dbf_at(promoted_at))),
            "1");
  fra_target.status = 200;
  nyc_target.status = 200;
  ASSERT_TRUE(wait_until([&] { return dbf_count(hook, "incident.resolved") == 1; }, 20'000ms))
      << dbf_errs(both);
  EXPECT_EQ(dbf_count(hook, "incident.opened"), 1u);
  EXPECT_EQ(standby.sql("SELECT count(*) FROM incidents"), "1");
  EXPECT_EQ(standby.sql("SELECT string_agg(event, ',' ORDER BY at) FROM incident_events"),
            "incident.opened,incident.resolved");
  dbf_expect_invariants(standby, hook);
}

}  // namespace
}  // namespace lookout::testing
