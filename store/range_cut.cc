#include "store/range_cut.h"

#include <algorithm>
#include <array>

namespace lookout {
namespace {

constexpr std::array<int64_t, 3> kCutSizes{86'400'000, 3'600'000, 60'000};  // day, hour, minute

int64_t cut_align_up(int64_t t, int64_t size) {
  const int64_t d = align_down(t, size);
  return d == t ? t : d + size;
}

void cut_from(int level, int64_t from, int64_t to, const Watermarks& marks,
              std::vector<RangePiece>& out) {
  if (from >= to) return;
  if (level == static_cast<int>(CutLevel::kRaw)) {
    out.push_back({CutLevel::kRaw, from, to});
    return;
  }
  const int64_t size = kCutSizes[static_cast<size_t>(level)];
  const std::optional<int64_t> folded = level == 0   ? marks.day
                                        : level == 1 ? marks.hour
                                                     : marks.minute;
  const int64_t a = cut_align_up(from, size);
  const int64_t b = folded ? std::min(align_down(to, size), *folded) : a;
  if (a >= b) {
    cut_from(level + 1, from, to, marks, out);
    return;
  }
  out.push_back({static_cast<CutLevel>(level), a, b});
  cut_from(level + 1, from, a, marks, out);
  cut_from(level + 1, b, to, marks, out);
}

}  // namespace

std::vector<RangePiece> cut_range(int64_t from, int64_t to, const Watermarks& marks,
                                  CutLevel coarsest) {
  std::vector<RangePiece> out;
  cut_from(static_cast<int>(coarsest), from, to, marks, out);
  return out;
}

}  // namespace lookout
