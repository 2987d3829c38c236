// A silent location's meta-incident against a real PostgreSQL: the holder of the location's
// shard opens it once the location has sent nothing for its bound since it began to watch,
// with its notification in the outbox of that shard; a node that takes the lease over carries
// it on (never a second, never resolved for the time it has watched); the node whose lease was
// taken writes nothing; the new holder resolves it once the location reports again.
#include "alerting/silent_watch.h"

#include <gtest/gtest.h>

#include "alerting/location_incidents.h"
#include "store/lease_plan.h"
#include "tests/integration/cluster/cluster_helpers.h"
#include "tests/integration/harness.h"

namespace lookout::testing {
namespace {

// One monitor every second from every location under 2 s leases: a location's bound is 5 s.
std::shared_ptr<const Config> silent_watch_config(const PostgresServer& pg) {
  return std::make_shared<const Config>(config_from(fmt::format(
      "[cluster]\ndsn = \"{}\"\nnode = \"fra-1\"\nlocation = \"fra\"\nlease = \"2s\"\n"
      "[server]\npublic_url = \"http://127.0.0.1:9\"\n"
      "[[channel]]\nname = \"ops-webhook\"\ntype = \"webhook\"\nurl = \"http://127.0.0.1:9/\"\n"
      "[[route]]\nname = \"watchers\"\nmatch = {{ type = \"location\" }}\n"
      "notify = [\"ops-webhook\"]\n"
      "[[route]]\nname = \"web\"\nmatch = {{ type = \"http\" }}\nnotify = [\"ops-webhook\"]\n"
      "[[monitor]]\nname = \"home\"\ntype = \"http\"\nurl = \"http://127.0.0.1:9/\"\n"
      "interval = \"1s\"\ntimeout = \"1s\"\n",
      pg.dsn())));
}

// A node holding (or believing it holds) the eval lease of sgp's shard, its watch fenced by it.
struct WatchingNode {
  WatchingNode(EventLoop& loop, const PostgresServer& pg, const std::string& name)
      : leases(loop, pg, name, Duration{2000}),
        watch(
            leases.conn, clock, silent_watch_config(pg), [this] { return leases.deciding(shard); },
            [this](int s) { return leases.decision_fence(shard, s); }, [this] { ++notified; }) {}

  std::vector<LeaseRow> take() { return leases.acquire({LeaseSpace::evaluation().lease(shard)}); }

