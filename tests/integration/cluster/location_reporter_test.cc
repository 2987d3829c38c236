// A probing node's location reports against a real PostgreSQL: the newest report of each monitor
// goes in one statement a flush, under the probe lease the node holds; a report whose lease the
// node does not hold is dropped; through a server restart the newest report is the one written.
#include "store/location_reporter.h"

#include <gtest/gtest.h>

#include "store/lease_plan.h"
#include "tests/integration/cluster/cluster_helpers.h"
#include "tests/integration/harness.h"

namespace lookout::testing {
namespace {

LocationReportRow report(const std::string& monitor, const std::string& state,
                         int64_t last_check_ms) {
  return {{monitor, "fra", state, 1000, last_check_ms, 42'000, state == "up" ? "" : "timeout"},
          state == "up" ? "u" : "d",
          0,
          0};
}

// Monitors on shards of their own.
std::vector<std::string> three_monitors() {
  std::vector<std::string> out;
  std::set<int> shards;
  for (int i = 0; out.size() < 3; ++i) {
    std::string name = "site-" + std::to_string(i);
    if (shards.insert(shard_of(name)).second) out.push_back(std::move(name));
  }
  return out;
}

struct Reporting {
  explicit Reporting(const PostgresServer& pg)
      : node(loop, pg, "fra-1", Duration{60'000}),
        reporter(loop, node.conn, "fra-1", "fra", [this](int shard) -> std::optional<int64_t> {
          for (const auto& h : node.held) {
            if (LeaseSpace::probing("fra").shard(h.name) == shard) return h.epoch;
          }
          return std::nullopt;
        }) {
    require_schema(loop, node.conn);
  }
  EventLoop loop;
  LeaseNode node;
  LocationReporter reporter;
};

TEST(LocationReporter, TheNewestReportOfEachMonitorGoesUnderItsProbeLease) {
  LOOKOUT_NEED_POSTGRES();
  PostgresServer pg;
  Reporting r(pg);
  const auto m = three_monitors();
  // It probes the first two monitors; the third's lease is not its own.
  r.node.acquire({LeaseSpace::probing("fra").lease(shard_of(m[0])),
                  LeaseSpace::probing("fra").lease(shard_of(m[1]))});
  r.reporter.start();
  r.reporter.report(report(m[0], "up", 1000));
  r.reporter.report(report(m[0], "down", 2000));  // replaces the first before the flush
  r.reporter.report(report(m[1], "up", 2000));
  r.reporter.report(report(m[2], "up", 2000));
  ASSERT_TRUE(turn_until(
      r.loop, [&] { return r.reporter.written() == 2; }, 10s))
      << r.reporter.last_error();
  EXPECT_EQ(r.reporter.not_written(), 1u);
  EXPECT_EQ(pg.sql("SELECT string_agg(monitor || ' ' || state || ' ' || recent || ' ' || "
                   "reported_by, ',' ORDER BY monitor) FROM location_states"),
            fmt::format("{} down d fra-1,{} up u fra-1", m[0], m[1]));
  EXPECT_EQ(r.reporter.waiting(), 0u);
}

TEST(LocationReporter, ThroughARestartTheNewestReportIsTheOneWritten) {
  LOOKOUT_NEED_POSTGRES();
  PostgresServer pg;
  Reporting r(pg);
  const auto m = three_monitors();
  r.node.acquire({LeaseSpace::probing("fra").lease(shard_of(m[0]))});
  r.reporter.start();
  pg.stop();
  r.reporter.report(report(m[0], "down", 1000));
  ASSERT_TRUE(turn_until(
      r.loop, [&] { return !r.reporter.last_error().empty(); }, 10s));
  r.reporter.report(report(m[0], "up", 3000));
  pg.start();
  ASSERT_TRUE(turn_until(
      r.loop, [&] { return r.reporter.written() == 1; }, 20s))
      << r.reporter.last_error();
  EXPECT_EQ(pg.sql("SELECT state || ' ' || floor(extract(epoch FROM last_check) * 1000) FROM "
                   "location_states"),
            "up 3000");
  EXPECT_EQ(r.reporter.last_error(), "");
}

}  // namespace
}  // namespace lookout::testing
