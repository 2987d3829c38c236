// Spans in milliseconds and a fixed UTC midnight that the storage tests lay runs out from.
#pragma once

#include <cstdint>

namespace lookout::test {

inline constexpr int64_t kSec = 1'000, kMin = 60'000, kHour = 3'600'000, kDay = 86'400'000;
inline constexpr int64_t kBase = 1'790'000'000'000 - 1'790'000'000'000 % kDay;  // in 2026

}  // namespace lookout::test