  SystemClock clock;
  int shard = location_incident_shard("sgp");
  LeaseNode leases;
  int notified = 0;
  SilentLocationWatch watch;
};

// What the status reader would hand on: fra heard now, sgp last heard at `sgp`.
ClusterStatus silent_watch_status(WallTime sgp) {
  ClusterStatus s;
  s.ok = true;
  s.heard = {{"fra", std::chrono::system_clock::now()}, {"sgp", sgp}};
  return s;
}

int64_t silent_watch_count(const PostgresServer& pg, const std::string& query) {
  return std::stoll(pg.sql(query));
}

// Observes `status` every 100 ms, as the status reader's reads would come, until `done`; with
// `renew`, the node renews its lease meanwhile, as its keeper would.
bool silent_watch_observe(EventLoop& loop, WatchingNode& node, const ClusterStatus& status,
                          const std::function<bool()>& done, std::chrono::milliseconds timeout,
                          bool renew = false) {
  auto last = std::chrono::steady_clock::now() - std::chrono::seconds(1);
  int turns = 0;
  return turn_until(
      loop,
      [&] {
        if (std::chrono::steady_clock::now() - last >= std::chrono::milliseconds(100)) {
          last = std::chrono::steady_clock::now();
          node.watch.observe(status);
          if (renew && ++turns % 4 == 0) {
            node.leases.send_acquire({LeaseSpace::evaluation().lease(node.shard)},
                                     [](const std::vector<LeaseRow>&) {});
          }
        }
        return done();
      },
      timeout);
}

TEST(SilentLocationWatch, OpensOnceIsCarriedOnByTheNextHolderAndResolvesOnAReport) {
  LOOKOUT_NEED_POSTGRES();
  PostgresServer pg;
  EventLoop loop;
  WatchingNode a(loop, pg, "fra-1");
  WatchingNode b(loop, pg, "nyc-1");
  require_schema(loop, a.leases.conn);
  ASSERT_EQ(a.take().size(), 1U);
  const auto quiet_since = std::chrono::system_clock::now() - std::chrono::seconds(60);
  const ClusterStatus silent = silent_watch_status(quiet_since);

  // Not before a whole bound of watching, though sgp was quiet long before.
  const auto watching = std::chrono::steady_clock::now();
  ASSERT_TRUE(silent_watch_observe(
      loop, a, silent,
      [&] { return silent_watch_count(pg, "SELECT count(*) FROM incidents") == 1; }, 10s, true));
  EXPECT_GE(std::chrono::steady_clock::now() - watching, 5s);
  EXPECT_EQ(pg.sql("SELECT monitor || '|' || type || '|' || state || '|' || shard FROM incidents"),
            fmt::format("location sgp|location|down|{}", location_incident_shard("sgp")));
  EXPECT_EQ(pg.sql("SELECT substr(cause, 1, 34) FROM incidents"),
            "location sgp has sent no results f");
  EXPECT_EQ(pg.sql("SELECT event || ' ' || route || ' ' || shard FROM outbox"),
            fmt::format("incident.opened watchers {}", location_incident_shard("sgp")));
  EXPECT_EQ(a.notified, 1);
  EXPECT_EQ(a.watch.open().count("sgp"), 1U);
  EXPECT_EQ(a.watch.open().count("fra"), 0U) << "fra's shard is not held: not watched here";

  // a's lease runs out unrenewed; b takes the shard under a new epoch and, still without news
  // from sgp, carries the meta-incident on for longer than a bound.
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (b.take().empty() && std::chrono::steady_clock::now() < deadline) {
    turn_until(
        loop, [] { return false; }, 200ms);
  }
  ASSERT_EQ(b.leases.held.size(), 1U);
  ASSERT_TRUE(silent_watch_observe(
      loop, b, silent, [&] { return b.watch.open().count("sgp") == 1; }, 5s, true));
  silent_watch_observe(
      loop, b, silent, [] { return false; }, 5500ms, true);
  EXPECT_EQ(silent_watch_count(pg, "SELECT count(*) FROM incidents"), 1);
  EXPECT_EQ(silent_watch_count(pg, "SELECT count(*) FROM incidents WHERE resolved_at IS NULL"), 1);
  EXPECT_EQ(silent_watch_count(pg, "SELECT count(*) FROM outbox"), 1);

  // sgp reports again. a still believes it holds the lease: its resolution is fenced out.
  const ClusterStatus back = silent_watch_status(std::chrono::system_clock::now());
  silent_watch_observe(
      loop, a, back, [] { return false; }, 1s);
  EXPECT_EQ(silent_watch_count(pg, "SELECT count(*) FROM incidents WHERE resolved_at IS NULL"), 1);
  EXPECT_EQ(silent_watch_count(pg,
                               "SELECT count(*) FROM incident_events WHERE node = 'fra-1' "
                               "AND event = 'incident.resolved'"),
            0);
  ASSERT_TRUE(silent_watch_observe(
      loop, b, back,
      [&] {
        return silent_watch_count(
                   pg, "SELECT count(*) FROM incidents WHERE resolved_at IS NOT NULL") == 1;
      },
      5s, true));
  EXPECT_EQ(pg.sql("SELECT string_agg(event || '@' || node, ',' ORDER BY id) FROM incident_events"),
            "incident.opened@fra-1,incident.resolved@nyc-1");
  EXPECT_EQ(pg.sql("SELECT string_agg(event, ',' ORDER BY created) FROM outbox"),
            "incident.opened,incident.resolved");
  EXPECT_TRUE(b.watch.open().empty());
  // Heard from, nothing more opens.
  silent_watch_observe(
      loop, b, back, [] { return false; }, 500ms, true);
  EXPECT_EQ(silent_watch_count(pg, "SELECT count(*) FROM incidents"), 1);
}

}  // namespace
}  // namespace lookout::testing
