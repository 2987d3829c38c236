// lookout-pg-rollup-load: what cluster mode's roller costs, and what it saves a 90-day series.
// Results of `--monitors` monitors every 30 s from `--locations` locations for `--minutes`
// minutes are made in SQL (and `--history-days` days of them for monitor-00000), then one
// PgRoller holding every eval shard rolls everything up: the CPU of this process and of the
// PostgreSQL server (the postmaster and every process under it, from /proc) per raw result
// rolled. monitor-00000's 90-day series by day is read through PgReadPool before the rollups
// (raw rows only) and after (day rows and the raw rows past the marks). bench/pg_rollup_bench.py
// starts a throwaway server for it.
//
//   lookout-pg-rollup-load --dsn DSN [--monitors 10000] [--locations 3] [--minutes 10]
//       [--history-days 3] [--server-pid PID]
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <iostream>

#include "bench/cpu_usage.h"
#include "core/event_loop.h"
#include "store/lease_plan.h"
#include "store/pg_reads.h"
#include "store/pg_results.h"
#include "store/pg_roller.h"
#include "store/pg_schema.h"

namespace {

using namespace lookout;
using namespace lookout::bench;
using SteadyClock = std::chrono::steady_clock;

constexpr int64_t kLoadDayMs = 86'400'000;

// Runs the statements `sql` on `pg`, then `then`; a failure ends the program.
void must(PgConnection& pg, const std::string& sql, std::function<void(const PgResult&)> then) {
  pg.script(sql, [sql, then = std::move(then)](const PgResult& r) {
    if (!r.ok()) {
      std::cerr << "the statement failed: " << r.error << "\n" << sql.substr(0, 300) << "\n";
      std::exit(1);
    }
    then(r);
  });
}

// The median of `reads` reads of monitor-00000's 90-day series by day, in milliseconds, and the
// runs it counted.
std::pair<double, uint64_t> read_ninety_days(PgReadPool& pool, int64_t now_ms, int reads) {
  std::vector<double> ms;
  uint64_t runs = 0;
  for (int i = 0; i < reads; ++i) {
    auto lease = pool.reads();
    if (!lease) {
      std::cerr << "cannot read the series\n";
      std::exit(1);
    }
    const auto start = SteadyClock::now();
    const auto points =
        lease->series("monitor-00000", now_ms - 90 * kLoadDayMs, now_ms, kLoadDayMs);
    ms.push_back(std::chrono::duration<double, std::milli>(SteadyClock::now() - start).count());
    runs = 0;
    for (const auto& p : points) runs += p.agg.count + p.agg.maintenance;
  }
  std::sort(ms.begin(), ms.end());
  return {ms[ms.size() / 2], runs};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"what cluster mode's roller costs, and what it saves a 90-day series"};
  std::string dsn;
  int monitors = 10'000, locations = 3, minutes = 10, history_days = 3, server_pid = 0;
  app.add_option("--dsn", dsn, "libpq connection string")->required();
  app.add_option("--monitors", monitors)->check(CLI::PositiveNumber);
  app.add_option("--locations", locations)->check(CLI::PositiveNumber);
  app.add_option("--minutes", minutes, "minutes of results of every monitor")
      ->check(CLI::PositiveNumber);
  app.add_option("--history-days", history_days, "days of results of monitor-00000");
  app.add_option("--server-pid", server_pid, "the postmaster's PID: its CPU is measured");
  CLI11_PARSE(app, argc, argv);
  spdlog::set_level(spdlog::level::warn);

  EventLoop loop;
  PgConnection pg(loop, Secret::plain(dsn), nullptr);
  pg.start();
  const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  // The load ends ten minutes ago, so that every minute of it is complete.
  const int64_t end = now - now % 60'000 - 10 * 60'000;
  const int64_t start = end - minutes * 60'000LL;
  const int64_t history_start = end - history_days * kLoadDayMs;
  std::vector<std::string> names;
  names.reserve(static_cast<size_t>(monitors));
  for (int m = 0; m < monitors; ++m) names.push_back(fmt::format("monitor-{:05}", m));

