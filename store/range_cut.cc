#include "store/range_cut.h"

#include <algorithm>
#include <array>

namespace lookout {
namespace {

constexpr std::array<int64_t, 3> kSizes{86'400'000, 3'600'000, 60'000};  // day, hour, minute

int64_t floor_to(int64_t t, int64_t size) {
  const int64_t r = t % size;
  return r < 0 ? t - r - size : t - r;
}

int64_t ceil_to(int64_t t, int64_t size) {
  const int64_t d = floor_to(t, size);
  return d == t ? t : d + size;
}

void cut(int level, int64_t from, int64_t to, const Watermarks& marks,
         std::vector<RangePiece>& out) {
  if (from >= to) return;
  if (level == static_cast<int>(CutLevel::kRaw)) {
    out.push_back({CutLevel::kRaw, from, to});
    return;
  }
  const int64_t size = kSizes[static_cast<size_t>(level)];
  const std::optional<int64_t> folded = level == 0   ? marks.day
                                        : level == 1 ? marks.hour
                                                     : marks.minute;
  const int64_t a = ceil_to(from, size);
  const int64_t b = folded ? std::min(floor_to(to, size), *folded) : a;
  if (a >= b) {
    cut(level + 1, from, to, marks, out);
    return;
  }
  out.push_back({static_cast<CutLevel>(level), a, b});
  cut(level + 1, from, a, marks, out);
  cut(level + 1, b, to, marks, out);
}

}  // namespace

std::vector<RangePiece> cut_range(int64_t from, int64_t to, const Watermarks& marks,
                                  CutLevel coarsest) {
  std::vector<RangePiece> out;
  cut(static_cast<int>(coarsest), from, to, marks, out);
  return out;
}

}  // namespace lookout
