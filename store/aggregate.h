// What a rollup row holds: runs, failures, latency extremes and a latency sketch. Merging two
// aggregates is exact (counts add, sketches merge), so minutes make hours and hours make days
// without ever averaging percentiles.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "probes/probe.h"
#include "store/sketch.h"

namespace lookout {

// One row of `results` as history counts it.
struct StoredRun {
  Outcome outcome = Outcome::kDown;
  std::optional<int64_t> total_us;
  bool maintenance = false;
  std::optional<std::string>
      samples;  // a latency monitor's samples (pack_samples), in place of total_us
};

struct Aggregate {
  uint64_t count = 0;     // runs, maintenance excluded
  uint64_t failures = 0;  // runs that were down
  uint64_t degraded = 0;
  uint64_t maintenance = 0;  // runs during maintenance, counted apart
  std::optional<int64_t> min_us, max_us;
  int64_t sum_us = 0;
  LatencySketch sketch;  // latencies of runs that had a response

  void add_run(Outcome outcome, std::optional<int64_t> latency_us, bool in_maintenance);
  // The latencies of a run with several samples (a latency monitor), packed by pack_samples:
  // each one counts in the sketch, the run once in count.
  void add_samples(std::string_view packed);
  // Without `with_latency` only the counts: cheaper where no percentile is asked for.
  void add(const StoredRun& run, bool with_latency = true);
  void merge(const Aggregate& o);
  bool empty() const { return count == 0 && maintenance == 0; }
  // Percentage of runs that were not down; nullopt without runs.
  std::optional<double> uptime() const;
  // In milliseconds; nullopt without latencies.
  std::optional<double> quantile_ms(double q) const;
};

// Several samples of one run as little-endian 64-bit microseconds, for the results table.
std::string pack_samples(const std::vector<int64_t>& samples_us);

// One bucket of a series: the runs that started in [t_ms, t_ms + step).
struct SeriesPoint {
  int64_t t_ms = 0;
  Aggregate agg;
};

}  // namespace lookout
