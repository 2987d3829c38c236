// How a range of history is cut into rolled-up buckets and raw rows, for every engine that reads
// it: whole days below the day watermark, then whole hours below the hour watermark, then whole
// minutes below the minute watermark, raw runs for the rest. SQLite's HistoryReader cuts by the
// database's watermarks, PostgreSQL's reads by those of the monitor's shard, so both answer the
// same buckets from the same runs. Pure (the watermarks are rollup.h's).
#pragma once

#include <cstdint>
#include <vector>

#include "store/rollup.h"

namespace lookout {

// What to read of a range: [from, to) of one level.
enum class CutLevel { kDay = 0, kHour = 1, kMinute = 2, kRaw = 3 };
struct RangePiece {
  CutLevel level;
  int64_t from, to;
};

// The pieces of [from, to), in no particular order; empty when from >= to. `coarsest` is the
// first level tried (kDay: all of them).
std::vector<RangePiece> cut_range(int64_t from, int64_t to, const Watermarks& marks,
                                  CutLevel coarsest = CutLevel::kDay);

}  // namespace lookout
