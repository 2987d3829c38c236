#include "store/sketch.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace lookout {
namespace {

void put_varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

bool get_varint(std::string_view& in, uint64_t& v) {
  v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (in.empty()) return false;
    const auto byte = static_cast<uint8_t>(in.front());
    in.remove_prefix(1);
    v |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) return true;
  }
  return false;
}

uint64_t zigzag(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
int64_t unzigzag(uint64_t v) { return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1); }

constexpr uint8_t kVersion = 1;
constexpr uint8_t kSparse = 0x10;   // buckets as (index step, count) pairs
constexpr uint8_t kDefault = 0x20;  // kDefaultAccuracy, not written

}  // namespace

LatencySketch::LatencySketch(double relative_accuracy)
    : accuracy_(relative_accuracy),
      gamma_((1 + relative_accuracy) / (1 - relative_accuracy)),
      log_gamma_(std::log(gamma_)) {}

int32_t LatencySketch::index_of(double value) const {
  return static_cast<int32_t>(std::ceil(std::log(value) / log_gamma_));
}

double LatencySketch::value_of(int32_t index) const {
  return 2.0 * std::pow(gamma_, index) / (gamma_ + 1.0);
}

void LatencySketch::grow_to(int32_t index) {
  if (counts_.empty()) {
    offset_ = index;
    counts_.assign(1, 0);
    return;
  }
  if (index < offset_) {
    counts_.insert(counts_.begin(), static_cast<size_t>(offset_ - index), 0);
    offset_ = index;
  } else if (index >= offset_ + static_cast<int32_t>(counts_.size())) {
    counts_.resize(static_cast<size_t>(index - offset_) + 1, 0);
  }
}

void LatencySketch::fold_lowest() {
  while (counts_.size() > kMaxBuckets) {
    counts_[1] += counts_[0];
    counts_.erase(counts_.begin());
    ++offset_;
  }
}

void LatencySketch::add(double value, uint64_t n) {
  if (n == 0 || std::isnan(value)) return;
  count_ += n;
  if (value <= kMinValue) {
    zero_count_ += n;
    return;
  }
  const int32_t i = index_of(value);
  grow_to(i);
  counts_[static_cast<size_t>(i - offset_)] += n;
  fold_lowest();
}

bool LatencySketch::merge(const LatencySketch& other) {
  if (other.accuracy_ != accuracy_) return false;
  if (other.empty()) return true;
  zero_count_ += other.zero_count_;
  count_ += other.count_;
  if (!other.counts_.empty()) {
    grow_to(other.offset_);
    grow_to(other.offset_ + static_cast<int32_t>(other.counts_.size()) - 1);
    for (size_t k = 0; k < other.counts_.size(); ++k) {
      counts_[static_cast<size_t>(other.offset_ - offset_) + k] += other.counts_[k];
    }
    fold_lowest();
  }
  return true;
}

std::optional<double> LatencySketch::quantile(double q) const {
  if (count_ == 0 || q < 0 || q > 1) return std::nullopt;
  const auto rank = static_cast<uint64_t>(q * static_cast<double>(count_ - 1));
  if (rank < zero_count_) return 0.0;
  uint64_t seen = zero_count_;
  for (size_t k = 0; k < counts_.size(); ++k) {
    seen += counts_[k];
    if (seen > rank) return value_of(offset_ + static_cast<int32_t>(k));
  }
  return value_of(offset_ + static_cast<int32_t>(counts_.size()) - 1);
}

