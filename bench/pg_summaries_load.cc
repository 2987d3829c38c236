// lookout-pg-summaries-load: what keeping the status page's summaries costs a cluster node and
// PostgreSQL. It fills a database as a roller keeps it for `--monitors` monitors probed every
// 30 s from `--locations` locations (a day row of every monitor for 90 days, the hour rows of the
// days the windows start in and of the last day, the minute rows of the 24 hour window's edge
// and of the last hour), writes each second's raw runs as they come and moves the minute and
// hour marks as a roller two minutes behind would, and runs PgSummaries on a connection of its
// own. It reports the time of the first full read, then over `--seconds`: the CPU of this
// process and of the reader's server process (from /proc) per second, and the rows read a
// second. bench/pg_summaries_bench.py starts a throwaway server for it.
//
//   lookout-pg-summaries-load --dsn DSN [--monitors 10000] [--locations 3] [--seconds 60]
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <fstream>
#include <functional>
#include <iostream>
#include <random>
#include <sstream>

#include "core/event_loop.h"
#include "store/pg_results.h"
#include "store/pg_schema.h"
#include "store/pg_summaries.h"
#include "store/rollup.h"

namespace {

using namespace lookout;
using SteadyClock = std::chrono::steady_clock;

constexpr int64_t kMin = 60'000, kHour = 3'600'000, kDay = 86'400'000;

double own_cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// utime + stime of one process, from /proc/PID/stat (fields after the command name).
double process_cpu_seconds(int64_t pid) {
  std::ifstream in(fmt::format("/proc/{}/stat", pid));
  std::string line;
  std::getline(in, line);
  const size_t close = line.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream rest(line.substr(close + 2));
  std::vector<std::string> f;
  for (std::string s; rest >> s;) f.push_back(s);
  if (f.size() < 13) return 0;
  return (std::stod(f[11]) + std::stod(f[12])) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// A sketch of `n` latencies like an http monitor's, as a bytea literal.
std::string sketch_literal(int n) {
  std::mt19937_64 rng(7);
  std::lognormal_distribution<double> latency(std::log(40'000.0), 0.5);
  LatencySketch s;
  for (int i = 0; i < n; ++i) s.add(latency(rng));
  std::string out = "'\\x";
  for (const char c : s.encode()) out += fmt::format("{:02x}", static_cast<unsigned char>(c));
  return out + "'::bytea";
}

std::string at(int64_t ms) {
  return fmt::format("('epoch'::timestamptz + {} * interval '1 millisecond')", ms);
}

// Rows of `table` for every monitor and every bucket of `step` in [from, to): each run of the
// bucket once from every location, one in 200 down.
std::string rollup_rows(const char* table, int monitors, int64_t from, int64_t to, int64_t step,
                        int runs) {
  return fmt::format(
      "INSERT INTO {} (t, count, failures, degraded, maintenance, min_us, max_us, sum_us, "
      "monitor, sketch) SELECT t, {}, {}, 0, 0, 20000, 400000, {}::bigint * 45000, "
      "'monitor-' || lpad(i::text, 5, '0'), {} FROM generate_series(0, {}) i, "
      "generate_series({}, {}, {} * interval '1 millisecond') t ON CONFLICT DO NOTHING",
      table, runs, runs / 200, runs, sketch_literal(runs), monitors - 1, at(from), at(to - step),
      step);
}

// The raw runs of [from, to): every monitor every 30 s from each location, spread over the
// interval by the monitor's number.
std::string raw_rows(int monitors, int locations, int64_t from, int64_t to) {
  return fmt::format(
      "INSERT INTO results (t, total_us, outcome, maintenance, monitor, location, node) SELECT "
      "'epoch'::timestamptz + (b + (i * 30000 / {0}) + l * 7) * interval '1 millisecond', "
      "20000 + (i * 7919 + b) % 400000, CASE WHEN (i + b / 30000) % 200 = 0 THEN 2 ELSE 0 END, "
      "false, 'monitor-' || lpad(i::text, 5, '0'), 'loc' || l, 'node' || l FROM "
      "generate_series(0, {0} - 1) i, generate_series(0, {1} - 1) l, generate_series({2}, {3}, "
      "30000) b WHERE b + (i * 30000 / {0}) >= {4} AND b + (i * 30000 / {0}) < {5}",
      monitors, locations, align_down(from, 30'000) - 30'000, to, from, to);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"What keeping the status page's summaries costs a node and PostgreSQL"};
  std::string dsn;
  int monitors = 10'000, locations = 3, seconds = 60;
  app.add_option("--dsn", dsn)->required();
  app.add_option("--monitors", monitors);
  app.add_option("--locations", locations);
  app.add_option("--seconds", seconds);
  CLI11_PARSE(app, argc, argv);
  spdlog::set_level(spdlog::level::warn);

  EventLoop loop;
  SystemClock clock;
  PgConnection writer(loop, Secret::plain(dsn), nullptr);
  PgConnection reader_pg(loop, Secret::plain(dsn), nullptr);
  writer.start();
  reader_pg.start();
  auto wait_for = [&](const std::function<bool()>& done) {
    Timer t(loop);
    t.start_repeating(Duration{5}, [&] {
      if (done()) loop.stop();
    });
    loop.run();
  };
  std::optional<PgMigration> migrated;
  migrate_pg_schema(writer, {"bench"}, [&](PgMigration m) { migrated = std::move(m); });
  wait_for([&] { return migrated.has_value(); });
  if (!migrated->ok()) {
    std::cerr << "migration: " << migrated->error << "\n";
    return 1;
  }
  auto run = [&](const std::string& sql) {
    std::optional<PgResult> r;
    writer.query(sql, {}, [&](PgResult a) { r = std::move(a); });
    wait_for([&] { return r.has_value(); });
    if (!r->ok()) {
      std::cerr << r->error << "\n";
      std::exit(1);
    }
    return *r;
  };

  const int64_t now = to_unix_ms(clock.wall());
  const int64_t today = align_down(now, kDay);
  const int64_t end = now + (seconds + 120) * 1000LL;  // rows the roller folds while it runs
  const int64_t minute_mark = align_down(now - 2 * kMin, kMin);
  const int64_t hour_mark = align_down(minute_mark, kHour);
  const int64_t edge = align_down(now - kDay, kHour);
  const int per_minute = 2 * locations, per_hour = 60 * per_minute, per_day = 24 * per_hour;
  const auto fill_start = SteadyClock::now();
  const PgStatement partitions = make_result_partitions_for({now - kDay, now, end});
  run(partitions.sql);
  run(rollup_rows("rollup_day", monitors, today - 90 * kDay, today, kDay, per_day));
  for (const int64_t day : {today - 90 * kDay, today - 30 * kDay})
    run(rollup_rows("rollup_hour", monitors, day, day + kDay, kHour, per_hour));
  run(rollup_rows("rollup_hour", monitors, today - kDay, align_down(end, kHour) + kHour, kHour,
                  per_hour));
  run(rollup_rows("rollup_minute", monitors, edge, edge + 2 * kHour, kMin, per_minute));
  run(rollup_rows("rollup_minute", monitors, hour_mark, align_down(end, kMin) + kMin, kMin,
                  per_minute));
  run(raw_rows(monitors, locations, minute_mark - kMin, now));
  auto marks = [&](int64_t minute) {
    run(fmt::format(
        "INSERT INTO rollup_marks SELECT s, l, CASE l WHEN 'day' THEN {} WHEN 'hour' THEN {} "
        "ELSE {} END FROM generate_series(0, 255) s, unnest(ARRAY['minute', 'hour', 'day']) l "
        "ON CONFLICT (shard, level) DO UPDATE SET until = excluded.until",
        at(today), at(align_down(minute, kHour)), at(minute)));
  };
  marks(minute_mark);
  run("VACUUM ANALYZE");
  std::cout << fmt::format("filled in {:.1f} s\n",
                           std::chrono::duration<double>(SteadyClock::now() - fill_start).count());

  std::optional<int64_t> backend;
  reader_pg.query("SELECT pg_backend_pid()", {}, [&](PgResult r) {
    backend = r.rows.empty() ? 0 : pg_int(r.rows[0][0]).value_or(0);
  });
  wait_for([&] { return backend.has_value(); });
  std::vector<std::string> names;
  names.reserve(static_cast<size_t>(monitors));
  for (int i = 0; i < monitors; ++i) names.push_back(fmt::format("monitor-{:05}", i));
  SummaryCache cache;
  PgSummaries summaries(loop, reader_pg, clock, names, cache);

  const double cpu0 = own_cpu_seconds(), pg0 = process_cpu_seconds(*backend);
  const auto start = SteadyClock::now();
  summaries.start();
  wait_for([&] { return summaries.ready(); });
  const double first_s = std::chrono::duration<double>(SteadyClock::now() - start).count();
  const double cpu1 = own_cpu_seconds(), pg1 = process_cpu_seconds(*backend);
  const uint64_t rows1 = summaries.rows();
  std::cout << fmt::format(
      "first full read: {:.1f} s, {} rows, node CPU {:.2f} s, PostgreSQL CPU {:.2f} s, "
      "{} summaries\n",
      first_s, rows1, cpu1 - cpu0, pg1 - pg0, cache.get()->size());

  // The steady state: each second's runs written, the marks moved each minute.
  int64_t written_to = now;
  int64_t mark = minute_mark;
  Timer writes(loop);
  writes.start_repeating(Duration{1000}, [&] {
    const int64_t t = to_unix_ms(clock.wall());
    writer.query(raw_rows(monitors, locations, written_to, t), {}, [](const PgResult&) {});
    written_to = t;
    if (const int64_t m = align_down(t - 2 * kMin, kMin); m > mark) {
      mark = m;
      writer.query(fmt::format("UPDATE rollup_marks SET until = CASE level WHEN 'hour' THEN {} "
                               "ELSE {} END WHERE level <> 'day'",
                               at(align_down(m, kHour)), at(m)),
                   {}, [](const PgResult&) {});
    }
  });
  const double cpu2 = own_cpu_seconds(), pg2 = process_cpu_seconds(*backend);
  const uint64_t reads2 = summaries.reads(), rows2 = summaries.rows();
  const auto steady = SteadyClock::now();
  wait_for([&] { return SteadyClock::now() - steady > std::chrono::seconds(seconds); });
  const double span = std::chrono::duration<double>(SteadyClock::now() - steady).count();
  const double cpu3 = own_cpu_seconds(), pg3 = process_cpu_seconds(*backend);
  std::cout << fmt::format(
      "steady, over {:.0f} s: {} reads, {:.0f} rows/s; node CPU {:.1f} ms/s; PostgreSQL CPU "
      "(the reader's server process) {:.1f} ms/s\n",
      span, summaries.reads() - reads2, static_cast<double>(summaries.rows() - rows2) / span,
      (cpu3 - cpu2) * 1000 / span, (pg3 - pg2) * 1000 / span);
  writes.stop();
  summaries.stop();
  writer.stop();
  reader_pg.stop();
  return 0;
}
