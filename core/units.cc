#include "core/units.h"

#include <fmt/format.h>

#include <array>
#include <cctype>
#include <limits>
#include <utility>

namespace lookout {
namespace {

struct Unit {
  std::string_view name;
  int64_t factor;
};

bool read_number(std::string_view text, size_t& i, uint64_t& out) {
  const size_t start = i;
  out = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
    const uint64_t digit = static_cast<uint64_t>(text[i] - '0');
    if (out > (std::numeric_limits<uint64_t>::max() - digit) / 10) return false;
    out = out * 10 + digit;
    ++i;
  }
  return i > start;
}

}  // namespace

DurationParse parse_duration(std::string_view text) {
  static constexpr std::array<Unit, 5> kUnits{
      {{"ms", 1}, {"s", 1000}, {"m", 60'000}, {"h", 3'600'000}, {"d", 86'400'000}}};
  const std::string hint = "use a number with a unit: ms, s, m, h or d, as in \"30s\" or \"1h30m\"";
  if (text.empty()) return {std::nullopt, "empty duration; " + hint};
  size_t i = 0;
  int64_t total = 0;
  while (i < text.size()) {
    uint64_t n = 0;
    if (!read_number(text, i, n)) {
      return {std::nullopt, fmt::format("invalid duration \"{}\"; {}", text, hint)};
    }
    size_t j = i;
    while (j < text.size() && std::isalpha(static_cast<unsigned char>(text[j]))) ++j;
    const std::string_view unit = text.substr(i, j - i);
    if (unit.empty()) {
      return {std::nullopt,
              fmt::format("duration \"{}\" has a number without a unit; {}", text, hint)};
    }
    const Unit* found = nullptr;
    for (const auto& u : kUnits) {
      if (u.name == unit) found = &u;
    }
    if (found == nullptr) {
      return {std::nullopt,
              fmt::format("unknown unit \"{}\" in duration \"{}\"; {}", unit, text, hint)};
    }
    constexpr int64_t kMax = int64_t{100} * 365 * 86'400'000;  // a century is surely a typo
    if (n > static_cast<uint64_t>(kMax / found->factor) ||
        total + static_cast<int64_t>(n) * found->factor > kMax) {
      return {std::nullopt, fmt::format("duration \"{}\" is too long", text)};
    }
    total += static_cast<int64_t>(n) * found->factor;
    i = j;
  }
  return {Duration{total}, {}};
}

std::string format_duration(Duration d) {
  int64_t ms = d.count();
  if (ms == 0) return "0s";
  std::string out;
  if (ms < 0) {
    out = "-";
    ms = -ms;
  }
  static constexpr std::array<Unit, 5> kDown{
      {{"d", 86'400'000}, {"h", 3'600'000}, {"m", 60'000}, {"s", 1000}, {"ms", 1}}};
  for (const auto& u : kDown) {
    if (ms >= u.factor) {
      out += fmt::format("{}{}", ms / u.factor, u.name);
      ms %= u.factor;
    }
  }
  return out;
}

SizeParse parse_size(std::string_view text) {
  static constexpr std::array<Unit, 7> kUnits{{{"B", 1},
                                               {"KB", 1000},
                                               {"MB", 1'000'000},
                                               {"GB", 1'000'000'000},
                                               {"KiB", 1024},
                                               {"MiB", 1024 * 1024},
                                               {"GiB", 1024 * 1024 * 1024}}};
  const std::string hint =
      "use a number with a unit: B, KiB, MiB, GiB, KB, MB or GB, as in \"64KiB\"";
  size_t i = 0;
  uint64_t n = 0;
  if (!read_number(text, i, n))
    return {std::nullopt, fmt::format("invalid size \"{}\"; {}", text, hint)};
  const std::string_view unit = text.substr(i);
  for (const auto& u : kUnits) {
    if (u.name == unit) {
      if (n > std::numeric_limits<uint64_t>::max() / static_cast<uint64_t>(u.factor)) {
        return {std::nullopt, fmt::format("size \"{}\" is too large", text)};
      }
      return {n * static_cast<uint64_t>(u.factor), {}};
    }
  }
  if (unit.empty()) return {std::nullopt, fmt::format("size \"{}\" has no unit; {}", text, hint)};
  return {std::nullopt, fmt::format("unknown unit \"{}\" in size \"{}\"; {}", unit, text, hint)};
}

std::string format_size(uint64_t bytes) {
  static constexpr std::array<std::pair<std::string_view, uint64_t>, 3> kUnits{
      {{"GiB", 1024ull * 1024 * 1024}, {"MiB", 1024ull * 1024}, {"KiB", 1024}}};
  for (const auto& [name, factor] : kUnits) {
    if (bytes >= factor && bytes % factor == 0) return fmt::format("{}{}", bytes / factor, name);
  }
  return fmt::format("{}B", bytes);
}

}  // namespace lookout
