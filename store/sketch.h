// A mergeable latency sketch with bounded relative error (DDSketch: "DDSketch: A Fast and
// Fully-Mergeable Quantile Sketch with Relative-Error Guarantees", Masson et al., 2019).
//
// A value x > 0 goes to bucket i = ceil(log_gamma(x)) with gamma = (1 + a) / (1 - a); every
// value in bucket i lies in (gamma^(i-1), gamma^i], and answering 2 gamma^i / (gamma + 1)
// is within relative error a of all of them. Merging adds counts, so merge(A, B) is exactly
// the sketch of A and B together. Pure: no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lookout {

class LatencySketch {
 public:
  static constexpr double kDefaultAccuracy = 0.01;
  // Buckets kept at most; past that the lowest are folded together, so only the smallest
  // values lose accuracy. 1 % accuracy needs ~1,100 buckets from 1 us to one hour.
  static constexpr size_t kMaxBuckets = 2048;

  LatencySketch() : LatencySketch(kDefaultAccuracy) {}
  explicit LatencySketch(double relative_accuracy);

  // Values at or below kMinValue (microseconds, in lookout's use) count as zero.
  static constexpr double kMinValue = 1.0;
  void add(double value, uint64_t n = 1);
  // False when the accuracies differ: such sketches cannot be merged exactly.
  bool merge(const LatencySketch& other);

  uint64_t count() const { return count_; }
  bool empty() const { return count_ == 0; }
  double relative_accuracy() const { return accuracy_; }
  // The value of rank floor(q * (count - 1)) in sorted order, within the relative accuracy.
  std::optional<double> quantile(double q) const;

  // Compact binary form (see sketch.cc); a few bytes for one sample, ~1 byte per bucket used.
  std::string encode() const;
  static std::optional<LatencySketch> decode(std::string_view in);

  bool operator==(const LatencySketch& o) const;

 private:
  int32_t index_of(double value) const;
  double value_of(int32_t index) const;
  void grow_to(int32_t index);
  void fold_lowest();

  double accuracy_;
  double gamma_;
  double log_gamma_;
  uint64_t zero_count_ = 0;
  uint64_t count_ = 0;
  int32_t offset_ = 0;            // index of counts_[0]
  std::vector<uint64_t> counts_;  // dense from offset_
};

}  // namespace lookout
