// lookout-backfill: writes N days of synthetic history for M monitors straight into a
// database file, shaped like a daemon that ran that long with the default retention: raw
// results and minute rollups for the last days, hour and day rollups for the rest. The recent
// part goes through the real rollup code; older hours are made from synthetic samples.
//
//   lookout-backfill --db FILE --monitors 1000 --days 90 [--interval 60s] [--raw-days 3]
#include <fmt/format.h>
#include <sqlite3.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cmath>
#include <iostream>
#include <random>

#include "core/clock.h"
#include "core/units.h"
#include "store/aggregate.h"
#include "store/rollup.h"
#include "store/schema.h"

namespace {

using namespace lookout;

void check(int rc, sqlite3* db, const char* what) {
  if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
    std::cerr << what << ": " << sqlite3_errmsg(db) << "\n";
    std::exit(1);
  }
}

struct Sampler {
  std::mt19937_64 rng{42};
  std::lognormal_distribution<double> latency{std::log(40'000.0), 0.6};  // ~40 ms median, in us
  std::bernoulli_distribution down{0.005};
  Outcome outcome() { return down(rng) ? Outcome::kDown : Outcome::kUp; }
  int64_t latency_us() { return static_cast<int64_t>(latency(rng)); }
};

void write_level_row(sqlite3_stmt* st, int64_t monitor, int64_t t, const Aggregate& a) {
  sqlite3_bind_int64(st, 1, monitor);
  sqlite3_bind_int64(st, 2, t);
  bind_rollup_columns(st, 3, a);
  sqlite3_step(st);
  sqlite3_reset(st);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"lookout-backfill: synthetic history for tests and benchmarks"};
  std::string db_path, interval_text = "60s";
  int monitors = 1000, days = 90, raw_days = 3;
  app.add_option("--db", db_path, "database file (created)")->required();
  app.add_option("--monitors", monitors, "monitors, named m0, m1, ...");
  app.add_option("--days", days, "days of history");
  app.add_option("--interval", interval_text, "probe interval");
  app.add_option("--raw-days", raw_days, "days kept as raw results and minute rollups");
  CLI11_PARSE(app, argc, argv);
  const auto interval = parse_duration(interval_text);
  if (!interval.value) {
    std::cerr << interval.error << "\n";
    return 2;
  }
  const int64_t every = interval.value->count();
  constexpr int64_t kHour = 3'600'000, kDay = 86'400'000;

  sqlite3* db = nullptr;
  check(sqlite3_open(db_path.c_str(), &db), db, "open");
  sqlite3_exec(
      db, "PRAGMA auto_vacuum = INCREMENTAL; PRAGMA journal_mode = WAL; PRAGMA synchronous = OFF",
      nullptr, nullptr, nullptr);
  std::string error;
  if (!migrate(db, error)) {
    std::cerr << error << "\n";
    return 1;
  }
  const auto started = std::chrono::steady_clock::now();
  const int64_t now = to_unix_ms(std::chrono::system_clock::now());
  const int64_t raw_from = align_down(now - raw_days * kDay, kHour);
  const int64_t history_from = align_down(now - days * kDay, kDay);
  Sampler s;

  sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr);
  sqlite3_stmt* mon = nullptr;
  sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO monitors (id, name) VALUES (?, ?)", -1, &mon,
                     nullptr);
  for (int m = 0; m < monitors; ++m) {
    sqlite3_bind_int64(mon, 1, m + 1);
    const std::string name = fmt::format("m{}", m);
    sqlite3_bind_text(mon, 2, name.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_step(mon);
    sqlite3_reset(mon);
  }
  sqlite3_finalize(mon);

  // Older history: hour rows from synthetic samples, day rows merged from them.
  sqlite3_stmt* hour = nullptr;
  sqlite3_stmt* day = nullptr;
  const char* insert =
      "INSERT OR REPLACE INTO {} (monitor_id, t_ms, count, failures, degraded, maintenance, "
      "min_us, "
      "max_us, sum_us, sketch) VALUES (?,?,?,?,?,?,?,?,?,?)";
  sqlite3_prepare_v2(db, fmt::format(fmt::runtime(insert), kHourLevel.table).c_str(), -1, &hour,
                     nullptr);
  sqlite3_prepare_v2(db, fmt::format(fmt::runtime(insert), kDayLevel.table).c_str(), -1, &day,
                     nullptr);
  const int64_t runs_per_hour = kHour / every;
  for (int m = 0; m < monitors; ++m) {
    Aggregate day_agg;
    int64_t day_start = history_from;
    for (int64_t t = history_from; t < raw_from; t += kHour) {
      if (t - day_start >= kDay) {
        write_level_row(day, m + 1, day_start, day_agg);
        day_agg = Aggregate{};
        day_start = t;
      }
      Aggregate h;
      for (int64_t r = 0; r < runs_per_hour; ++r) {
        const Outcome o = s.outcome();
        h.add_run(o, o == Outcome::kDown ? std::nullopt : std::optional<int64_t>(s.latency_us()),
                  false);
      }
      write_level_row(hour, m + 1, t, h);
      day_agg.merge(h);
    }
    // The day in progress at raw_from is folded again by the rollup from its hours.
  }
  sqlite3_finalize(hour);
  sqlite3_finalize(day);
  sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);

  // Recent history: raw rows, then the real rollup code makes minutes, hours and days.
  sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr);
  sqlite3_stmt* raw = nullptr;
  sqlite3_prepare_v2(
      db,
      "INSERT INTO results (monitor_id, t_ms, outcome, http_status, total_us) VALUES (?,?,?,?,?)",
      -1, &raw, nullptr);
  for (int m = 0; m < monitors; ++m) {
    const int64_t phase = (static_cast<int64_t>(m) * 7919) % every;
    for (int64_t t = raw_from + phase; t < now; t += every) {
      const Outcome o = s.outcome();
      sqlite3_bind_int64(raw, 1, m + 1);
      sqlite3_bind_int64(raw, 2, t);
      sqlite3_bind_int(raw, 3, static_cast<int>(o));
      if (o == Outcome::kDown) {
        sqlite3_bind_null(raw, 4);
        sqlite3_bind_null(raw, 5);
      } else {
        sqlite3_bind_int(raw, 4, 200);
        sqlite3_bind_int64(raw, 5, s.latency_us());
      }
      sqlite3_step(raw);
      sqlite3_reset(raw);
    }
  }
  sqlite3_finalize(raw);
  // Hours before raw_from are already written: the hour and day levels start there.
  sqlite3_stmt* wm = nullptr;
  sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", -1, &wm,
                     nullptr);
  for (const auto& [key, value] :
       {std::pair{kHourLevel.watermark_key, raw_from},
        std::pair{kDayLevel.watermark_key, align_down(raw_from, kDay)}}) {
    sqlite3_bind_text(wm, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(wm, 2, std::to_string(value).c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_step(wm);
    sqlite3_reset(wm);
  }
  sqlite3_finalize(wm);
  sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
  // The minute level starts at raw_from too (nothing older is raw).
  sqlite3_exec(db,
               fmt::format("INSERT OR REPLACE INTO meta (key, value) VALUES ('{}', '{}')",
                           kMinuteLevel.watermark_key, raw_from)
                   .c_str(),
               nullptr, nullptr, nullptr);
  RollupStats stats;
  if (!roll_up(db, now, 15'000, stats, error)) {
    std::cerr << "rollup: " << error << "\n";
    return 1;
  }
  sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", nullptr, nullptr, nullptr);
  sqlite3_close(db);
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::cout << fmt::format(
      "{}: {} monitors, {} days at {} ({} days raw); {} minute, {} hour, {} day rows rolled up; "
      "{:.1f} s\n",
      db_path, monitors, days, interval_text, raw_days, stats.minute_rows, stats.hour_rows,
      stats.day_rows, secs);
  return 0;
}
