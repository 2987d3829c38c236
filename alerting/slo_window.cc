#include "alerting/slo_window.h"

#include <fmt/format.h>

#include <algorithm>

#include "core/units.h"

namespace lookout {

int64_t SloWindow::slice_index(WallTime t) const {
  const int64_t len = std::max<int64_t>(1, slo_.window.count() / kSlices);
  return to_unix_ms(t) / len;
}

void SloWindow::expire(WallTime now) {
  // A slice counts while any part of it lies within the window: the window is at most one
  // slice (1/30) longer than asked, never shorter.
  const int64_t oldest = slice_index(now) - kSlices;
  while (!slices_.empty() && slices_.front().index < oldest) slices_.pop_front();
}

void SloWindow::add(WallTime at, int64_t sample_us) {
  const int64_t index = slice_index(at);
  if (slices_.empty() || slices_.back().index < index) {
    slices_.push_back(Slice{index, LatencySketch()});
  }
  // A late sample (its run started before the newest slice) joins the slice it belongs to.
  const auto it = std::find_if(slices_.rbegin(), slices_.rend(),
                               [index](const Slice& s) { return s.index <= index; });
  if (it != slices_.rend()) it->sketch.add(static_cast<double>(std::max<int64_t>(0, sample_us)));
  expire(at);
}

SloJudgement SloWindow::judge(WallTime now) {
  expire(now);
  SloJudgement j;
  LatencySketch all;
  for (const auto& s : slices_) all.merge(s.sketch);
  j.samples = all.count();
  if (all.empty()) return j;
  j.p50_ms = all.quantile(0.50).value_or(0) / 1000.0;
  j.p95_ms = all.quantile(0.95).value_or(0) / 1000.0;
  j.p99_ms = all.quantile(0.99).value_or(0) / 1000.0;
  j.judged = slo_.p95.has_value() && j.samples >= static_cast<uint64_t>(slo_.min_samples);
  if (j.judged && j.p95_ms > static_cast<double>(slo_.p95->count())) {
    j.breached = true;
    j.cause = fmt::format("p95 {:.0f} ms > {} ms over the last {} ({} samples)", j.p95_ms,
                          slo_.p95->count(), format_duration(slo_.window), j.samples);
  }
  return j;
}

}  // namespace lookout
