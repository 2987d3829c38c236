// Parsing and printing of the config's durations ("1h30m") and sizes ("64KiB"). Pure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"

namespace lookout {

// On failure the error says what is wrong with the text, for a config message.
struct DurationParse {
  std::optional<Duration> value;
  std::string error;
};
DurationParse parse_duration(std::string_view text);
// "1h30m", "250ms", "0s": the shortest exact spelling.
std::string format_duration(Duration d);

struct SizeParse {
  std::optional<uint64_t> bytes;
  std::string error;
};
SizeParse parse_size(std::string_view text);
std::string format_size(uint64_t bytes);

}  // namespace lookout
