// The one seam for time. Monotonic time drives intervals, timeouts and latency; wall time is
// what is stored and what people read. Tests replace the clock instead of sleeping.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace lookout {

using Duration = std::chrono::milliseconds;
using MonoTime = std::chrono::steady_clock::time_point;
using WallTime = std::chrono::system_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual MonoTime mono() const = 0;
  virtual WallTime wall() const = 0;
};

class SystemClock final : public Clock {
 public:
  MonoTime mono() const override { return std::chrono::steady_clock::now(); }
  WallTime wall() const override { return std::chrono::system_clock::now(); }
};

// Milliseconds since the Unix epoch, the unit stored in SQLite.
int64_t to_unix_ms(WallTime t);
WallTime from_unix_ms(int64_t ms);
// RFC 3339 UTC with milliseconds and Z, as every JSON time of the contract.
std::string rfc3339(WallTime t);
// "2026-12-01T02:00:00Z" or with an offset "+01:00" (fractions of a second are ignored); nullopt
// for anything else or a year outside 1970-2200.
std::optional<WallTime> parse_rfc3339(const std::string& text);

}  // namespace lookout
