// lookout-pg-results-load: result rows into PostgreSQL at a steady rate through PgResultWriter,
// one writer and connection per location on one loop, as the nodes of a cluster write them, and
// what it costs: the CPU of this process and of the PostgreSQL server (the postmaster and every
// process under it, from /proc) per result, the loop's lag, the WAL written per result, and the
// size of a million results on disk. bench/pg_results_bench.py starts a throwaway server for it.
//
//   lookout-pg-results-load --dsn DSN [--rate 1000] [--seconds 60] [--warmup 5]
//       [--monitors 10000] [--locations fra,nyc,sgp] [--server-pid PID]
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <iostream>
#include <random>

#include "bench/cpu_usage.h"
#include "core/event_loop.h"
#include "store/pg_result_writer.h"
#include "store/pg_schema.h"

namespace {

using namespace lookout;
using namespace lookout::bench;
using SteadyClock = std::chrono::steady_clock;

// Rows like those of http monitors: mostly up with their phases, one in 200 refused.
class RowMaker {
 public:
  RowMaker(int monitors, size_t locations) : monitors_(monitors), locations_(locations) {}

  // Row n goes to location n mod L; each location runs the monitors in turn.
  std::pair<size_t, ResultRow> next(int64_t now_ms) {
    const size_t location = n_ % locations_;
    const int monitor = static_cast<int>((n_ / locations_) % static_cast<uint64_t>(monitors_));
    ++n_;
    ResultRow r;
    r.monitor = fmt::format("monitor-{:05}", monitor);
    r.t_ms = now_ms;
    r.timings.dns_us = static_cast<int64_t>(phase_(rng_) * 2000);
    if (down_(rng_)) {
      r.outcome = Outcome::kDown;
      r.kind = ErrorKind::kConnect;
      r.cause = "connection refused";
      return {location, std::move(r)};
    }
    r.outcome = Outcome::kUp;
    r.http_status = 200;
    r.timings.connect_us = static_cast<int64_t>(phase_(rng_) * 1500);
    r.timings.tls_us = static_cast<int64_t>(phase_(rng_) * 6000);
    r.timings.first_byte_us = static_cast<int64_t>(phase_(rng_) * 30'000);
    r.timings.total_us = *r.timings.dns_us + *r.timings.connect_us + *r.timings.tls_us +
                         *r.timings.first_byte_us + 500;
    return {location, std::move(r)};
  }

 private:
  int monitors_;
  size_t locations_;
  uint64_t n_ = 0;
  std::mt19937_64 rng_{42};
  std::lognormal_distribution<double> phase_{0.0, 0.5};
  std::bernoulli_distribution down_{0.005};
};

double percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())))];
}

