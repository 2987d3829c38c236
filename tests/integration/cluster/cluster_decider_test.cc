// The deciding node's incidents against a real PostgreSQL: the locations' reports open one
// incident with its notifications in the outbox and resolve it; a node that takes the eval lease
// over carries on with the incident the last one opened (same id, never a second); a state that
// says down without an incident (a decider that died between its two writes) opens one once
// the shard is gained; and a node whose lease was taken writes nothing and reads the shard
// again.
#include "alerting/cluster_decider.h"

#include <gtest/gtest.h>

#include "store/lease_plan.h"
#include "store/pg_acks.h"
#include "tests/integration/cluster/cluster_helpers.h"
#include "tests/integration/harness.h"

namespace lookout::testing {
namespace {

std::shared_ptr<const Config> decider_config(const PostgresServer& pg,
                                             const std::string& monitor_extra = "") {
  // Reports are fresh for 2 × 1s + 1s + 2s = 5s; quorum: a majority of the fresh locations.
  const std::string text = fmt::format(
      "[cluster]\ndsn = \"{}\"\nnode = \"fra-1\"\nlocation = \"fra\"\nlease = \"2s\"\n"
      "[server]\npublic_url = \"http://127.0.0.1:9\"\n[[channel]]\nname = \"ops-webhook\"\ntype = "
      "\"webhook\"\nurl = \"http://127.0.0.1:9/\"\n"
      "[[route]]\nname = \"oncall\"\nnotify = [\"ops-webhook\"]\n"
      "[[monitor]]\nname = \"home\"\ntype = \"http\"\nurl = \"http://127.0.0.1:9/\"\n"
      "interval = \"1s\"\ntimeout = \"1s\"\n{}",
      pg.dsn(), monitor_extra);
  return std::make_shared<const Config>(config_from(text));
}

void report_home(const PostgresServer& pg, const std::string& location, const std::string& state) {
  pg.sql(fmt::format(
      "INSERT INTO location_states (monitor, location, state, since, recent, last_check, cause, "
      "shard, reported_at) VALUES ('home', '{0}', '{1}', 'epoch'::timestamptz, '{2}', "
      "clock_timestamp(), '{3}', {4}, clock_timestamp()) ON CONFLICT (monitor, location) DO "
      "UPDATE SET state = excluded.state, recent = excluded.recent, cause = excluded.cause, "
      "reported_at = excluded.reported_at",
      location, state, state == "up" ? "uu" : "dd", state == "up" ? "" : "timeout at " + location,
      shard_of("home")));
}

// A deciding node: its eval lease of home's shard taken through a LeaseNode, its decider fenced
// by what that node holds. The lease is taken once and not renewed, so it lasts a minute: a
// test on a busy machine must not see it run out; one that wants a takeover releases it.
struct DecidingNode {
  DecidingNode(EventLoop& loop, const PostgresServer& pg, const std::string& name,
               const std::string& monitor_extra = "", Duration lease = Duration{60'000})
      : leases(loop, pg, name, lease),
        decider(
            loop, leases.conn, clock, decider_config(pg, monitor_extra),
            [this] { return leases.deciding(shard); },
            [this](int s) -> std::optional<LeaseFence> {
              if (fence_refusals > 0) {
                --fence_refusals;
                return std::nullopt;
              }
              return leases.decision_fence(shard, s);
            },
            [this] { ++notified; }, Duration{100}) {}

  void take() { leases.acquire({LeaseSpace::evaluation().lease(shard)}); }

  SystemClock clock;
  int shard = shard_of("home");
  LeaseNode leases;
  int notified = 0;
  int fence_refusals = 0;  // the next fences asked for are missing, as after a late renewal
  ClusterDecider decider;
};

int64_t rows_counted(const PostgresServer& pg, const std::string& query) {
  return std::stoll(pg.sql(query));
}

// Turns the loop until `query` counts `n`.
bool until_count(EventLoop& loop, const PostgresServer& pg, const std::string& query, int64_t n) {
  return turn_until(
      loop, [&] { return rows_counted(pg, query) == n; }, 10s);
}

constexpr char kResolved[] = "SELECT count(*) FROM incidents WHERE resolved_at IS NOT NULL";

// `a` takes home's shard and both locations report it down: the id of the incident `a` opens,
// empty when none opened.
std::string open_home_incident(EventLoop& loop, const PostgresServer& pg, DecidingNode& a) {
  a.take();
  report_home(pg, "fra", "down");
  report_home(pg, "nyc", "down");
  a.decider.start("ack-key");
  if (!until_count(loop, pg, "SELECT count(*) FROM incidents", 1)) return "";
  return pg.sql("SELECT id FROM incidents");
}

TEST(ClusterDecider, TheQuorumOpensOneIncidentWithItsNotificationsAndResolvesIt) {
  LOOKOUT_NEED_POSTGRES();
  PostgresServer pg;
  EventLoop loop;
  DecidingNode a(loop, pg, "fra-1");
  require_schema(loop, a.leases.conn);
  a.take();
  report_home(pg, "fra", "down");
  report_home(pg, "nyc", "down");
  a.decider.start("ack-key");
  ASSERT_TRUE(until_count(loop, pg, "SELECT count(*) FROM incidents", 1)) << a.decider.last_error();
  EXPECT_EQ(pg.sql("SELECT state || ' ' || cause FROM incidents WHERE resolved_at IS NULL"),
            "down down from fra, nyc (2 of 2): timeout at fra");
  EXPECT_EQ(pg.sql("SELECT event || ' ' || channel || ' ' || status FROM outbox"),
            "incident.opened ops-webhook pending");
  ASSERT_TRUE(until_count(loop, pg, "SELECT count(*) FROM monitor_states", 1));
  EXPECT_EQ(pg.sql("SELECT state || ' ' || decided_by FROM monitor_states"), "down fra-1");
  EXPECT_GE(a.notified, 1);
  EXPECT_EQ(a.decider.engine().open_incidents().size(), 1u);

  // Many more reads, nothing new: the incident is open once.
  turn_until(
      loop, [] { return false; }, 500ms);
  EXPECT_EQ(rows_counted(pg, "SELECT count(*) FROM incidents"), 1);
  EXPECT_EQ(rows_counted(pg, "SELECT count(*) FROM outbox"), 1);

  report_home(pg, "fra", "up");
  report_home(pg, "nyc", "up");
  ASSERT_TRUE(until_count(loop, pg, kResolved, 1));
  EXPECT_EQ(pg.sql("SELECT string_agg(event, ',' ORDER BY created) FROM outbox"),
            "incident.opened,incident.resolved");
  ASSERT_TRUE(turn_until(
      loop, [&] { return pg.sql("SELECT state FROM monitor_states") == "up"; }, 10s));
  EXPECT_TRUE(a.decider.engine().open_incidents().empty());
}

// A keeper that counts its lease lost for a moment and renews it under the same epoch: the
// fence is missing when the first decision's state is to be written. The reader decides a
// change once, so the decider reads the shard again rather than drop it, and the state is
// written once the fence is back.
TEST(ClusterDecider, AStateWhoseFenceWasMissingForAMomentIsWrittenOnceItIsBack) {
  LOOKOUT_NEED_POSTGRES();
  PostgresServer pg;
  EventLoop loop;
  DecidingNode a(loop, pg, "fra-1");
  require_schema(loop, a.leases.conn);
  a.take();
  a.fence_refusals = 1;
  report_home(pg, "fra", "up");
  report_home(pg, "nyc", "up");
  a.decider.start("ack-key");
  ASSERT_TRUE(until_count(loop, pg, "SELECT count(*) FROM monitor_states", 1))
      << a.decider.last_error();
  EXPECT_EQ(a.fence_refusals, 0);
  EXPECT_EQ(pg.sql("SELECT state || ' ' || decided_by FROM monitor_states"), "up fra-1");
}

TEST(ClusterDecider, ANodeTakingTheLeaseOverCarriesOnWithTheOpenIncident) {
  LOOKOUT_NEED_POSTGRES();
  PostgresServer pg;
  EventLoop loop;
  DecidingNode a(loop, pg, "fra-1");
  DecidingNode b(loop, pg, "nyc-1");
  require_schema(loop, a.leases.conn);
  b.decider.start("ack-key");
  const std::string id = open_home_incident(loop, pg, a);
  ASSERT_FALSE(id.empty()) << a.decider.last_error();

  // a lets the lease go; b takes it and adopts the incident a opened.
  a.leases.release(a.leases.held);
  b.take();
  ASSERT_TRUE(turn_until(
      loop, [&] { return b.decider.engine().open_incidents().count("home") == 1; }, 10s))
      << b.decider.last_error();
  EXPECT_EQ(std::to_string(b.decider.engine().open_incidents().at("home").id), id);
  ASSERT_TRUE(turn_until(
      loop, [&] { return a.decider.engine().open_incidents().empty(); }, 10s));

  report_home(pg, "fra", "up");
  report_home(pg, "nyc", "up");
  ASSERT_TRUE(until_count(loop, pg, kResolved, 1));
  EXPECT_EQ(rows_counted(pg, "SELECT count(*) FROM incidents"), 1);
  EXPECT_EQ(pg.sql("SELECT string_agg(event, ',' ORDER BY created) FROM outbox"),
            "incident.opened,incident.resolved");
  EXPECT_EQ(pg.sql("SELECT decided_by FROM monitor_states"), "nyc-1");
}

// An acknowledgement asked for on any node waits in ack_requests while no node decides the
// shard, and the node that takes the shard applies it once: the incident acknowledged under
// the fence, its event and notification written, the request deleted.
TEST(ClusterDecider, AnAcknowledgementWaitsForTheDeciderWhichAppliesItOnce) {
  LOOKOUT_NEED_POSTGRES();
  PostgresServer pg;
  EventLoop loop;
  DecidingNode a(loop, pg, "fra-1");
  DecidingNode b(loop, pg, "nyc-1");
  require_schema(loop, a.leases.conn);
  const std::string opened = open_home_incident(loop, pg, a);
  ASSERT_FALSE(opened.empty()) << a.decider.last_error();
  const int64_t id = std::stoll(opened);
  // The decider stops and lets the shard go: nobody decides it now.
  a.decider.stop();
  a.leases.release(a.leases.held);

  const auto ask = [&](int64_t incident, const std::string& by) {
    return PgAcks::asked(answer_to(loop, b.leases.conn, PgAcks::ask(incident, by, "nyc-1")));
  };
  EXPECT_EQ(ask(id, "api"), AckAsked::kAsked);
  EXPECT_EQ(ask(id, "link"), AckAsked::kAlready);
  EXPECT_EQ(ask(id + 1000, "api"), AckAsked::kUnknown);
  // A silent location's meta-incident is not acknowledged: SilentLocationWatch owns it.
  pg.sql(
      "INSERT INTO incidents (id, monitor, grp, type, state, cause, started_at, shard) VALUES "
      "(900000, 'location nyc', '', 'location', 'down', 'silent', clock_timestamp(), 0)");
  EXPECT_EQ(ask(900000, "api"), AckAsked::kUnknown);
  EXPECT_EQ(pg.sql("SELECT asked_by || ' ' || asked_on FROM ack_requests"), "api nyc-1");
  EXPECT_EQ(pg.sql("SELECT acknowledged_at IS NULL FROM incidents WHERE monitor = 'home'"), "t");

  b.take();
  b.decider.start("ack-key");
  ASSERT_TRUE(until_count(loop, pg, "SELECT count(*) FROM ack_requests", 0))
      << b.decider.last_error();
  EXPECT_EQ(pg.sql("SELECT acknowledged_by || ' ' || (acknowledged_at IS NOT NULL) FROM "
                   "incidents WHERE monitor = 'home'"),
            "api true");
  EXPECT_EQ(pg.sql("SELECT string_agg(event || '@' || node, ',' ORDER BY id) FROM "
                   "incident_events"),
            "incident.opened@fra-1,incident.acknowledged@nyc-1");
  EXPECT_EQ(pg.sql("SELECT count(*) FROM outbox WHERE event = 'incident.acknowledged'"), "1");
  EXPECT_TRUE(b.decider.engine().open_incidents().at("home").acknowledged_at.has_value());
  EXPECT_EQ(ask(id, "link"), AckAsked::kAlready);

  // Resolved, it takes no request.
  report_home(pg, "fra", "up");
  report_home(pg, "nyc", "up");
  ASSERT_TRUE(until_count(loop, pg, kResolved, 1));
  EXPECT_EQ(ask(id, "link"), AckAsked::kResolved);
  EXPECT_EQ(pg.sql("SELECT count(*) FROM incident_events WHERE event = 'incident.acknowledged'"),
            "1");
}

// A request whose decider lost the shard before deleting it stays for the next holder, which
// finds the incident acknowledged already and only deletes it.
TEST(ClusterDecider, ARequestLeftByALostDeciderIsDeletedByTheNextWithoutASecondEvent) {
  LOOKOUT_NEED_POSTGRES();
  PostgresServer pg;
  EventLoop loop;
  DecidingNode a(loop, pg, "fra-1");
  require_schema(loop, a.leases.conn);
  const std::string id = open_home_incident(loop, pg, a);
  ASSERT_FALSE(id.empty()) << a.decider.last_error();
  a.decider.stop();
  a.leases.release(a.leases.held);
  // As if the last decider wrote the acknowledgement and lost its lease before the deletion.
  pg.sql("UPDATE incidents SET acknowledged_at = clock_timestamp(), acknowledged_by = 'link'");
  pg.sql(
      fmt::format("INSERT INTO ack_requests (incident_id, asked_by, asked_on, shard) VALUES "
                  "({}, 'link', 'nyc-1', {})",
                  id, shard_of("home")));
  DecidingNode b(loop, pg, "nyc-1");
  b.take();
  b.decider.start("ack-key");
  ASSERT_TRUE(until_count(loop, pg, "SELECT count(*) FROM ack_requests", 0))
      << b.decider.last_error();
  EXPECT_EQ(pg.sql("SELECT count(*) FROM incident_events WHERE event = 'incident.acknowledged'"),
            "0");
}

TEST(ClusterDecider, AStateDownWithoutAnIncidentOpensOneOnceTheShardIsGained) {
  LOOKOUT_NEED_POSTGRES();
  PostgresServer pg;
  EventLoop loop;
  DecidingNode a(loop, pg, "fra-1");
  require_schema(loop, a.leases.conn);
  // The last decider wrote the state and died before the incident.
  pg.sql(fmt::format(
      "INSERT INTO monitor_states (monitor, state, since, recent, last_cause, shard, decided_by) "
      "VALUES ('home', 'down', clock_timestamp(), '', 'down from fra (1 of 1): timeout at fra', "
      "{}, 'fra-2')",
      shard_of("home")));
  a.take();
  a.decider.start("ack-key");
  ASSERT_TRUE(until_count(loop, pg, "SELECT count(*) FROM incidents", 1)) << a.decider.last_error();
  EXPECT_EQ(pg.sql("SELECT cause FROM incidents"), "down from fra (1 of 1): timeout at fra");
  EXPECT_EQ(pg.sql("SELECT event FROM outbox"), "incident.opened");
}

TEST(ClusterDecider, ANodeWhoseLeaseWasTakenWritesNothingAndReadsTheShardAgain) {
  LOOKOUT_NEED_POSTGRES();
  PostgresServer pg;
  EventLoop loop;
  DecidingNode a(loop, pg, "fra-1");
  require_schema(loop, a.leases.conn);
  a.take();
  a.decider.start("ack-key");
  turn_until(
      loop, [] { return false; }, 300ms);
  // Another node holds the lease now (a's ran out while it was paused, say), yet a still
  // believes it holds it under its old epoch.
  pg.sql(fmt::format("UPDATE leases SET holder = 'nyc-1', epoch = epoch + 1 WHERE name = '{}'",
                     LeaseSpace::evaluation().lease(a.shard)));
  report_home(pg, "fra", "down");
  report_home(pg, "nyc", "down");
  turn_until(
      loop, [] { return false; }, 1500ms);
  EXPECT_EQ(rows_counted(pg, "SELECT count(*) FROM incidents"), 0);
  EXPECT_EQ(rows_counted(pg, "SELECT count(*) FROM outbox"), 0);
  EXPECT_EQ(rows_counted(pg, "SELECT count(*) FROM monitor_states"), 0);
  EXPECT_TRUE(a.decider.engine().open_incidents().empty());
}

// The quorum's decisions come only with changes; the engine is also shown each monitor's
// state once per interval, as runs would show it, so a monitor that flapped and then stays up
// stops flapping and its incident resolves (without those, the flap window would only ever
// hold changes).
TEST(ClusterDecider, AFlappingMonitorThatStaysUpResolvesItsIncident) {
  LOOKOUT_NEED_POSTGRES();
  PostgresServer pg;
  EventLoop loop;
  // Its lease is not renewed here: long enough for the whole test.
  DecidingNode a(loop, pg, "fra-1", "flap = { window = 4, threshold = 3 }\n");
  require_schema(loop, a.leases.conn);
  a.take();
  a.decider.start("ack-key");
  const auto both = [&](const std::string& state) {
    report_home(pg, "fra", state);
    report_home(pg, "nyc", state);
    const std::string want = state == "up" ? "up" : "down";
    ASSERT_TRUE(turn_until(
        loop,
        [&] {
          const auto* q = a.decider.reader().quorum("home");
          return q != nullptr && to_string(q->state()) == want;
        },
        10s));
  };
  // Down and up: two changes, below the threshold; the first incident opens and resolves.
  both("down");
  both("up");
  ASSERT_TRUE(until_count(loop, pg, kResolved, 1));
  // Down again: the third change in the window, so the second incident is flapping, and it
  // stays open while the monitor is up...
  both("down");
  ASSERT_TRUE(until_count(loop, pg, "SELECT count(*) FROM incidents WHERE flapping", 1));
  both("up");
  turn_until(
      loop, [] { return false; }, 500ms);
  EXPECT_EQ(rows_counted(pg, kResolved), 1);
  // ...until it has been up for the flap window (4 intervals of 1 s), then it resolves.
  ASSERT_TRUE(until_count(loop, pg, kResolved, 2)) << a.decider.last_error();
  EXPECT_EQ(rows_counted(pg, "SELECT count(*) FROM incidents"), 2);
}

}  // namespace
}  // namespace lookout::testing
