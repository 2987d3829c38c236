#include "core/clock.h"

#include <fmt/format.h>

#include <ctime>

namespace lookout {

int64_t to_unix_ms(WallTime t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

WallTime from_unix_ms(int64_t ms) { return WallTime{std::chrono::milliseconds{ms}}; }

std::string rfc3339(WallTime t) {
  const int64_t ms = to_unix_ms(t);
  int64_t secs = ms / 1000;
  int64_t rem = ms % 1000;
  if (rem < 0) {
    rem += 1000;
    secs -= 1;
  }
  const std::time_t tt = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, rem);
}

std::optional<WallTime> parse_rfc3339(const std::string& text) {
  std::tm tm{};
  const char* rest = strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (rest == nullptr) return std::nullopt;
  int64_t offset_s = 0;
  if (*rest == '.') {
    ++rest;
    while (*rest >= '0' && *rest <= '9') ++rest;
  }
  if (*rest == 'Z' || *rest == 'z') {
    ++rest;
  } else if (*rest == '+' || *rest == '-') {
    // Exactly +hh:mm.
    auto digit = [](char c) { return c >= '0' && c <= '9'; };
    if (!digit(rest[1]) || !digit(rest[2]) || rest[3] != ':' || !digit(rest[4]) || !digit(rest[5]))
      return std::nullopt;
    const int h = (rest[1] - '0') * 10 + (rest[2] - '0');
    const int m = (rest[4] - '0') * 10 + (rest[5] - '0');
    if (h > 23 || m > 59) return std::nullopt;
    offset_s = (h * 3600 + m * 60) * (*rest == '+' ? 1 : -1);
    rest += 6;
  } else {
    return std::nullopt;
  }
  if (*rest != '\0') return std::nullopt;
  // The clock counts nanoseconds in 64 bits (years 1678 to 2261); a maintenance window is
  // planned within this range.
  if (tm.tm_year < 70 || tm.tm_year > 300) return std::nullopt;
  return WallTime{std::chrono::seconds{static_cast<int64_t>(timegm(&tm)) - offset_s}};
}

}  // namespace lookout
