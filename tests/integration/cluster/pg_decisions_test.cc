// The cluster's decisions against a real PostgreSQL: an incident opens with its events and
// outbox rows in one statement or not at all; a monitor has at most one open incident, also when
// two nodes race to open it; a node whose eval lease was taken over writes no state, incident,
// event, outbox row or delivery report; claiming gives each due row to one node of the shard's
// lease, skips other shards, claims a row left sending by a dead node again with the same id,
// and respects a retry's due time; and concurrent claimers never claim one row twice (a trigger
// logs every claim).
#include "store/pg_decisions.h"

#include <gtest/gtest.h>

#include <chrono>
#include <set>

#include "store/lease_plan.h"
#include "tests/integration/cluster/cluster_helpers.h"
#include "tests/integration/harness.h"

namespace lookout::testing {
namespace {

const Duration kDecisionLease{60'000};

// A node that decides: its leases, and its statements run to their answers.
struct Decider : LeaseNode {
  using LeaseNode::LeaseNode;

  const std::string& name() const { return registry.node(); }
  PgResult run(const PgStatement& s) { return answer_to(loop, conn, s); }

  // The answer to `s` as `read` reads it; throws, saying what failed, when it cannot be read.
  template <typename Read>
  auto ask(const PgStatement& s, Read read, const std::string& what) {
    const PgResult r = run(s);
    auto out = read(r);
    if (!out) throw std::runtime_error("cannot " + what + ": " + r.error);
    return std::move(*out);
  }

  // Takes (or renews) the eval lease of `shard`; nullopt when another node holds it.
  std::optional<LeaseFence> take(int shard) {
    const std::string lease = LeaseSpace::evaluation().lease(shard);
    const auto rows = acquire({lease});
    if (rows.empty()) return std::nullopt;
    return LeaseFence{lease, name(), rows.front().epoch};
  }

  std::vector<int64_t> reserve(int count) {
    return ask(PgDecisions::reserve_incident_ids(count), PgDecisions::reserved_ids,
               "reserve incident ids");
  }
  IncidentOpening open(const LeaseFence& fence, const IncidentRecord& incident,
                       const std::vector<EventRecord>& events) {
    return ask(PgDecisions::open_incident(fence, incident, events), PgDecisions::opening,
               "open an incident");
  }
  IncidentUpdate update(const LeaseFence& fence, const IncidentRecord& incident,
                        const std::vector<EventRecord>& events) {
    return ask(PgDecisions::update_incident(fence, incident, events), PgDecisions::update,
               "update an incident");
  }
  FenceOutcome put(const LeaseFence& fence, const StateRow& state) {
    return ask(PgDecisions::put_state(fence, state), LeaseRegistry::fence_outcome, "put a state");
  }
  std::vector<ClaimedOutbox> claim(Duration claim_for, int limit = 100) {
    std::vector<std::pair<int, int64_t>> shards;
    for (const auto& h : held) {
      shards.emplace_back(*LeaseSpace::evaluation().shard(h.name), h.epoch);
    }
    return ask(PgDecisions::claim(name(), shards, claim_for, limit), PgDecisions::claimed, "claim");
  }
  std::vector<IncidentRecord> open_incidents(const std::vector<int>& shards) {
    return ask(PgDecisions::open_incidents(shards), PgDecisions::incidents, "read incidents");
  }
  std::vector<PendingOutbox> unsent(const std::vector<int>& shards) {
    return ask(PgDecisions::unsent_outbox(shards), PgDecisions::outbox_rows, "read the outbox");
  }
  std::vector<StateRow> states(const std::vector<int>& shards) {
    return ask(PgDecisions::states(shards), PgDecisions::state_rows, "read states");
  }
  std::vector<LocationStateRow> locations(const std::vector<int>& shards) {
    return ask(PgDecisions::location_states(shards), PgDecisions::location_rows,
               "read locations' states");
  }
  // Takes (or renews) the probe lease of `shard` in `location`; its epoch, or nullopt.
  std::optional<int64_t> probe(const std::string& location, int shard) {
    const auto rows = acquire({LeaseSpace::probing(location).lease(shard)});
    if (rows.empty()) return std::nullopt;
    return rows.front().epoch;
  }
  std::vector<std::string> report_locations(const std::string& location,
                                            const std::vector<LocationReportRow>& reports) {
    return ask(PgDecisions::report_locations(name(), location, reports),
               PgDecisions::reported_monitors, "report locations");
  }
  std::vector<LocationReportRow> heard(const std::vector<int>& shards, Duration within) {
    return ask(PgDecisions::location_reports(shards, within), PgDecisions::report_rows,
               "read location reports");
  }
  bool report(const ClaimedOutbox& row, const DeliveryUpdate& u, int64_t now_ms) {
    return ask(PgDecisions::report_delivery(name(), row.claim_epoch, u, now_ms),
               PgDecisions::reported, "report a delivery");
  }
};

// Each test's own server with the schema in place, and its deciding nodes.
class PgDecisionsInPostgres : public ::testing::Test {
 protected:
  void SetUp() override {
    LOOKOUT_NEED_POSTGRES();
    server_ = std::make_unique<PostgresServer>();
    require_schema(loop, *server_);
  }

  const PostgresServer& pg() const { return *server_; }
  // A node of its own connection; several of one name are one node's connections.
  Decider& node(const std::string& name, Duration lease = kDecisionLease) {
    nodes_.push_back(std::make_unique<Decider>(loop, *server_, name, lease));
    return *nodes_.back();
  }

  EventLoop loop;

 private:
  std::unique_ptr<PostgresServer> server_;
  std::vector<std::unique_ptr<Decider>> nodes_;
};

// Monitors in `count` different shards.
std::vector<std::string> monitors_in_shards(size_t count) {
  std::vector<std::string> out;
  std::set<int> shards;
  for (int i = 0; out.size() < count; ++i) {
    std::string name = "portal-" + std::to_string(i);
    if (shards.insert(shard_of(name)).second) out.push_back(std::move(name));
  }
  return out;
}

const WallTime kStarted = from_unix_ms(1'765'000'000'000);

IncidentRecord incident_of(const std::string& monitor, int64_t id) {
  IncidentRecord i;
  i.id = id;
  i.monitor = monitor;
  i.group = monitor;
  i.type = "down";
  i.state = State::kDown;
  i.cause = "down from fra, nyc (2 of 3): expected status 200, got 503";
  i.started_at = kStarted;
  return i;
}

// An event of `incident` with one notification per id.
EventRecord event_of(const IncidentRecord& incident, const std::string& event,
                     const std::vector<std::string>& ids, WallTime at = kStarted) {
  EventRecord e{incident.id, event, at, {}};
  for (const std::string& id : ids) {
    e.notifications.push_back(OutboxRow{id, incident.id, event, "ops-webhook", "oncall", "", at,
                                        fmt::format(R"({{"id":{}}})", incident.id),
                                        Audience::kOnCall});
  }
  return e;
}

int fence_shard(const LeaseFence& fence) { return *LeaseSpace::evaluation().shard(fence.lease); }

// Ends `holder`'s lease of `shard` by the server's clock, as if it had stopped renewing it, and
// has `taker` take it: the takeover gives `taker` the next epoch.
LeaseFence take_over(const PostgresServer& pg, Decider& taker, int shard) {
  pg.sql(
      "UPDATE leases SET expires_at = clock_timestamp() - interval '1 millisecond' WHERE name "
      "= '" +
      LeaseSpace::evaluation().lease(shard) + "'");
  const auto fence = taker.take(shard);
  if (!fence)
    throw std::runtime_error(taker.name() + " cannot take over shard " + std::to_string(shard));
  return *fence;
}

std::string count_of(const PostgresServer& pg, const std::string& from_where) {
  return pg.sql("SELECT count(*) FROM " + from_where);
}

TEST_F(PgDecisionsInPostgres, AnIncidentOpensWithItsEventsAndOutboxRowsInOneStatement) {
  Decider& a = node("fra-1");
  const auto monitors = monitors_in_shards(2);
  const auto fence = a.take(shard_of(monitors[0]));
  ASSERT_TRUE(fence);
  const auto ids = a.reserve(3);
  ASSERT_EQ(ids.size(), 3u);
  EXPECT_LT(ids[0], ids[1]);

  IncidentRecord incident = incident_of(monitors[0], ids[0]);
  incident.fired = {"oncall#0", R"(odd "route",#1)"};
  incident.next_reminder = kStarted + Duration{3'600'000};
  const EventRecord opened = event_of(incident, "incident.opened", {"evt_a1", "evt_a2"});
  const IncidentOpening first = a.open(*fence, incident, {opened});
  EXPECT_TRUE(first.held);
  EXPECT_TRUE(first.opened);
  EXPECT_EQ(first.notifications, 2);
  EXPECT_EQ(
      pg().sql("SELECT count(*) FROM outbox o JOIN incident_events e ON e.id = o.event_id "
               "JOIN incidents i ON i.id = e.incident_id AND i.id = o.incident_id "
               "WHERE o.status = 'pending' AND o.due <= clock_timestamp() AND o.shard = i.shard "
               "AND e.node = 'fra-1' AND e.event = 'incident.opened'"),
      "2");
  EXPECT_EQ(pg().sql("SELECT shard FROM incidents"), std::to_string(shard_of(monitors[0])));

  // What a node taking the shard over reads is what was written.
  const auto open = a.open_incidents({fence_shard(*fence)});
  ASSERT_EQ(open.size(), 1u);
  EXPECT_EQ(open[0].id, incident.id);
  EXPECT_EQ(open[0].fired, incident.fired);
  EXPECT_EQ(open[0].next_reminder, incident.next_reminder);
  EXPECT_EQ(open[0].started_at, kStarted);
  EXPECT_EQ(open[0].cause, incident.cause);
  const auto unsent = a.unsent({fence_shard(*fence)});
  ASSERT_EQ(unsent.size(), 2u);
  std::set<std::string> unsent_ids;
  for (const auto& u : unsent) {
    unsent_ids.insert(u.row.id);
    EXPECT_EQ(u.row.incident_id, incident.id);
    EXPECT_EQ(u.row.payload, opened.notifications[0].payload);
    EXPECT_EQ(u.row.created, kStarted);
    EXPECT_EQ(u.attempts, 0);
  }
  EXPECT_EQ(unsent_ids, (std::set<std::string>{"evt_a1", "evt_a2"}));

  // A second opening for the monitor writes nothing and names the open incident.
  const IncidentOpening second =
      a.open(*fence, incident_of(monitors[0], ids[1]),
             {event_of(incident_of(monitors[0], ids[1]), "incident.opened", {"evt_b1"})});
  EXPECT_TRUE(second.held);
  EXPECT_FALSE(second.opened);
  EXPECT_EQ(second.open_id, incident.id);
  EXPECT_EQ(second.notifications, 0);
  EXPECT_EQ(count_of(pg(), "incidents"), "1");
  EXPECT_EQ(count_of(pg(), "incident_events"), "1");
  EXPECT_EQ(count_of(pg(), "outbox"), "2");

  // An opening that fails part way (an outbox id already taken) leaves nothing at all.
  const auto fence2 = a.take(shard_of(monitors[1]));
  ASSERT_TRUE(fence2);
  const IncidentRecord other = incident_of(monitors[1], ids[2]);
  const PgResult failed = a.run(PgDecisions::open_incident(
      *fence2, other, {event_of(other, "incident.opened", {"evt_c1", "evt_a1"})}));
  EXPECT_FALSE(failed.ok());
  EXPECT_EQ(failed.sqlstate, "23505");
  EXPECT_EQ(count_of(pg(), "incidents"), "1");
  EXPECT_EQ(count_of(pg(), "incident_events"), "1");
  EXPECT_EQ(count_of(pg(), "outbox WHERE id = 'evt_c1'"), "0");
}

// A node whose lease was taken over writes nothing under its old epoch: no incident, event,
// outbox row, incident change or state. The new holder's decisions are written.
TEST_F(PgDecisionsInPostgres, AStaleEpochWritesNothing) {
  Decider& a = node("fra-1");
  Decider& b = node("nyc-1");
  const std::string monitor = monitors_in_shards(1)[0];
  const int shard = shard_of(monitor);
  const auto old = a.take(shard);
  ASSERT_TRUE(old);
  const auto ids = a.reserve(2);
  IncidentRecord incident = incident_of(monitor, ids[0]);
  ASSERT_TRUE(a.open(*old, incident, {event_of(incident, "incident.opened", {"evt_1"})}).opened);
  const StateRow down{monitor, "down", 1000, "uudd", 4000, Outcome::kDown, std::nullopt, "503"};
  const FenceOutcome put = a.put(*old, down);
  EXPECT_TRUE(put.held);
  EXPECT_EQ(put.written, 1);

  const LeaseFence now = take_over(pg(), b, shard);
  EXPECT_EQ(now.epoch, old->epoch + 1);
  const std::string before = pg().sql(
      "SELECT (SELECT string_agg(id || state || coalesce(resolved_at::text, '-'), ',') FROM "
      "incidents) || (SELECT count(*) FROM incident_events) || (SELECT count(*) FROM outbox) || "
      "(SELECT string_agg(state || decided_by, ',') FROM monitor_states) || (SELECT count(*) FROM "
      "location_states)");

  // The old holder's resolution, acknowledgement, state and a new incident: all refused.
  IncidentRecord resolved = incident;
  resolved.resolved_at = kStarted + Duration{60'000};
  const IncidentUpdate refused =
      a.update(*old, resolved, {event_of(resolved, "incident.resolved", {"evt_2"})});
  EXPECT_FALSE(refused.held);
  EXPECT_FALSE(refused.updated);
  const StateRow up{monitor, "up", 9000, "dduu", 9000, Outcome::kUp, 120'000, ""};
  const FenceOutcome stale_state = a.put(*old, up);
  EXPECT_FALSE(stale_state.held);
  EXPECT_EQ(stale_state.written, 0);
  pg().sql("UPDATE incidents SET resolved_at = clock_timestamp()");
  const IncidentOpening stale_open =
      a.open(*old, incident_of(monitor, ids[1]),
             {event_of(incident_of(monitor, ids[1]), "incident.opened", {"evt_3"})});
  EXPECT_FALSE(stale_open.held);
  EXPECT_FALSE(stale_open.opened);
  pg().sql("UPDATE incidents SET resolved_at = NULL");
  EXPECT_EQ(pg().sql("SELECT (SELECT string_agg(id || state || coalesce(resolved_at::text, '-'), "
                     "',') FROM incidents) || (SELECT count(*) FROM incident_events) || (SELECT "
                     "count(*) FROM outbox) || (SELECT string_agg(state || decided_by, ',') FROM "
                     "monitor_states) || (SELECT count(*) FROM location_states)"),
            before);

  // The new holder carries on from what is there.
  const auto taken = b.open_incidents({shard});
  ASSERT_EQ(taken.size(), 1u);
  EXPECT_EQ(taken[0].id, incident.id);
  const IncidentUpdate fresh =
      b.update(now, resolved, {event_of(resolved, "incident.resolved", {"evt_2"})});
  EXPECT_TRUE(fresh.held);
  EXPECT_TRUE(fresh.updated);
  EXPECT_EQ(fresh.notifications, 1);
  EXPECT_EQ(b.put(now, up).written, 1);
  EXPECT_EQ(pg().sql("SELECT state || ' ' || decided_by FROM monitor_states"), "up nyc-1");
  EXPECT_EQ(pg().sql("SELECT string_agg(node, ',' ORDER BY id) FROM incident_events"),
            "fra-1,nyc-1");
}

// Two nodes send the opening of one monitor's incident at once, one of them under the epoch it
// held before a takeover: only the current holder's incident, event and outbox rows are written.
// Then two openings under the same valid lease race on two connections: one incident opens.
TEST_F(PgDecisionsInPostgres, NodesRacingToOpenOneMonitorsIncidentEndWithOneOpenIncident) {
  Decider& a = node("fra-1");
  Decider& b = node("nyc-1");
  Decider& b_again = node("nyc-1");
  const std::string monitor = monitors_in_shards(1)[0];
  const int shard = shard_of(monitor);
  const auto old = a.take(shard);
  ASSERT_TRUE(old);
  const LeaseFence now = take_over(pg(), b, shard);
  const auto ids = a.reserve(4);

  const auto send_open = [&](Decider& d, const LeaseFence& fence, int64_t id,
                             const std::string& evt, std::optional<IncidentOpening>& out) {
    const IncidentRecord incident = incident_of(monitor, id);
    const PgStatement s =
        PgDecisions::open_incident(fence, incident, {event_of(incident, "incident.opened", {evt})});
    d.conn.query(s.sql, s.params, [&out](PgResult r) {
      out = PgDecisions::opening(r);
      if (!out) ADD_FAILURE() << r.error;
    });
  };
  std::optional<IncidentOpening> stale, current;
  send_open(a, *old, ids[0], "evt_stale", stale);
  send_open(b, now, ids[1], "evt_current", current);
  ASSERT_TRUE(turn_until(
      loop, [&] { return stale && current; }, 20s));
  EXPECT_FALSE(stale->held);
  EXPECT_FALSE(stale->opened);
  EXPECT_TRUE(current->held);
  EXPECT_TRUE(current->opened);
  EXPECT_EQ(pg().sql("SELECT string_agg(id::text, ',') FROM incidents WHERE resolved_at IS NULL"),
            std::to_string(ids[1]));
  EXPECT_EQ(pg().sql("SELECT string_agg(id, ',') FROM outbox"), "evt_current");
  EXPECT_EQ(pg().sql("SELECT string_agg(node, ',') FROM incident_events"), "nyc-1");

  // Resolved, then opened twice at once under the lease that holds: one of them opens.
  IncidentRecord resolved = incident_of(monitor, ids[1]);
  resolved.resolved_at = kStarted + Duration{1000};
  ASSERT_TRUE(b.update(now, resolved, {}).updated);
  std::optional<IncidentOpening> one, two;
  send_open(b, now, ids[2], "evt_one", one);
  send_open(b_again, now, ids[3], "evt_two", two);
  ASSERT_TRUE(turn_until(
      loop, [&] { return one && two; }, 20s));
  EXPECT_TRUE(one->held);
  EXPECT_TRUE(two->held);
  EXPECT_NE(one->opened, two->opened);
  EXPECT_EQ(count_of(pg(), "incidents WHERE resolved_at IS NULL"), "1");
  EXPECT_EQ(pg().sql("SELECT string_agg(id, ',') FROM outbox WHERE id IN ('evt_one', 'evt_two')"),
            one->opened ? "evt_one" : "evt_two");
  EXPECT_EQ(count_of(pg(), "incident_events"), "2");
}

// Updates change only an open incident; a resolved one is history, and the monitor may open a
// new incident once its last one is resolved.
TEST_F(PgDecisionsInPostgres, UpdatesChangeOnlyAnOpenIncident) {
  Decider& a = node("fra-1");
  const std::string monitor = monitors_in_shards(1)[0];
  const auto fence = a.take(shard_of(monitor));
  ASSERT_TRUE(fence);
  const auto ids = a.reserve(2);
  IncidentRecord incident = incident_of(monitor, ids[0]);
  ASSERT_TRUE(a.open(*fence, incident, {event_of(incident, "incident.opened", {"evt_1"})}).opened);

  // Acknowledged (no notification) and escalated (one) in one statement.
  incident.acknowledged_at = kStarted + Duration{5000};
  incident.acknowledged_by = "link";
  incident.fired = {"oncall#1"};
  incident.flapping = true;
  const IncidentUpdate changed =
      a.update(*fence, incident,
               {event_of(incident, "incident.acknowledged", {}),
                event_of(incident, "incident.escalated", {"evt_2", "evt_3"})});
  EXPECT_TRUE(changed.held);
  EXPECT_TRUE(changed.updated);
  EXPECT_EQ(changed.notifications, 2);
  EXPECT_EQ(pg().sql("SELECT string_agg(e.event || ':' || coalesce(o.id, '-'), ',' ORDER BY e.id, "
                     "o.id) FROM incident_events e LEFT JOIN outbox o ON o.event_id = e.id"),
            "incident.opened:evt_1,incident.acknowledged:-,incident.escalated:evt_2,"
            "incident.escalated:evt_3");
  const auto read = a.open_incidents({shard_of(monitor)});
  ASSERT_EQ(read.size(), 1u);
  EXPECT_EQ(read[0].acknowledged_at, incident.acknowledged_at);
  EXPECT_EQ(read[0].acknowledged_by, "link");
  EXPECT_TRUE(read[0].flapping);
  EXPECT_EQ(read[0].fired, incident.fired);

  incident.resolved_at = kStarted + Duration{60'000};
  EXPECT_TRUE(
      a.update(*fence, incident, {event_of(incident, "incident.resolved", {"evt_4"})}).updated);
  EXPECT_EQ(pg().sql("SELECT floor(extract(epoch FROM resolved_at) * 1000)::bigint FROM incidents"),
            std::to_string(to_unix_ms(*incident.resolved_at)));
  // Once resolved, nothing changes it.
  incident.cause = "changed after the end";
  const IncidentUpdate late =
      a.update(*fence, incident, {event_of(incident, "incident.reminder", {"evt_5"})});
  EXPECT_TRUE(late.held);
  EXPECT_FALSE(late.updated);
  EXPECT_EQ(late.notifications, 0);
  EXPECT_EQ(count_of(pg(), "outbox WHERE id = 'evt_5'"), "0");
  EXPECT_EQ(count_of(pg(), "incidents WHERE cause = 'changed after the end'"), "0");
  EXPECT_TRUE(a.open_incidents({shard_of(monitor)}).empty());

  const IncidentRecord next = incident_of(monitor, ids[1]);
  EXPECT_TRUE(a.open(*fence, next, {event_of(next, "incident.opened", {"evt_6"})}).opened);
}

TEST_F(PgDecisionsInPostgres, StatesAreUpsertedAndReadBack) {
  Decider& a = node("fra-1");
  const auto monitors = monitors_in_shards(2);
  const auto fence = a.take(shard_of(monitors[0]));
  ASSERT_TRUE(fence);

  const StateRow first{
      monitors[0], "down",         1000,         "ud",
      2000,        Outcome::kDown, std::nullopt, "down from fra (1 of 1): timeout"};
  ASSERT_EQ(a.put(*fence, first).written, 1);
  StateRow second = first;
  second.state = "up";
  second.recent = "udu";
  second.last_outcome = Outcome::kUp;
  second.last_latency_us = 42'000;
  second.last_cause = "";
  ASSERT_EQ(a.put(*fence, second).written, 1);
  // A monitor of a shard this node does not hold.
  StateRow elsewhere = first;
  elsewhere.monitor = monitors[1];
  const LeaseFence not_held{LeaseSpace::evaluation().lease(shard_of(monitors[1])), "fra-1", 1};
  EXPECT_FALSE(a.put(not_held, elsewhere).held);

  const auto states = a.states({shard_of(monitors[0]), shard_of(monitors[1])});
  ASSERT_EQ(states.size(), 1u);
  EXPECT_EQ(states[0].state, "up");
  EXPECT_EQ(states[0].recent, "udu");
  EXPECT_EQ(states[0].last_outcome, Outcome::kUp);
  EXPECT_EQ(states[0].last_latency_us, 42'000);
  EXPECT_EQ(states[0].last_check_ms, 2000);
  EXPECT_EQ(states[0].last_cause, "");
  EXPECT_EQ(pg().sql("SELECT decided_by || ' ' || shard FROM monitor_states"),
            "fra-1 " + std::to_string(shard_of(monitors[0])));
  EXPECT_EQ(pg().sql("SELECT count(*) FROM location_states"), "0");
}

// A location's report of `monitor` as its probing node writes it under `epoch`.
LocationReportRow report_of(const std::string& monitor, const std::string& location,
                            const std::string& state, int64_t last_check_ms, int64_t epoch) {
  return {{monitor, location, state, 1000, last_check_ms, std::nullopt,
           state == "up" ? "" : "timeout at " + location},
          state == "up" ? "uu" : "dd",
          epoch,
          0};
}

// Each location's node writes its reports under its probe lease; the deciding node reads every
// location's with its age by the server's clock. A report about an older run, or from a node
// whose lease another took, changes nothing.
TEST_F(PgDecisionsInPostgres, LocationReportsAreWrittenUnderTheProbeLeaseAndReadWithTheirAge) {
  Decider& fra = node("fra-1");
  Decider& nyc = node("nyc-1");
  const auto monitors = monitors_in_shards(2);
  const int shard = shard_of(monitors[0]);
  const auto fra_epoch = fra.probe("fra", shard);
  const auto nyc_epoch = nyc.probe("nyc", shard);
  ASSERT_TRUE(fra_epoch && nyc_epoch);
  EXPECT_EQ(fra.report_locations("fra", {report_of(monitors[0], "fra", "down", 5000, *fra_epoch)}),
            std::vector<std::string>{monitors[0]});
  EXPECT_EQ(nyc.report_locations("nyc", {report_of(monitors[0], "nyc", "up", 5000, *nyc_epoch)}),
            std::vector<std::string>{monitors[0]});
  // Not held: nyc-1 has no probe lease in fra, nor for the second monitor's shard.
  EXPECT_TRUE(nyc.report_locations("fra", {report_of(monitors[0], "fra", "up", 9000, 1)}).empty());
  EXPECT_TRUE(
      fra.report_locations("fra", {report_of(monitors[1], "fra", "up", 9000, *fra_epoch)}).empty());
  // An older run changes nothing.
  EXPECT_TRUE(
      fra.report_locations("fra", {report_of(monitors[0], "fra", "up", 4000, *fra_epoch)}).empty());

  const auto heard = fra.heard({shard, shard_of(monitors[1])}, Duration{60'000});
  ASSERT_EQ(heard.size(), 2u);
  EXPECT_EQ(heard[0].state, (LocationStateRow{monitors[0], "fra", "down", 1000, 5000, std::nullopt,
                                              "timeout at fra"}));
  EXPECT_EQ(heard[0].recent, "dd");
  EXPECT_EQ(heard[1].state.location, "nyc");
  EXPECT_EQ(heard[1].state.state, "up");
  EXPECT_GE(heard[0].age_ms, 0);
  EXPECT_LT(heard[0].age_ms, 10'000);
  EXPECT_EQ(pg().sql("SELECT string_agg(reported_by, ',' ORDER BY location) FROM location_states"),
            "fra-1,nyc-1");

  // fra-2 takes fra's probe lease over: fra-1's late report is not written; fra-2's is, though
  // fra-2's clock is behind and its run looks older than fra-1's: a newer epoch wins.
  Decider& fra2 = node("fra-2");
  pg().sql(
      "UPDATE leases SET expires_at = clock_timestamp() - interval '1 millisecond' WHERE "
      "name = '" +
      LeaseSpace::probing("fra").lease(shard) + "'");
  const auto taken = fra2.probe("fra", shard);
  ASSERT_TRUE(taken);
  EXPECT_TRUE(
      fra.report_locations("fra", {report_of(monitors[0], "fra", "up", 7000, *fra_epoch)}).empty());
  EXPECT_EQ(fra2.report_locations("fra", {report_of(monitors[0], "fra", "up", 3000, *taken)}),
            std::vector<std::string>{monitors[0]});
  EXPECT_EQ(fra.heard({shard}, Duration{60'000})[0].state.state, "up");
  // The decider's read of the locations' states gives the probing nodes' reports.
  EXPECT_EQ(fra.locations({shard})[0],
            (LocationStateRow{monitors[0], "fra", "up", 1000, 3000, std::nullopt, ""}));
  // A row no probing node wrote is never fresh.
  pg().sql(
      fmt::format("INSERT INTO location_states (monitor, location, state, since, shard) "
                  "VALUES ('{}', 'sgp', 'down', clock_timestamp(), {})",
                  monitors[0], shard));
  EXPECT_EQ(fra.heard({shard}, Duration{60'000}).size(), 2u);
  // Only reports written within the window are read.
  pg().sql(
      "UPDATE location_states SET reported_at = clock_timestamp() - interval '2 minutes' "
      "WHERE location = 'nyc'");
  const auto recent = fra.heard({shard}, Duration{60'000});
  ASSERT_EQ(recent.size(), 1u);
  EXPECT_EQ(recent[0].state.location, "fra");
}

// Outbox rows of `count` notifications in `monitor`'s shard, due `due_in_ms` from the server's
// clock (negative: overdue), written as the incidents' statements write them.
void add_rows(const PostgresServer& pg, const std::string& monitor, const std::string& prefix,
              int count, int64_t due_in_ms = -1000) {
  pg.sql(fmt::format(
      "INSERT INTO outbox (id, incident_id, event, channel, created, due, shard) SELECT '{}' || "
      "n, 0, 'incident.opened', 'ops-webhook', clock_timestamp(), clock_timestamp() + {} * "
      "interval '1 millisecond', {} FROM generate_series(1, {}) AS n",
      prefix, due_in_ms, shard_of(monitor), count));
}

std::set<std::string> ids_of(const std::vector<ClaimedOutbox>& rows) {
  std::set<std::string> out;
  for (const auto& r : rows) out.insert(r.pending.row.id);
  return out;
}

// Each node claims the due rows of the shards it holds, and only those; a claimed row is not
// claimed again while its claim runs; a row not yet due waits; a lease with less life left than
// the claim would take gives nothing.
TEST_F(PgDecisionsInPostgres, ClaimingGivesEachDueRowToTheHolderOfItsShard) {
  Decider& a = node("fra-1");
  Decider& b = node("nyc-1");
  const auto monitors = monitors_in_shards(3);
  ASSERT_TRUE(a.take(shard_of(monitors[0])));
  ASSERT_TRUE(b.take(shard_of(monitors[1])));
  add_rows(pg(), monitors[0], "evt_a", 3);
  add_rows(pg(), monitors[1], "evt_b", 2);
  add_rows(pg(), monitors[2], "evt_nobody", 2);
  add_rows(pg(), monitors[0], "evt_later", 1, 60'000);

  const auto got_a = a.claim(Duration{10'000});
  EXPECT_EQ(ids_of(got_a), (std::set<std::string>{"evt_a1", "evt_a2", "evt_a3"}));
  for (const auto& r : got_a) {
    EXPECT_EQ(r.shard, shard_of(monitors[0]));
    EXPECT_EQ(r.claim_epoch, 1);
    EXPECT_GT(r.lease_remaining_ms, 50'000);
    EXPECT_LE(r.lease_remaining_ms, kDecisionLease.count());
    EXPECT_EQ(r.pending.attempts, 0);
  }
  EXPECT_EQ(ids_of(b.claim(Duration{10'000}, 1)).size(), 1u);
  EXPECT_EQ(ids_of(b.claim(Duration{10'000})).size(), 1u);
  EXPECT_TRUE(a.claim(Duration{10'000}).empty());
  EXPECT_TRUE(b.claim(Duration{10'000}).empty());
  EXPECT_EQ(
      pg().sql("SELECT string_agg(claimed_by || ' ' || count, ',' ORDER BY claimed_by) FROM "
               "(SELECT claimed_by, count(*) FROM outbox WHERE status = 'sending' AND "
               "claim_until > clock_timestamp() + interval '5 seconds' GROUP BY claimed_by) c"),
      "fra-1 3,nyc-1 2");
  EXPECT_EQ(count_of(pg(), "outbox WHERE status = 'pending'"), "3");

  // A claim that would outlive the lease is not made.
  pg().sql(
      "UPDATE outbox SET status = 'pending', claimed_by = NULL, claim_epoch = NULL, "
      "claim_until = NULL WHERE id LIKE 'evt_a%'");
  pg().sql(
      "UPDATE leases SET expires_at = clock_timestamp() + interval '5 seconds' WHERE holder = "
      "'fra-1'");
  EXPECT_TRUE(a.claim(Duration{10'000}).empty());
  EXPECT_EQ(ids_of(a.claim(Duration{2000})).size(), 3u);
}

// fra-1 claims a row and dies while sending it. Once its lease has run out nyc-1 takes the shard
// over, and claims the row again, with the same id, since fra-1's claim ended before its lease
// did. fra-1's late report is refused; nyc-1's is written. One row, one id.
TEST_F(PgDecisionsInPostgres, ARowLeftSendingIsClaimedAgainWithTheSameIdAfterATakeover) {
  Decider& a = node("fra-1", Duration{2000});
  Decider& b = node("nyc-1");
  const std::string monitor = monitors_in_shards(1)[0];
  const int shard = shard_of(monitor);
  const auto fence = a.take(shard);
  ASSERT_TRUE(fence);
  const auto ids = a.reserve(1);
  const IncidentRecord incident = incident_of(monitor, ids[0]);
  ASSERT_TRUE(a.open(*fence, incident, {event_of(incident, "incident.opened", {"evt_1"})}).opened);
  const auto sending = a.claim(Duration{400});
  ASSERT_EQ(ids_of(sending), std::set<std::string>{"evt_1"});

  // While fra-1's lease holds, nyc-1 gets neither the lease nor the row.
  EXPECT_FALSE(b.take(shard));
  std::optional<LeaseFence> taken;
  ASSERT_TRUE(wait_until(
      [&] {
        taken = b.take(shard);
        return taken.has_value();
      },
      10s, 20ms));
  EXPECT_EQ(taken->epoch, 2);
  const auto again = b.claim(Duration{10'000});
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].pending.row.id, "evt_1");
  EXPECT_EQ(again[0].pending.row.payload, sending[0].pending.row.payload);
  EXPECT_EQ(again[0].claim_epoch, 2);

  const int64_t now_ms = to_unix_ms(std::chrono::system_clock::now());
  EXPECT_FALSE(a.report(sending[0], {"evt_1", "sent", 1, 0, "", now_ms}, now_ms));
  EXPECT_EQ(pg().sql("SELECT status || ' ' || claimed_by || ' ' || claim_epoch FROM outbox"),
            "sending nyc-1 2");
  EXPECT_TRUE(b.report(again[0], {"evt_1", "sent", 1, 0, "", now_ms}, now_ms));
  EXPECT_EQ(
      pg().sql("SELECT id || ' ' || status || ' ' || attempts || ' ' || (sent_at IS NOT NULL) "
               "|| ' ' || claimed_by FROM outbox"),
      "evt_1 sent 1 true nyc-1");
  EXPECT_TRUE(b.claim(Duration{10'000}).empty());
}

// A failed attempt puts the row back with a due time by the server's clock: it is not claimed
// before then, and is claimed again after it with its attempts and error kept. A row that failed
// for good or was given up on is never claimed again.
TEST_F(PgDecisionsInPostgres, AFailedDeliverysRetryDueIsRespected) {
  Decider& a = node("fra-1");
  const std::string monitor = monitors_in_shards(1)[0];
  ASSERT_TRUE(a.take(shard_of(monitor)));
  add_rows(pg(), monitor, "evt_", 3);
  const auto claimed = a.claim(Duration{10'000});
  ASSERT_EQ(claimed.size(), 3u);

  // The node's clock is an hour off: only the delay counts.
  const int64_t node_now_ms = 3'600'000;
  const auto reported_at = std::chrono::steady_clock::now();
  ASSERT_TRUE(a.report(claimed[0],
                       {claimed[0].pending.row.id, "pending", 1, node_now_ms + 700,
                        "expected status 2xx, got 503", std::nullopt},
                       node_now_ms));
  ASSERT_TRUE(a.report(claimed[1], {claimed[1].pending.row.id, "failed", 1, 0, "401", std::nullopt},
                       node_now_ms));
  ASSERT_TRUE(a.report(claimed[2],
                       {claimed[2].pending.row.id, "gave_up", 9, 0, "timeout", std::nullopt},
                       node_now_ms));
  EXPECT_TRUE(a.claim(Duration{10'000}).empty());
  std::vector<ClaimedOutbox> retried;
  ASSERT_TRUE(wait_until(
      [&] {
        retried = a.claim(Duration{10'000});
        return !retried.empty();
      },
      10s, 20ms));
  EXPECT_GE(std::chrono::steady_clock::now() - reported_at, 700ms);
  ASSERT_EQ(retried.size(), 1u);
  EXPECT_EQ(retried[0].pending.row.id, claimed[0].pending.row.id);
  EXPECT_EQ(retried[0].pending.attempts, 1);
  EXPECT_EQ(pg().sql("SELECT string_agg(status || ' ' || coalesce(last_error, '-'), ',' ORDER BY "
                     "status) FROM outbox"),
            "failed 401,gave_up timeout,sending expected status 2xx, got 503");
  // The claim's epoch is named: a report under another is refused.
  ClaimedOutbox wrong = retried[0];
  wrong.claim_epoch = 7;
  EXPECT_FALSE(a.report(wrong, {wrong.pending.row.id, "sent", 2, 0, "", 1}, 1));
}

// Four connections of one node claim 300 due rows at once, seven at a time, until none is left:
// a trigger logs every claim, and each row was claimed once.
TEST_F(PgDecisionsInPostgres, ConcurrentClaimersNeverClaimOneRowTwice) {
  const std::string monitor = monitors_in_shards(1)[0];
  pg().sql(R"sql(CREATE TABLE claim_log (id text, claimed_by text, claim_epoch bigint);
CREATE FUNCTION log_claim() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO claim_log VALUES (NEW.id, NEW.claimed_by, NEW.claim_epoch);
  RETURN NEW;
END $$;
CREATE TRIGGER log_claim AFTER UPDATE ON outbox FOR EACH ROW
  WHEN (NEW.status = 'sending') EXECUTE FUNCTION log_claim();)sql");
  add_rows(pg(), monitor, "evt_", 300);
  std::vector<Decider*> claimers;
  for (int i = 0; i < 4; ++i) {
    claimers.push_back(&node("fra-1"));
  }
  ASSERT_TRUE(claimers[0]->take(shard_of(monitor)));
  for (size_t i = 1; i < claimers.size(); ++i) claimers[i]->held = claimers[0]->held;

  std::vector<std::string> got;
  int running = 0;
  std::function<void(Decider&)> next = [&](Decider& d) {
    std::vector<std::pair<int, int64_t>> shards{{shard_of(monitor), d.held.at(0).epoch}};
    const PgStatement s = PgDecisions::claim(d.name(), shards, Duration{30'000}, 7);
    ++running;
    d.conn.query(s.sql, s.params, [&got, &running, &next, &d](PgResult r) {
      --running;
      const auto rows = PgDecisions::claimed(r);
      if (!rows) {
        ADD_FAILURE() << r.error;
        return;
      }
      for (const auto& row : *rows) got.push_back(row.pending.row.id);
      if (!rows->empty()) next(d);
    });
  };
  for (auto& c : claimers) next(*c);
  ASSERT_TRUE(turn_until(
      loop, [&] { return running == 0; }, 30s));
  EXPECT_EQ(got.size(), 300u);
  EXPECT_EQ(std::set<std::string>(got.begin(), got.end()).size(), 300u);
  EXPECT_EQ(pg().sql("SELECT count(*) || ' ' || count(DISTINCT id) FROM claim_log"), "300 300");
  EXPECT_EQ(count_of(pg(), "outbox WHERE status <> 'sending'"), "0");
}

}  // namespace
}  // namespace lookout::testing
