// Heartbeat schedules: the first line is the schedule, a second line the time zone. Parsing
// never fails without a reason, and a parsed schedule's next and last firings around a few
// instants (two of them in a repeated hour of a fall-back) agree with each other.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/calendar.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t nl = input.find('\n');
  const std::string_view schedule = input.substr(0, nl);
  const std::string_view tz = nl == std::string_view::npos ? "" : input.substr(nl + 1);
  std::string error;
  const auto cal = lookout::Calendar::parse(schedule, tz, error);
  if (!cal) {
    if (error.empty()) __builtin_trap();
    return 0;
  }
  // 1970-01-01, 2026-03-29T00:30Z, 2026-10-25T01:10Z and 2026-11-01T06:15Z (the second
  // 02:10 in Berlin and 01:15 in New York), 2100-07-01, and 2199-12-31T12:00Z.
  for (const int64_t ms :
       {int64_t{0}, int64_t{1774744200000}, int64_t{1792890600000}, int64_t{1793513700000},
        int64_t{4118083200000}, int64_t{7258075200000}}) {
    const lookout::WallTime t = lookout::from_unix_ms(ms);
    const auto next = cal->next_after(t);
    const auto last = cal->last_at_or_before(t);
    if (next && (*next <= t || cal->last_at_or_before(*next) != next)) __builtin_trap();
    if (next && cal->next_after(*next - std::chrono::milliseconds{1}) != next) __builtin_trap();
    if (last && (*last > t || cal->next_after(*last) != next)) __builtin_trap();
  }
  return 0;
}
