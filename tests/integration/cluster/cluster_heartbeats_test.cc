// Heartbeat monitors in cluster mode against a real PostgreSQL: pings recorded by another node
// are judged once by the node deciding the monitor, in the order taken; a job that misses its
// deadline opens one incident with its notification; a ping that came while no node decided
// is judged by the next one; and a node that takes the shard over carries on from what the
// last one kept.
#include <gtest/gtest.h>

#include "alerting/cluster_decider.h"
#include "store/lease_plan.h"
#include "store/pg_heartbeats.h"
#include "store/pg_results.h"
#include "tests/integration/cluster/cluster_helpers.h"
#include "tests/integration/harness.h"

namespace lookout::testing {
namespace {

constexpr char kJob[] = "nightly-backup";

std::shared_ptr<const Config> heartbeat_config(const PostgresServer& pg, const std::string& node) {
  return std::make_shared<const Config>(config_from(fmt::format(
      "[cluster]\ndsn = \"{}\"\nnode = \"{}\"\nlocation = \"fra\"\nlease = \"2s\"\n"
      "[server]\npublic_url = \"http://127.0.0.1:9\"\n[[channel]]\nname = \"ops-webhook\"\n"
      "type = \"webhook\"\nurl = \"http://127.0.0.1:9/\"\n"
      "[[route]]\nname = \"oncall\"\nnotify = [\"ops-webhook\"]\n"
      "[[monitor]]\nname = \"{}\"\ntype = \"heartbeat\"\nperiod = \"5s\"\ngrace = \"1s\"\n",
      pg.dsn(), node, kJob)));
}

// A node deciding the job's shard once take() got its eval lease (taken once, not renewed: it
// lasts a minute, and a test that wants a takeover releases it).
struct HeartbeatDecider {
  HeartbeatDecider(EventLoop& loop, const PostgresServer& pg, const std::string& name)
      : leases(loop, pg, name, Duration{60'000}),
        decider(
            loop, leases.conn, clock, heartbeat_config(pg, name),
            [this] { return leases.deciding(shard); },
            [this](int s) { return leases.decision_fence(shard, s); }, [] {}, Duration{100}) {}

  void take() { leases.acquire({LeaseSpace::evaluation().lease(shard)}); }

  SystemClock clock;
  int shard = shard_of(kJob);
  LeaseNode leases;
  ClusterDecider decider;
};

// What another node does with a ping that reaches it: one statement, answered once committed.
void ping_job(EventLoop& loop, LeaseNode& taker, Ping::Kind kind, const std::string& body = "") {
  Ping p;
  p.kind = kind;
  p.body = body;
  const PgResult r =
      answer_to(loop, taker.conn, PgHeartbeats::take(kJob, p, taker.registry.node()));
  ASSERT_TRUE(PgHeartbeats::taken(r).has_value()) << r.error;
}

bool rows_reach(EventLoop& loop, const PostgresServer& pg, const std::string& query, int64_t n) {
  return turn_until(
      loop, [&] { return std::stoll(pg.sql(query)) == n; }, 15s);
}

// The schema and the days' partitions of results made, as the first node to join makes them,
// and `a` deciding the job.
bool first_decider(EventLoop& loop, HeartbeatDecider& a) {
  require_schema(loop, a.leases.conn);
  if (!answer_to(loop, a.leases.conn, make_result_partitions()).ok()) return false;
  a.take();
  a.decider.start("ack-key");
  return true;
}

std::string job_state(const PostgresServer& pg) {
  return pg.sql(fmt::format("SELECT state FROM monitor_states WHERE monitor = '{}'", kJob));
}

TEST(ClusterHeartbeats, PingsFromAnotherNodeAreJudgedOnceAndALateJobOpensOneIncident) {
  LOOKOUT_NEED_POSTGRES();
  PostgresServer pg;
  EventLoop loop;
  HeartbeatDecider a(loop, pg, "fra-1");
  LeaseNode nyc(loop, pg, "nyc-1", Duration{60'000});
  ASSERT_TRUE(first_decider(loop, a));

  ping_job(loop, nyc, Ping::Kind::kStart);
  ping_job(loop, nyc, Ping::Kind::kSuccess, "copied 12 GB");
  ASSERT_TRUE(turn_until(
      loop, [&] { return job_state(pg) == "up"; }, 15s))
      << a.decider.last_error();
  ASSERT_TRUE(rows_reach(loop, pg, "SELECT count(*) FROM heartbeat_pings", 0));
  // The start and the end make one run, timed from one to the other, with the job's words.
  EXPECT_EQ(pg.sql(fmt::format("SELECT outcome || ' ' || (total_us IS NOT NULL) || ' ' || "
                               "location || ' ' || node || ' ' || detail FROM results "
                               "WHERE monitor = '{}' ORDER BY t LIMIT 1",
                               kJob)),
            "0 true fra fra-1 {\"message\":\"copied 12 GB\"}");
  EXPECT_EQ(pg.sql("SELECT up || ' ' || message || ' ' || (last_ping IS NOT NULL) FROM heartbeats"),
            "true copied 12 GB true");
  EXPECT_EQ(std::stoll(pg.sql("SELECT count(*) FROM incidents")), 0);

  // Nothing for period + grace: late, one incident, its notification once.
  ASSERT_TRUE(rows_reach(loop, pg, "SELECT count(*) FROM incidents", 1));
  EXPECT_EQ(job_state(pg), "down");
  EXPECT_NE(pg.sql("SELECT cause FROM incidents").find("no ping since"), std::string::npos);
  EXPECT_EQ(pg.sql("SELECT kind FROM results WHERE outcome = 2"), "late");
  EXPECT_EQ(pg.sql("SELECT string_agg(event, ',') FROM outbox"), "incident.opened");

  // A failure keeps it down with the job's cause; a success resolves it.
  ping_job(loop, nyc, Ping::Kind::kFail, "disk full\nmore");
  ASSERT_TRUE(rows_reach(loop, pg, "SELECT count(*) FROM results WHERE kind = 'job_failed'", 1));
  EXPECT_EQ(pg.sql("SELECT last_cause FROM monitor_states"), "disk full");
  ping_job(loop, nyc, Ping::Kind::kSuccess);
  ASSERT_TRUE(
      rows_reach(loop, pg, "SELECT count(*) FROM incidents WHERE resolved_at IS NOT NULL", 1));
  EXPECT_EQ(std::stoll(pg.sql("SELECT count(*) FROM incidents")), 1);
  EXPECT_EQ(pg.sql("SELECT string_agg(event, ',' ORDER BY created) FROM outbox"),
            "incident.opened,incident.resolved");
  // Every ping and the deadline made one run each: up, late, failed, up.
  EXPECT_EQ(pg.sql(fmt::format("SELECT string_agg(outcome::text, ',' ORDER BY t) FROM results "
                               "WHERE monitor = '{}'",
                               kJob)),
            "0,2,2,0");
  EXPECT_EQ(std::stoll(pg.sql("SELECT count(*) FROM heartbeat_pings")), 0);
}

TEST(ClusterHeartbeats, TheNextDeciderCarriesOnAndJudgesWhatCameWhileNoneDecided) {
  LOOKOUT_NEED_POSTGRES();
  PostgresServer pg;
  EventLoop loop;
  HeartbeatDecider a(loop, pg, "fra-1");
  LeaseNode nyc(loop, pg, "nyc-1", Duration{60'000});
  ASSERT_TRUE(first_decider(loop, a));
  ping_job(loop, nyc, Ping::Kind::kSuccess);
  ASSERT_TRUE(turn_until(
      loop, [&] { return job_state(pg) == "up"; }, 15s));

  // The decider goes; a ping comes while no node decides and waits.
  a.decider.stop();
  a.leases.release(a.leases.held);
  ping_job(loop, nyc, Ping::Kind::kSuccess);
  turn_until(
      loop, [] { return false; }, 300ms);
  EXPECT_EQ(std::stoll(pg.sql("SELECT count(*) FROM heartbeat_pings")), 1);

  // The next decider reads what was kept and judges the waiting ping: still up, no incident,
  // one run for it.
  HeartbeatDecider b(loop, pg, "fra-2");
  b.take();
  b.decider.start("ack-key");
  ASSERT_TRUE(rows_reach(loop, pg, "SELECT count(*) FROM heartbeat_pings", 0));
  EXPECT_EQ(job_state(pg), "up");
  EXPECT_EQ(std::stoll(pg.sql("SELECT count(*) FROM incidents")), 0);
  EXPECT_EQ(std::stoll(pg.sql(fmt::format(
                "SELECT count(*) FROM results WHERE monitor = '{}' AND node = 'fra-2'", kJob))),
            1);
  // It carries the deadline on from the last ping: late once, by the new decider.
  ASSERT_TRUE(rows_reach(loop, pg, "SELECT count(*) FROM incidents", 1));
  EXPECT_EQ(pg.sql("SELECT decided_by FROM monitor_states"), "fra-2");

  // A ping that comes while no node decides resolves the incident once the next decider
  // judges it.
  b.decider.stop();
  b.leases.release(b.leases.held);
  ping_job(loop, nyc, Ping::Kind::kSuccess);
  ASSERT_TRUE(rows_reach(loop, pg, "SELECT count(*) FROM heartbeat_pings", 1));
  HeartbeatDecider c(loop, pg, "fra-3");
  c.take();
  c.decider.start("ack-key");
  ASSERT_TRUE(
      rows_reach(loop, pg, "SELECT count(*) FROM incidents WHERE resolved_at IS NOT NULL", 1));
  EXPECT_EQ(job_state(pg), "up");
  EXPECT_EQ(std::stoll(pg.sql("SELECT count(*) FROM incidents")), 1);
}

}  // namespace
}  // namespace lookout::testing
