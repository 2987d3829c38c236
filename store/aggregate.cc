#include "store/aggregate.h"

#include <algorithm>

namespace lookout {

void Aggregate::add_run(Outcome outcome, std::optional<int64_t> latency_us, bool in_maintenance) {
  if (in_maintenance) {
    ++maintenance;
    return;
  }
  ++count;
  if (outcome == Outcome::kDown) ++failures;
  if (outcome == Outcome::kDegraded) ++degraded;
  if (latency_us) {
    min_us = min_us ? std::min(*min_us, *latency_us) : *latency_us;
    max_us = max_us ? std::max(*max_us, *latency_us) : *latency_us;
    sum_us += *latency_us;
    sketch.add(static_cast<double>(*latency_us));
  }
}

void Aggregate::add_samples(std::string_view packed) {
  for (size_t i = 0; i + 8 <= packed.size(); i += 8) {
    uint64_t v = 0;
    for (int b = 7; b >= 0; --b)
      v = (v << 8) | static_cast<unsigned char>(packed[i + static_cast<size_t>(b)]);
    const auto us = static_cast<int64_t>(v);
    if (us < 0) continue;
    min_us = min_us ? std::min(*min_us, us) : us;
    max_us = max_us ? std::max(*max_us, us) : us;
    sum_us += us;
    sketch.add(static_cast<double>(us));
  }
}

void Aggregate::add(const StoredRun& run, bool with_latency) {
  if (run.samples && !run.maintenance) {
    add_run(run.outcome, std::nullopt, false);
    if (with_latency) add_samples(*run.samples);
    return;
  }
  add_run(run.outcome, with_latency ? run.total_us : std::nullopt, run.maintenance);
}

std::string pack_samples(const std::vector<int64_t>& samples_us) {
  std::string out;
  out.reserve(samples_us.size() * 8);
  for (int64_t s : samples_us) {
    auto v = static_cast<uint64_t>(s);
    for (int b = 0; b < 8; ++b) {
      out += static_cast<char>(v & 0xff);
      v >>= 8;
    }
  }
  return out;
}

void Aggregate::merge(const Aggregate& o) {
  count += o.count;
  failures += o.failures;
  degraded += o.degraded;
  maintenance += o.maintenance;
  if (o.min_us) min_us = min_us ? std::min(*min_us, *o.min_us) : *o.min_us;
  if (o.max_us) max_us = max_us ? std::max(*max_us, *o.max_us) : *o.max_us;
  sum_us += o.sum_us;
  sketch.merge(o.sketch);
}

std::optional<double> Aggregate::uptime() const {
  if (count == 0) return std::nullopt;
  return 100.0 * static_cast<double>(count - failures) / static_cast<double>(count);
}

std::optional<double> Aggregate::quantile_ms(double q) const {
  auto v = sketch.quantile(q);
  if (!v) return std::nullopt;
  return *v / 1000.0;
}

}  // namespace lookout
