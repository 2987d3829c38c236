// Array parameters of statements, as PostgreSQL reads them from text. Pure.
#pragma once

#include <string>
#include <vector>

namespace lookout {

// A text[] parameter with every element quoted, so that no element reads as NULL or splits.
std::string pg_text_array(const std::vector<std::string>& items);

}  // namespace lookout