  // Rows as the writer stores them, mostly up, one in 200 down, each location 5 s after the
  // last, in the order the writers interleave them.
  const auto rows_sql = [&](int64_t from, int64_t to, const std::string& which) {
    return fmt::format(
        "INSERT INTO results (t, total_us, outcome, maintenance, monitor, location, node) "
        "SELECT 'epoch'::timestamptz + (r * 30000 + l * 5000 + {0}) * interval '1 millisecond', "
        "20000 + (hashint4(m * 7919 + r * 31 + l) & 262143), "
        "CASE WHEN (hashint4(m + r * 13 + l) & 255) = 0 THEN 2 ELSE 0 END, false, "
        "'monitor-' || lpad(m::text, 5, '0'), 'loc' || l, 'node' || l "
        "FROM generate_series(0, {1}) r, generate_series(0, {2}) l, {3} "
        "ORDER BY r, l",
        from, (to - from) / 30'000 - 1, locations - 1, which);
  };
  PgReadPool pool(Secret::plain(dsn), nullptr);
  std::unique_ptr<PgRoller> roller;
  double own0 = 0, server0 = 0;
  SteadyClock::time_point rolled_at;
  uint64_t last_steps = 0;
  std::pair<double, uint64_t> before;
  uint64_t raw_rows = 0;

  const auto roll = [&] {
    std::map<int, int64_t> all;
    for (int s = 0; s < kLeaseShards; ++s) all[s] = 1;
    PgRollerOptions o;
    o.every = Duration{200};
    o.soon = Duration{0};
    o.grace_ms = 15'000;
    roller = std::make_unique<PgRoller>(
        loop, pg, names, [all] { return all; },
        [](int shard) -> std::optional<LeaseFence> {
          return LeaseFence{LeaseSpace::evaluation().lease(shard), "bench", 1};
        },
        o);
    own0 = own_cpu_seconds();
    server0 = server_pid > 0 ? server_cpu_seconds(server_pid) : 0;
    rolled_at = SteadyClock::now();
    roller->set_on_pass([&] {
      const RollerStats& s = roller->stats();
      // A pass that took no step: all is folded.
      if (s.passes < 2 || s.steps != last_steps) {
        last_steps = s.steps;
        return;
      }
      roller->stop();
      const double wall = std::chrono::duration<double>(SteadyClock::now() - rolled_at).count();
      const double own = own_cpu_seconds() - own0;
      const double server = server_pid > 0 ? server_cpu_seconds(server_pid) - server0 : 0;
      const auto after = read_ninety_days(pool, now, 7);
      std::cout << fmt::format(
          "{} raw results ({} monitors x {} locations x {} min, and {} days of monitor-00000) "
          "rolled up in {:.1f} s: {} steps, {} refused, {} rows read, {} rows written\n",
          raw_rows, monitors, locations, minutes, history_days, wall, s.steps, s.refused,
          s.source_rows, s.buckets);
      std::cout << fmt::format(
          "roller process: {:.2f} s CPU, {:.2f} us a raw result; PostgreSQL: {:.2f} s CPU, "
          "{:.2f} us a raw result\n",
          own, own * 1e6 / static_cast<double>(raw_rows), server,
          server * 1e6 / static_cast<double>(raw_rows));
      std::cout << fmt::format(
          "90-day series of monitor-00000 by day: {:.1f} ms from raw rows ({} runs), {:.1f} ms "
          "from the rollups ({} runs) (median of 7)\n",
          before.first, before.second, after.first, after.second);
      loop.stop();
    });
    roller->start();
  };

  migrate_pg_schema(pg, {"bench"}, [&](const PgMigration& m) {
    if (!m.ok()) {
      std::cerr << m.error << "\n";
      std::exit(1);
    }
    std::vector<int64_t> days;
    for (int64_t t = history_start; t < now + kLoadDayMs; t += kLoadDayMs) days.push_back(t);
    must(pg, make_result_partitions_for(days).sql, [&](const PgResult&) {
      must(pg,
           rows_sql(start, end, fmt::format("generate_series(0, {}) m", monitors - 1)) + "; " +
               rows_sql(history_start, start, "(SELECT 0 AS m) m0"),
           [&](const PgResult&) {
             must(pg,
                  "INSERT INTO leases (name, holder, epoch, expires_at) SELECT 'eval/' || s, "
                  "'bench', 1, clock_timestamp() + interval '1 hour' FROM generate_series(0, "
                  "255) s ON CONFLICT (name) DO UPDATE SET holder = 'bench', epoch = 1, "
                  "expires_at = excluded.expires_at; ANALYZE results",
                  [&](const PgResult&) {
                    must(pg, "SELECT count(*) FROM results", [&](const PgResult& r) {
                      raw_rows = static_cast<uint64_t>(pg_int(r.rows.at(0).at(0)).value_or(0));
                      before = read_ninety_days(pool, now, 7);
                      roll();
                    });
                  });
           });
    });
  });
  loop.run();
  return 0;
}