// Runs `sql` on `pg` and hands the first row to `then`; a failure ends the program.
void ask(PgConnection& pg, const std::string& sql,
         std::function<void(std::vector<std::optional<std::string>>)> then) {
  pg.query(sql, {}, [sql, then = std::move(then)](PgResult r) {
    if (!r.ok() || r.rows.empty()) {
      std::cerr << "the query " << sql << " failed: " << r.error << "\n";
      std::exit(1);
    }
    then(std::move(r.rows[0]));
  });
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"result rows into PostgreSQL at a steady rate, and what it costs"};
  std::string dsn;
  double rate = 1000;
  int seconds = 60, warmup = 5, monitors = 10'000, server_pid = 0;
  std::vector<std::string> locations{"fra", "nyc", "sgp"};
  app.add_option("--dsn", dsn, "libpq connection string")->required();
  app.add_option("--rate", rate, "results a second, all locations together")
      ->check(CLI::PositiveNumber);
  app.add_option("--seconds", seconds, "the measured window")->check(CLI::PositiveNumber);
  app.add_option("--warmup", warmup, "seconds of writing before the window");
  app.add_option("--monitors", monitors);
  app.add_option("--locations", locations)->delimiter(',');
  app.add_option("--server-pid", server_pid, "the postmaster's PID: its CPU is measured");
  CLI11_PARSE(app, argc, argv);
  spdlog::set_level(spdlog::level::warn);

  EventLoop loop;
  PgConnection admin(loop, Secret::plain(dsn), nullptr);
  admin.start();
  std::vector<std::unique_ptr<PgConnection>> connections;
  std::vector<std::unique_ptr<PgResultWriter>> writers;
  for (const auto& l : locations) {
    connections.push_back(std::make_unique<PgConnection>(loop, Secret::plain(dsn), nullptr));
    connections.back()->start();
    writers.push_back(
        std::make_unique<PgResultWriter>(loop, *connections.back(), ResultOrigin{l + "-1", l}));
  }

  RowMaker maker(monitors, locations.size());
  Timer produce(loop), lag_timer(loop), phase(loop), drain(loop);
  uint64_t produced = 0;
  SteadyClock::time_point started;
  std::vector<double> lags_ms;
  SteadyClock::time_point lag_due;
  bool measuring = false;
  struct Snapshot {
    double own_cpu = 0, server_cpu = 0;
    uint64_t produced = 0;
    SteadyClock::time_point at;
    std::string wal;
  } first, last;
  const auto snapshot = [&](Snapshot& s) {
    s.own_cpu = own_cpu_seconds();
    s.server_cpu = server_pid > 0 ? server_cpu_seconds(server_pid) : 0;
    s.produced = produced;
    s.at = SteadyClock::now();
    ask(admin, "SELECT pg_current_wal_insert_lsn()::text", [&s](auto row) { s.wal = *row[0]; });
  };
  const auto committed = [&] {
    uint64_t n = 0;
    for (const auto& w : writers) n += w->committed();
    return n;
  };

  const auto report = [&] {
    const double window = std::chrono::duration<double>(last.at - first.at).count();
    const double rows = static_cast<double>(last.produced - first.produced);
    uint64_t dropped = 0;
    for (const auto& w : writers) dropped += w->dropped();
    std::cout << fmt::format(
        "{:.0f} results/s aimed, {:.1f} written/s over {:.0f} s ({} writers: {}; {} monitors); "
        "{} dropped\n",
        rate, rows / window, window, writers.size(), fmt::join(locations, ", "), monitors, dropped);
    // Per result, and per second as a share of one core: what a process costs at this rate.
    const auto cpu = [&](const char* who, double used, const char* what) {
      std::cout << fmt::format("{}: {:.2f} s CPU, {:.1f} % of a core, {:.4f} ms a result ({})\n",
                               who, used, 100 * used / window, used * 1000 / rows, what);
    };
    cpu("this process", last.own_cpu - first.own_cpu,
        "the writers, making the rows and this program's timers");
    if (server_pid > 0) {
      cpu("PostgreSQL", last.server_cpu - first.server_cpu,
          "the postmaster and every process under it, from /proc");
    }
    std::cout << fmt::format(
        "loop lag (a 10 ms timer): p50 {:.2f} ms, p99 {:.2f} ms, max {:.2f} ms\n",
        percentile(lags_ms, 0.5), percentile(lags_ms, 0.99), percentile(lags_ms, 1.0));
    ask(admin,
        fmt::format("SELECT pg_wal_lsn_diff('{}', '{}')::bigint, (SELECT count(*) FROM results), "
                    "sum(pg_relation_size(inhrelid)), sum(pg_indexes_size(inhrelid)) FROM "
                    "pg_inherits WHERE inhparent = 'results'::regclass",
                    last.wal, first.wal),
        [&, rows](auto row) {
          const double wal = std::stod(*row[0]);
          const double count = std::stod(*row[1]);
          const double heap = std::stod(*row[2]), index = std::stod(*row[3]);
          std::cout << fmt::format("WAL: {:.0f} bytes a result\n", wal / rows);
          std::cout << fmt::format(
              "size: {:.0f} results in {:.1f} MB of table and {:.1f} MB of index: {:.0f} MB a "
              "million results ({:.0f} + {:.0f} bytes a result)\n",
              count, heap / 1e6, index / 1e6, (heap + index) / count, heap / count, index / count);
          loop.stop();
        });
  };

  const auto start_writing = [&] {
    started = SteadyClock::now();
    for (auto& w : writers) w->start();
    produce.start_repeating(Duration{10}, [&] {
      const double elapsed = std::chrono::duration<double>(SteadyClock::now() - started).count();
      const int64_t now_ms = to_unix_ms(SystemClock().wall());
      while (static_cast<double>(produced) < elapsed * rate) {
        auto [location, row] = maker.next(now_ms);
        writers[location]->add(std::move(row));
        ++produced;
      }
    });
    lag_due = SteadyClock::now() + std::chrono::milliseconds(10);
    lag_timer.start_repeating(Duration{10}, [&] {
      const auto now = SteadyClock::now();
      if (measuring)
        lags_ms.push_back(std::chrono::duration<double, std::milli>(now - lag_due).count());
      lag_due = now + std::chrono::milliseconds(10);
    });
    phase.start(Duration{warmup * 1000LL}, [&] {
      snapshot(first);
      measuring = true;
      phase.start(Duration{seconds * 1000LL}, [&] {
        measuring = false;
        snapshot(last);
        produce.stop();
        drain.start_repeating(Duration{50}, [&] {
          if (committed() < produced) return;
          drain.stop();
          report();
        });
      });
    });
  };

  migrate_pg_schema(admin, {"bench"}, [&](const PgMigration& m) {
    if (!m.ok()) {
      std::cerr << m.error << "\n";
      std::exit(1);
    }
    const PgStatement days = make_result_partitions(1);
    admin.query(days.sql, days.params, [&](const PgResult& r) {
      if (!r.ok()) {
        std::cerr << r.error << "\n";
        std::exit(1);
      }
      start_writing();
    });
  });
  loop.run();
  return 0;
}
