// Array parameters of statements, as PostgreSQL reads them from text. Pure.
#pragma once

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <string>
#include <vector>

namespace lookout {

// A text[] parameter with every element quoted, so that no element reads as NULL or splits.
std::string pg_text_array(const std::vector<std::string>& items);
// A smallint[], int[] or bigint[] parameter.
template <typename Int>
std::string pg_int_array(const std::vector<Int>& items) {
  return fmt::format("{{{}}}", fmt::join(items, ","));
}

}  // namespace lookout
