// The page's and the API's reads of the cluster against a real PostgreSQL: the decided state,
// each location's report (one written before the freshness bound shows unknown), the open
// incidents and the node holding the monitor's eval lease, which follows the lease to another
// node and is null once it ran out; and while the database is away, the last picture read with
// ok false. The reads after the first take only the rows written since: a row whose transaction
// commits after a later one was read still shows, a closed incident leaves, and a reader whose
// connection came back reads the whole picture again.
#include "alerting/cluster_status.h"

#include <gtest/gtest.h>

#include "store/lease_plan.h"
#include "tests/integration/cluster/cluster_helpers.h"
#include "tests/integration/harness.h"

namespace lookout::testing {
namespace {

const int64_t kRunMs = 1'765'000'000'000;

// What the deciding node fra-1 and the probing node of fra wrote about home before the reader
// starts: down, from fra; nyc's report was written a minute ago; an incident is open.
struct Written {
  explicit Written(const PostgresServer& pg)
      : config(home_config(pg)),
        a(loop, pg, "fra-1", Duration{60'000}),
        b(loop, pg, "fra-2", Duration{3000}),
        conn(loop, Secret::plain(pg.dsn()), nullptr),
        reader(
            loop, conn, clock, config,
            [this](const ClusterStatus& s) {
              last = s;
              ++reads;
            },
            Duration{100}) {
    conn.start();
    require_schema(loop, a.conn);
    const int shard = shard_of("home");
    const auto decided = a.acquire({eval});
    const auto probed = a.acquire({LeaseSpace::probing("fra").lease(shard)});
    if (decided.size() != 1 || probed.size() != 1) throw std::runtime_error("no leases");
    const LeaseFence fence{eval, "fra-1", decided.front().epoch};

    StateRow state;
    state.monitor = "home";
    state.state = "down";
    state.since_ms = kRunMs - 30'000;
    state.recent = "dd";
    state.last_check_ms = kRunMs;
    state.last_outcome = Outcome::kDown;
    state.last_cause = "down from fra (1 of 1): timeout";
    const auto put =
        LeaseRegistry::fence_outcome(answer_to(loop, a.conn, PgDecisions::put_state(fence, state)));
    const LocationReportRow fra{
        {"home", "fra", "down", kRunMs - 30'000, kRunMs, std::nullopt, "timeout"},
        "dd",
        probed.front().epoch,
        0};
    const auto reported = PgDecisions::reported_monitors(
        answer_to(loop, a.conn, PgDecisions::report_locations("fra-1", "fra", {fra})));
    pg.sql(fmt::format(
        "INSERT INTO location_states (monitor, location, state, since, recent, last_check, "
        "latency_us, shard, reported_at) VALUES ('home', 'nyc', 'up', 'epoch'::timestamptz, 'uu', "
        "'epoch'::timestamptz + {} * interval '1 millisecond', 31000, {}, clock_timestamp() - "
        "interval '60 s')",
        kRunMs, shard));
    const auto ids =
        PgDecisions::reserved_ids(answer_to(loop, a.conn, PgDecisions::reserve_incident_ids(1)));
    if (!put || !put->held || !reported || reported->size() != 1 || !ids) {
      throw std::runtime_error("cannot write what the reader reads");
    }
    incident.id = ids->front();
    incident.monitor = "home";
    incident.group = "home";
    incident.type = "http";
    incident.cause = state.last_cause;
    incident.started_at = from_unix_ms(kRunMs - 30'000);
    const auto opened = PgDecisions::opening(
        answer_to(loop, a.conn, PgDecisions::open_incident(fence, incident, {})));
    if (!opened || !opened->opened) throw std::runtime_error("cannot open the incident");
  }

  // Turns the loop until a read that answered whole says `done`.
  ::testing::AssertionResult read_until(const std::function<bool(const ClusterStatus&)>& done) {
    if (turn_until(
            loop, [&] { return last && last->ok && done(*last); }, 10s)) {
      return ::testing::AssertionSuccess();
    }
    return ::testing::AssertionFailure() << "the last read: " << (last ? last->error : "none");
  }

  SystemClock clock;
  EventLoop loop;
  Config config;
  const std::string eval = LeaseSpace::evaluation().lease(shard_of("home"));
  LeaseNode a, b;
  PgConnection conn;
  IncidentRecord incident;
  std::optional<ClusterStatus> last;
  uint64_t reads = 0;
  ClusterStatusReader reader;
};

const ClusterMonitorStatus& home_of(const ClusterStatus& s) { return s.monitors.at("home"); }
bool both_locations_read(const ClusterStatus& s) { return home_of(s).locations.size() == 2; }

TEST(ClusterStatus, TheReaderShowsTheDecidedStateTheLocationsAndTheOpenIncident) {
  LOOKOUT_NEED_POSTGRES();
  PostgresServer pg;
  Written w(pg);
  w.reader.start();
  ASSERT_TRUE(w.read_until(both_locations_read));
  const ClusterMonitorStatus& home = home_of(*w.last);
  EXPECT_EQ(home.state, State::kDown);
  EXPECT_EQ(home.since, from_unix_ms(kRunMs - 30'000));
  EXPECT_EQ(home.last_check, from_unix_ms(kRunMs));
  EXPECT_EQ(home.last_outcome, Outcome::kDown);
  EXPECT_EQ(home.cause, "down from fra (1 of 1): timeout");
  EXPECT_EQ(home.decided_by, "fra-1");
  EXPECT_EQ(home.locations[0].location, "fra");
  EXPECT_EQ(home.locations[0].state, State::kDown);
  EXPECT_EQ(home.locations[0].cause, "timeout");
  EXPECT_EQ(home.locations[0].last_check, from_unix_ms(kRunMs));
  EXPECT_EQ(home.locations[1].location, "nyc");
  EXPECT_EQ(home.locations[1].state, State::kUnknown) << "written a minute ago: not fresh";
  EXPECT_EQ(home.locations[1].latency_us, 31'000);
  ASSERT_EQ(w.last->open_incidents.size(), 1U);
  EXPECT_EQ(w.last->open_incidents[0].id, w.incident.id);
  EXPECT_EQ(w.last->open_incidents[0].cause, "down from fra (1 of 1): timeout");
  EXPECT_EQ(w.reader.status().error, "");
}

TEST(ClusterStatus, DecidedByFollowsTheEvalLeaseAndIsNullOnceItRanOut) {
  LOOKOUT_NEED_POSTGRES();
  PostgresServer pg;
  Written w(pg);
  w.reader.start();
  ASSERT_TRUE(
      w.read_until([](const ClusterStatus& s) { return home_of(s).decided_by == "fra-1"; }));
  ASSERT_EQ(w.a.release({w.a.lease(w.eval)}), std::vector<std::string>{w.eval});
  ASSERT_EQ(w.b.acquire({w.eval}).size(), 1U);
  ASSERT_TRUE(
      w.read_until([](const ClusterStatus& s) { return home_of(s).decided_by == "fra-2"; }));
  // fra-2 does not renew: after its 3 s nobody decides home, and the page says so.
  ASSERT_TRUE(
      w.read_until([](const ClusterStatus& s) { return !home_of(s).decided_by.has_value(); }));
  EXPECT_TRUE(holders(pg, "eval/%").empty());
  EXPECT_EQ(home_of(*w.last).state, State::kDown) << "the decided state stays as it was written";
}

TEST(ClusterStatus, WhileTheDatabaseIsAwayTheLastPictureStandsWithOkFalse) {
  LOOKOUT_NEED_POSTGRES();
  PostgresServer pg;
  Written w(pg);
  w.reader.start();
  ASSERT_TRUE(w.read_until(both_locations_read));
  pg.stop();
  ASSERT_TRUE(turn_until(
      w.loop, [&] { return !w.last->ok; }, 10s));
  EXPECT_NE(w.last->error, "");
  EXPECT_EQ(home_of(*w.last).state, State::kDown);
  EXPECT_EQ(home_of(*w.last).locations.size(), 2U);
  EXPECT_EQ(w.last->open_incidents.size(), 1U);
  pg.start();
  ASSERT_TRUE(w.read_until([](const ClusterStatus& s) { return s.error.empty(); }));
}

std::optional<int64_t> status_nyc_latency(const ClusterStatus& s) {
  for (const LocationView& l : home_of(s).locations) {
    if (l.location == "nyc") return l.latency_us;
  }
  return std::nullopt;
}

std::string status_fra_cause(const ClusterStatus& s) {
  for (const LocationView& l : home_of(s).locations) {
    if (l.location == "fra") return l.cause;
  }
  return "";
}

TEST(ClusterStatus, ARowWhoseTransactionCommitsAfterALaterOneWasReadStillShows) {
  LOOKOUT_NEED_POSTGRES();
  PostgresServer pg;
  Written w(pg);
  w.reader.start();
  ASSERT_TRUE(w.read_until(both_locations_read));
  // The slow transaction takes its id first and commits last.
  PgConnection slow(w.loop, Secret::plain(pg.dsn()), nullptr);
  slow.start();
  std::optional<PgResult> committed;
  slow.script(
      "BEGIN; UPDATE location_states SET latency_us = 777 WHERE location = 'nyc'; "
      "SELECT pg_sleep(4); COMMIT;",
      [&](const PgResult& r) { committed = r; });
  auto sleeping = [&] {
    return pg.sql("SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'PgSleep'") == "1";
  };
  ASSERT_TRUE(turn_until(w.loop, sleeping, 10s));
  pg.sql("UPDATE location_states SET cause = 'early' WHERE location = 'fra'");
  ASSERT_TRUE(w.read_until([](const ClusterStatus& s) { return status_fra_cause(s) == "early"; }));
  ASSERT_FALSE(committed.has_value()) << "the slow transaction ended before the later one was read";
  EXPECT_EQ(status_nyc_latency(*w.last), 31'000);
  ASSERT_TRUE(w.read_until([](const ClusterStatus& s) { return status_nyc_latency(s) == 777; }));
  ASSERT_TRUE(committed.has_value());
  EXPECT_TRUE(committed->ok()) << committed->error;
  EXPECT_EQ(w.reader.whole_reads(), 1U) << "read by the reads since, not by a whole one";
}

TEST(ClusterStatus, AClosedIncidentLeavesThePicture) {
  LOOKOUT_NEED_POSTGRES();
  PostgresServer pg;
  Written w(pg);
  w.reader.start();
  ASSERT_TRUE(w.read_until([](const ClusterStatus& s) { return s.open_incidents.size() == 1; }));
  pg.sql(fmt::format("UPDATE incidents SET resolved_at = clock_timestamp() WHERE id = {}",
                     w.incident.id));
  ASSERT_TRUE(w.read_until([](const ClusterStatus& s) { return s.open_incidents.empty(); }));
  EXPECT_EQ(w.reader.whole_reads(), 1U);
  EXPECT_GT(w.reader.rows_read(), 0U);
}

TEST(ClusterStatus, AReaderWhoseConnectionCameBackShowsTheTruthAgain) {
  LOOKOUT_NEED_POSTGRES();
  PostgresServer pg;
  Written w(pg);
  w.reader.start();
  ASSERT_TRUE(w.read_until(both_locations_read));
  // A row deleted behind the reader's back (by hand: lookout deletes none) is not among the rows
  // written since; the reads since keep showing it ...
  pg.sql("DELETE FROM location_states WHERE location = 'nyc'");
  const uint64_t after_delete = w.reads;
  ASSERT_TRUE(turn_until(
      w.loop, [&] { return w.reads >= after_delete + 3; }, 10s));
  EXPECT_EQ(home_of(*w.last).locations.size(), 2U);
  EXPECT_EQ(w.reader.whole_reads(), 1U);
  // ... until the connection drops and comes back, after which the reader reads whole.
  pg.sql(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid <> pg_backend_pid() "
      "AND backend_type = 'client backend'");
  ASSERT_TRUE(
      w.read_until([](const ClusterStatus& s) { return home_of(s).locations.size() == 1; }));
  EXPECT_EQ(home_of(*w.last).locations[0].location, "fra");
  EXPECT_GE(w.reader.whole_reads(), 2U);
  EXPECT_EQ(home_of(*w.last).state, State::kDown);
  EXPECT_EQ(w.last->open_incidents.size(), 1U);
}

}  // namespace
}  // namespace lookout::testing
