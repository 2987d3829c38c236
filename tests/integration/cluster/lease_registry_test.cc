// Leases against a real PostgreSQL: two nodes that contend for the same shards end with
// disjoint shares as their plans say; a node that stops renewing loses its leases once they ran
// out by the server's clock and the other takes them with the next epoch; a fenced decision
// under a lost lease writes nothing while the new holder's does, and a decision in flight holds
// a takeover off until it committed; a release hands over at once; a node restarted under the
// same name waits for its predecessor's leases; and many concurrent statements never give a
// lease two holders (checked on a log of every change of the table).
#include "store/lease_registry.h"

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <random>
#include <set>

#include "store/lease_plan.h"
#include "store/pg_schema.h"
#include "tests/integration/cluster/cluster_helpers.h"
#include "tests/integration/harness.h"

namespace lookout::testing {
namespace {

const Duration kLongLease{60'000};

// The schema in place, and a table that decisions write to.
void prepare(EventLoop& loop, const PostgresServer& pg) {
  require_schema(loop, pg);
  pg.sql(
      "CREATE TABLE decisions (monitor text, node text, epoch bigint, at timestamptz NOT NULL "
      "DEFAULT clock_timestamp())");
}

std::vector<std::string> names_of(const std::vector<LeaseRow>& rows) {
  std::vector<std::string> out;
  for (const auto& r : rows) out.push_back(r.name);
  return out;
}

std::vector<std::string> eval_leases(int from, int to) {
  std::vector<std::string> out;
  for (int shard = from; shard < to; ++shard) out.push_back(LeaseSpace::evaluation().lease(shard));
  return out;
}

// A node that records its decisions in the test's table, each under a fence.
struct FencedNode : LeaseNode {
  using LeaseNode::LeaseNode;

  // Records that this node decided about `monitor`, under `fence`.
  static PgStatement decision(const LeaseFence& fence, const std::string& monitor) {
    return LeaseRegistry::fenced(
        fence, {"INSERT INTO decisions (monitor, node, epoch) SELECT $1, $2, epoch FROM fence "
                "RETURNING 1",
                {monitor, fence.holder}});
  }
  FenceOutcome decide(const LeaseFence& fence, const std::string& monitor) {
    const PgResult r = answer_to(loop, conn, decision(fence, monitor));
    const auto outcome = LeaseRegistry::fence_outcome(r);
    if (!outcome) throw std::runtime_error("the fenced decision failed: " + r.error);
    return *outcome;
  }
};

TEST(Leases, TwoNodesContendingForTheSameShardsEndWithDisjointShares) {
  LOOKOUT_NEED_POSTGRES();
  PostgresServer pg;
  EventLoop loop;
  prepare(loop, pg);
  const LeaseSpace fra = LeaseSpace::probing("fra");
  std::vector<std::string> every;
  for (int shard = 0; shard < kLeaseShards; ++shard) every.push_back(fra.lease(shard));
  FencedNode a(loop, pg, "fra-1", kLongLease);
  FencedNode b(loop, pg, "fra-2", kLongLease);

  // Both ask for every shard at once: each lease goes to one of them.
  std::optional<std::vector<LeaseRow>> got_a, got_b;
  a.send_acquire(every, [&](auto rows) { got_a = std::move(rows); });
  b.send_acquire(every, [&](auto rows) { got_b = std::move(rows); });
  ASSERT_TRUE(turn_until(
      loop, [&] { return got_a && got_b; }, 20s));
  std::set<std::string> seen;
  for (const auto* rows : {&*got_a, &*got_b}) {
    for (const auto& r : *rows) {
      EXPECT_TRUE(seen.insert(r.name).second) << r.name << " went to both";
      EXPECT_EQ(r.epoch, 1);
      EXPECT_GT(r.remaining_ms, kLongLease.count() - 5000);
      EXPECT_LE(r.remaining_ms, kLongLease.count());
    }
  }
  EXPECT_EQ(seen.size(), every.size());

  // Then each follows its plan: it hands over what is in the other's share and takes its own.
  const std::vector<std::string> live{"fra-1", "fra-2"};
  for (int round = 0; round < 2; ++round) {
    for (FencedNode* n : {&a, &b}) {
      const LeasePlan plan = plan_leases(fra, n->registry.node(), live, names_of(n->held));
      std::vector<LeaseRow> handed;
      for (const auto& h : n->held) {
        if (std::find(plan.release.begin(), plan.release.end(), h.name) != plan.release.end()) {
          handed.push_back(h);
        }
      }
      EXPECT_EQ(n->release(handed).size(), handed.size());
      n->acquire(plan.acquire);
    }
  }
  const auto owners = fra.deal(live);
  const auto now = holders(pg, "probe/fra/%");
  ASSERT_EQ(now.size(), every.size());
  for (int shard = 0; shard < kLeaseShards; ++shard) {
    EXPECT_EQ(now.at(fra.lease(shard)), owners[static_cast<size_t>(shard)]) << shard;
  }
  // What the database says each holds is what each believes it holds.
  EXPECT_EQ(a.held.size() + b.held.size(), every.size());
  for (const FencedNode* n : {&a, &b}) {
    for (const auto& h : n->held) EXPECT_EQ(now.at(h.name), n->registry.node()) << h.name;
  }
  // A lease that changed hands is in its second tenure; one that stayed, in its first.
  EXPECT_EQ(pg.sql("SELECT count(*) FROM leases WHERE epoch NOT IN (1, 2)"), "0");
}

TEST(Leases, ANodeThatStopsRenewingLosesItsLeasesOnceTheyRunOut) {
  LOOKOUT_NEED_POSTGRES();
  PostgresServer pg;
  EventLoop loop;
  prepare(loop, pg);
  const Duration lease{1000};
  FencedNode a(loop, pg, "fra-1", lease);
  FencedNode b(loop, pg, "fra-2", lease);
  const auto shards = eval_leases(0, 4);

  const auto sent_a = std::chrono::steady_clock::now();
  ASSERT_EQ(a.acquire(shards).size(), 4u);
  for (const auto& h : a.held) EXPECT_EQ(h.epoch, 1);
  // An unexpired lease is never taken.
  EXPECT_TRUE(b.acquire(shards).empty());

  // fra-1 renews no more; fra-2 asks again and again until it has them.
  bool asking = false;
  ASSERT_TRUE(turn_until(
      loop,
      [&] {
        if (!asking && b.held.size() < 4) {
          asking = true;
          b.send_acquire(shards, [&](auto) { asking = false; });
        }
        return b.held.size() == 4;
      },
      10s));
  const auto taken = std::chrono::steady_clock::now();
  // Not before the server's clock had them run out: they ran out a lease after fra-1's
  // statement, which came after fra-1 sent it.
  EXPECT_GE(taken - sent_a, lease);
  for (const auto& h : b.held) EXPECT_EQ(h.epoch, 2) << h.name;
  EXPECT_EQ(pg.sql("SELECT string_agg(DISTINCT holder, ',') FROM leases"), "fra-2");

  // fra-1 wakes up: its renewal under epoch 1 gets nothing, and its decision under it writes
  // nothing, while fra-2's under epoch 2 is written.
  EXPECT_TRUE(a.acquire(shards).empty());
  EXPECT_TRUE(a.held.empty());
  const FenceOutcome old_holder = a.decide({"eval/0", "fra-1", 1}, "portal-home");
  EXPECT_FALSE(old_holder.held);
  EXPECT_EQ(old_holder.written, 0);
  const FenceOutcome new_holder = b.decide({"eval/0", "fra-2", 2}, "portal-home");
  EXPECT_TRUE(new_holder.held);
  EXPECT_EQ(new_holder.written, 1);
  EXPECT_EQ(pg.sql("SELECT monitor || ' ' || node || ' ' || epoch FROM decisions"),
            "portal-home fra-2 2");
}

// Every other way to write under a lease that is not one's own is refused too: the wrong epoch,
// the wrong holder, and a lease that ran out while nobody took it.
TEST(Leases, AFencedDecisionWritesOnlyUnderTheLeaseItNames) {
  LOOKOUT_NEED_POSTGRES();
  PostgresServer pg;
  EventLoop loop;
  prepare(loop, pg);
  FencedNode a(loop, pg, "fra-1", kLongLease);
  ASSERT_EQ(a.acquire({"eval/3"}).size(), 1u);
  EXPECT_EQ(a.decide({"eval/3", "fra-1", 1}, "m1").written, 1);
  EXPECT_FALSE(a.decide({"eval/3", "fra-1", 2}, "m2").held);
  EXPECT_FALSE(a.decide({"eval/3", "fra-2", 1}, "m3").held);
  EXPECT_FALSE(a.decide({"eval/4", "fra-1", 1}, "m4").held);
  pg.sql("UPDATE leases SET expires_at = clock_timestamp() - interval '1 millisecond'");
  EXPECT_FALSE(a.decide({"eval/3", "fra-1", 1}, "m5").held);
  EXPECT_EQ(pg.sql("SELECT string_agg(monitor, ',') FROM decisions"), "m1");

  // A decision that finds nothing to write still says whether the lease held.
  pg.sql("UPDATE leases SET expires_at = clock_timestamp() + interval '1 minute'");
  const PgStatement nothing = LeaseRegistry::fenced(
      {"eval/3", "fra-1", 1},
      {"DELETE FROM decisions WHERE monitor = $1 AND EXISTS (SELECT FROM fence) RETURNING 1",
       {"none"}});
  const auto outcome = LeaseRegistry::fence_outcome(answer_to(loop, a.conn, nothing));
  ASSERT_TRUE(outcome);
  EXPECT_TRUE(outcome->held);
  EXPECT_EQ(outcome->written, 0);
}

// The fence locks the lease's row FOR SHARE: a lease that runs out while a decision under it is
// being written cannot be taken until that decision has committed, so the decision and the new
// holder's work never overlap.
TEST(Leases, ADecisionInFlightHoldsATakeoverOff) {
  LOOKOUT_NEED_POSTGRES();
  PostgresServer pg;
  EventLoop loop;
  prepare(loop, pg);
  FencedNode a(loop, pg, "fra-1", Duration{300});
  FencedNode b(loop, pg, "fra-2", kLongLease);
  ASSERT_EQ(a.acquire({"eval/9"}).size(), 1u);
  // When a lease changes hands, by the server's clock once the change has its row lock (the
  // expires_at it sets was computed before it waited).
  pg.sql(R"sql(CREATE TABLE takeovers (at timestamptz NOT NULL DEFAULT clock_timestamp());
CREATE FUNCTION log_takeover() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO takeovers DEFAULT VALUES;
  RETURN NEW;
END $$;
CREATE TRIGGER log_takeover AFTER UPDATE ON leases FOR EACH ROW
  WHEN (NEW.holder IS DISTINCT FROM OLD.holder) EXECUTE FUNCTION log_takeover();)sql");

  // The decision reads its fence first and then takes a second.
  const PgStatement slow = LeaseRegistry::fenced(
      {"eval/9", "fra-1", 1},
      {"INSERT INTO decisions (monitor, node, epoch) SELECT $1, $2, f.epoch FROM fence f "
       "CROSS JOIN LATERAL (SELECT pg_sleep(1 + 0 * f.epoch)) AS pause RETURNING 1",
       {"slow", "fra-1"}});
  std::optional<PgResult> decided;
  a.conn.query(slow.sql, slow.params, [&](PgResult r) { decided = std::move(r); });
  // The lease runs out 300 ms after it was taken; fra-2 asks for it after 500 ms.
  Timer later(loop);
  std::optional<std::vector<LeaseRow>> took;
  std::chrono::steady_clock::time_point asked;
  later.start(Duration{500}, [&] {
    asked = std::chrono::steady_clock::now();
    b.send_acquire({"eval/9"}, [&](auto rows) { took = std::move(rows); });
  });
  ASSERT_TRUE(turn_until(
      loop, [&] { return decided && took; }, 10s));
  // The takeover changed the lease after the decision wrote its row, by the server's clock (the
  // two answers may reach the loop in one turn, so the order of their callbacks says nothing).
  EXPECT_EQ(pg.sql("SELECT count(*) || ' ' || bool_and((SELECT at FROM decisions WHERE monitor = "
                   "'slow') < at) FROM takeovers"),
            "1 true");
  const auto outcome = LeaseRegistry::fence_outcome(*decided);
  ASSERT_TRUE(outcome) << decided->error;
  EXPECT_TRUE(outcome->held);
  EXPECT_EQ(outcome->written, 1);
  ASSERT_EQ(took->size(), 1u);
  EXPECT_EQ(took->at(0).epoch, 2);
  EXPECT_GE(std::chrono::steady_clock::now() - asked, 200ms) << "the takeover did not wait";
  // The old holder's next decision is refused.
  EXPECT_FALSE(a.decide({"eval/9", "fra-1", 1}, "late").held);
  EXPECT_EQ(pg.sql("SELECT string_agg(monitor || ' ' || epoch, ',') FROM decisions"), "slow 1");
}

TEST(Leases, AReleaseHandsOverAtOnceAndKeepsTheEpoch) {
  LOOKOUT_NEED_POSTGRES();
  PostgresServer pg;
  EventLoop loop;
  prepare(loop, pg);
  FencedNode a(loop, pg, "fra-1", kLongLease);
  FencedNode b(loop, pg, "fra-2", kLongLease);
  ASSERT_EQ(a.acquire(eval_leases(1, 4)).size(), 3u);
  const std::vector<LeaseRow> all = a.held;

  // A release names the epoch: a stale one releases nothing.
  EXPECT_TRUE(a.release({{"eval/3", "fra-1", 7, 0}}).empty());
  EXPECT_EQ(a.release({a.lease("eval/1"), a.lease("eval/2")}),
            (std::vector<std::string>{"eval/1", "eval/2"}));
  EXPECT_EQ(pg.sql("SELECT string_agg(name || ' ' || coalesce(holder, '-') || ' ' || epoch || ' ' "
                   "|| (expires_at = '-infinity'), ',' ORDER BY name) FROM leases"),
            "eval/1 - 1 true,eval/2 - 1 true,eval/3 fra-1 1 false");
  const auto listed = LeaseRegistry::rows(answer_to(loop, b.conn, LeaseRegistry::list()));
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ(listed->at(0).name, "eval/3");

  const auto took = b.acquire(eval_leases(1, 4));
  EXPECT_EQ(names_of(took), (std::vector<std::string>{"eval/1", "eval/2"}));
  for (const auto& t : took) EXPECT_EQ(t.epoch, 2);
  // fra-1's stale view of what it held releases nothing of fra-2's.
  EXPECT_EQ(a.release(all), std::vector<std::string>{"eval/3"});
  EXPECT_EQ(holders(pg, "eval/%"),
            (std::map<std::string, std::string>{{"eval/1", "fra-2"}, {"eval/2", "fra-2"}}));
}

// A node's renewals keep the epoch and push expires_at a lease past the server's clock; one that
// comes just after the lease ran out keeps it too when nobody took it. A node that starts under
// the name of a dead node does not renew that node's leases: it takes them once they ran out,
// with the next epoch, and the dead node's decisions are refused from then on.
TEST(Leases, RenewalsKeepTheEpochAndARestartedNodeWaitsForItsPredecessors) {
  LOOKOUT_NEED_POSTGRES();
  PostgresServer pg;
  EventLoop loop;
  prepare(loop, pg);
  FencedNode a(loop, pg, "fra-1", Duration{10'000});
  ASSERT_EQ(a.acquire({"eval/5"}).size(), 1u);
  pg.sql("UPDATE leases SET expires_at = clock_timestamp() + interval '5 seconds'");
  auto listed = LeaseRegistry::rows(answer_to(loop, a.conn, LeaseRegistry::list()));
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ(listed->at(0).holder, "fra-1");
  EXPECT_GT(listed->at(0).remaining_ms, 4000);
  EXPECT_LE(listed->at(0).remaining_ms, 5000);

  auto renewed = a.acquire({"eval/5"});
  ASSERT_EQ(renewed.size(), 1u);
  EXPECT_EQ(renewed[0].epoch, 1);
  EXPECT_GT(renewed[0].remaining_ms, 9000);
  pg.sql("UPDATE leases SET expires_at = clock_timestamp() - interval '1 second'");
  renewed = a.acquire({"eval/5"});
  ASSERT_EQ(renewed.size(), 1u);
  EXPECT_EQ(renewed[0].epoch, 1);

  FencedNode restarted(loop, pg, "fra-1", Duration{10'000});
  EXPECT_TRUE(restarted.acquire({"eval/5"}).empty());
  pg.sql("UPDATE leases SET expires_at = clock_timestamp() - interval '1 millisecond'");
  const auto took = restarted.acquire({"eval/5"});
  ASSERT_EQ(took.size(), 1u);
  EXPECT_EQ(took[0].epoch, 2);
  EXPECT_TRUE(a.acquire({"eval/5"}).empty());
  EXPECT_FALSE(a.decide({"eval/5", "fra-1", 1}, "stale").held);
  EXPECT_TRUE(restarted.decide({"eval/5", "fra-1", 2}, "fresh").held);
}

// Eight nodes on leases of 150 ms, all at once for two seconds: each renews and takes random
// subsets of 40 leases, releases some of what it holds, and now and then pauses past its lease.
// A trigger logs every change of the table; the log shows no tenure with two holders, none that
// began before the previous one ended, and no epoch that skipped; no statement failed (no
// deadlock among them).
TEST(Leases, ConcurrentStatementsNeverGiveALeaseTwoHolders) {
  LOOKOUT_NEED_POSTGRES();
  PostgresServer pg;
  EventLoop loop;
  prepare(loop, pg);
  pg.sql(R"sql(
CREATE TABLE lease_log (name text, holder text, epoch bigint, expires_at timestamptz,
                        changed_at timestamptz NOT NULL);
CREATE FUNCTION log_lease() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO lease_log VALUES (NEW.name, NEW.holder, NEW.epoch, NEW.expires_at, clock_timestamp());
  RETURN NULL;
END $$;
CREATE TRIGGER log_lease AFTER INSERT OR UPDATE ON leases FOR EACH ROW EXECUTE FUNCTION log_lease();
)sql");

  const auto names = eval_leases(0, 40);
  std::vector<std::unique_ptr<LeaseNode>> nodes;
  std::vector<std::unique_ptr<Timer>> pauses;
  for (int i = 1; i <= 8; ++i) {
    nodes.push_back(
        std::make_unique<LeaseNode>(loop, pg, "node-" + std::to_string(i), Duration{150}));
    pauses.push_back(std::make_unique<Timer>(loop));
  }
  std::mt19937 random(20'261'201);
  const auto subset = [&] {
    std::vector<std::string> out;
    for (const auto& n : names) {
      if (random() % 4 == 0) out.push_back(n);
    }
    return out;
  };
  // Who each answer said holds a lease under an epoch.
  std::map<std::pair<std::string, int64_t>, std::set<std::string>> answered;
  int statements = 0;
  int in_flight = 0;
  const auto end = std::chrono::steady_clock::now() + 2s;
  std::function<void(size_t)> next = [&](size_t i) {
    LeaseNode& n = *nodes[i];
    if (std::chrono::steady_clock::now() > end) {
      --in_flight;
      return;
    }
    const auto dice = random() % 40;
    if (dice == 0) {
      pauses[i]->start(Duration{150 + static_cast<int64_t>(random() % 200)},
                       [&next, i] { next(i); });
      return;
    }
    ++statements;
    if (dice < 8 && !n.held.empty()) {
      const PgStatement s = n.registry.release({n.held.front()});
      n.held.erase(n.held.begin());
      n.conn.query(s.sql, s.params, [&next, i](PgResult r) {
        EXPECT_TRUE(r.ok()) << r.error;
        next(i);
      });
      return;
    }
    n.send_acquire(subset(), [&answered, &next, i](const std::vector<LeaseRow>& rows) {
      for (const auto& r : rows) answered[{r.name, r.epoch}].insert(r.holder);
      next(i);
    });
  };
  for (size_t i = 0; i < nodes.size(); ++i) {
    ++in_flight;
    next(i);
  }
  ASSERT_TRUE(turn_until(
      loop, [&] { return in_flight == 0; }, 20s));
  EXPECT_GT(statements, 100);
  for (const auto& [lease, who] : answered) {
    EXPECT_EQ(who.size(), 1u) << lease.first << " epoch " << lease.second;
  }

  EXPECT_EQ(pg.sql("SELECT count(*) FROM (SELECT name, epoch FROM lease_log WHERE holder IS NOT "
                   "NULL GROUP BY name, epoch HAVING count(DISTINCT holder) > 1) AS two"),
            "0");
  // Each change against the one before it, lease by lease (a lease's changes are serialised by
  // its row lock, so changed_at orders them).
  const std::string steps = R"sql(
WITH steps AS (
  SELECT name, holder, epoch, changed_at,
         lag(holder) OVER w AS was_holder, lag(epoch) OVER w AS was_epoch,
         lag(expires_at) OVER w AS was_expiring
  FROM lease_log WINDOW w AS (PARTITION BY name ORDER BY changed_at)
))sql";
  // A new tenure begins only after a release or once the previous one ran out.
  EXPECT_EQ(pg.sql(steps + "SELECT count(*) FROM steps WHERE epoch = was_epoch + 1 AND "
                           "was_holder IS NOT NULL AND was_expiring > changed_at"),
            "0");
  // The epoch stays or grows by one; it stays only for its holder or for a release.
  EXPECT_EQ(pg.sql(steps + "SELECT count(*) FROM steps WHERE was_epoch IS NOT NULL AND (epoch "
                           "NOT IN (was_epoch, was_epoch + 1) OR (epoch = was_epoch AND holder "
                           "IS NOT NULL AND was_holder IS NOT NULL AND holder <> was_holder))"),
            "0");
  // The run did hand leases over, by release and by running out.
  EXPECT_NE(pg.sql("SELECT count(*) FROM lease_log WHERE holder IS NULL"), "0");
  EXPECT_NE(pg.sql(steps + "SELECT count(*) FROM steps WHERE epoch = was_epoch + 1 AND "
                           "was_holder IS NOT NULL"),
            "0");
}

}  // namespace
}  // namespace lookout::testing