// Layout: a header byte (version in the low nibble; kSparse, kDefaultAccuracy flags), the
// accuracy as a double unless it is the default, the zero count, then the buckets either
// dense (first index, length, counts) or sparse (pairs of index step and count), whichever
// is shorter. Every integer is a varint; indexes are zigzag-coded.
std::string LatencySketch::encode() const {
  size_t lo = 0, hi = counts_.size();
  while (lo < hi && counts_[lo] == 0) ++lo;
  while (hi > lo && counts_[hi - 1] == 0) --hi;

  std::string dense;
  put_varint(dense, zigzag(offset_ + static_cast<int64_t>(lo)));
  put_varint(dense, hi - lo);
  for (size_t k = lo; k < hi; ++k) put_varint(dense, counts_[k]);

  std::string sparse;
  size_t used = 0;
  for (size_t k = lo; k < hi; ++k) used += counts_[k] != 0 ? 1 : 0;
  put_varint(sparse, used);
  int64_t prev = 0;
  for (size_t k = lo; k < hi; ++k) {
    if (counts_[k] == 0) continue;
    const int64_t index = offset_ + static_cast<int64_t>(k);
    put_varint(sparse, zigzag(index - prev));
    put_varint(sparse, counts_[k]);
    prev = index;
  }

  const bool use_sparse = sparse.size() < dense.size();
  const bool default_accuracy = accuracy_ == kDefaultAccuracy;
  std::string out;
  out.reserve(12 + std::min(dense.size(), sparse.size()));
  out.push_back(
      static_cast<char>(kVersion | (use_sparse ? kSparse : 0) | (default_accuracy ? kDefault : 0)));
  if (!default_accuracy) {
    char acc[sizeof(double)];
    std::memcpy(acc, &accuracy_, sizeof(double));
    out.append(acc, sizeof(double));
  }
  put_varint(out, zero_count_);
  out += use_sparse ? sparse : dense;
  return out;
}

std::optional<LatencySketch> LatencySketch::decode(std::string_view in) {
  if (in.empty()) return std::nullopt;
  const auto header = static_cast<uint8_t>(in[0]);
  if ((header & 0x0f) != kVersion || (header & ~(0x0f | kSparse | kDefault)) != 0)
    return std::nullopt;
  in.remove_prefix(1);
  double accuracy = kDefaultAccuracy;
  if ((header & kDefault) == 0) {
    if (in.size() < sizeof(double)) return std::nullopt;
    std::memcpy(&accuracy, in.data(), sizeof(double));
    in.remove_prefix(sizeof(double));
    if (!(accuracy > 0 && accuracy < 0.5)) return std::nullopt;
  }
  LatencySketch s(accuracy);
  uint64_t zero = 0;
  // Counts beyond 2^53 lose precision as doubles in quantile(); no real history comes near
  // (a thousand samples a second for 280,000 years), so such bytes are not a sketch (fuzzing).
  static constexpr uint64_t kMaxCount = uint64_t{1} << 53;
  if (!get_varint(in, zero) || zero > kMaxCount) return std::nullopt;
  s.zero_count_ = zero;
  s.count_ = zero;
  auto add_count = [&s](int64_t index, uint64_t c) {
    if (index < -100'000 || index > 100'000 || c > kMaxCount || s.count_ + c > kMaxCount)
      return false;
    s.grow_to(static_cast<int32_t>(index));
    s.counts_[static_cast<size_t>(index - s.offset_)] += c;
    s.count_ += c;
    return s.counts_.size() <= kMaxBuckets;
  };
  if ((header & kSparse) != 0) {
    uint64_t n = 0;
    if (!get_varint(in, n) || n > kMaxBuckets || n * 2 > in.size()) return std::nullopt;
    int64_t index = 0;
    for (uint64_t k = 0; k < n; ++k) {
      uint64_t step = 0, c = 0;
      if (!get_varint(in, step) || !get_varint(in, c)) return std::nullopt;
      const int64_t delta = unzigzag(step);
      if (delta < -200'000 || delta > 200'000) return std::nullopt;  // beyond any bucket (fuzzing)
      index += delta;
      if (!add_count(index, c)) return std::nullopt;
    }
  } else {
    uint64_t offset = 0, n = 0;
    if (!get_varint(in, offset) || !get_varint(in, n)) return std::nullopt;
    if (n > kMaxBuckets || n > in.size()) return std::nullopt;  // each count takes at least a byte
    const int64_t first = unzigzag(offset);
    if (first < -100'000 || first > 100'000) return std::nullopt;
    for (uint64_t k = 0; k < n; ++k) {
      uint64_t c = 0;
      if (!get_varint(in, c) || !add_count(first + static_cast<int64_t>(k), c)) return std::nullopt;
    }
  }
  if (!in.empty()) return std::nullopt;
  return s;
}

bool LatencySketch::operator==(const LatencySketch& o) const {
  // Equal as multisets of buckets, whatever the padding of empty buckets.
  return accuracy_ == o.accuracy_ && count_ == o.count_ && zero_count_ == o.zero_count_ &&
         encode() == o.encode();
}

}  // namespace lookout
