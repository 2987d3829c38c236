// The audit's scorecard as people and programs read it.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "audit/audit.h"

namespace lookout::audit {

// One row per check (result, check, pass criteria, evidence), with why it matters and how to
// fix it under each failed or warned row, wrapped to `width` columns; a count at the end.
std::string render_table(const AuditReport& r, size_t width);

// {"url", "checks": [{"id", "title", "result", "criteria", "evidence", "why", "fix"}], "summary"}
nlohmann::json to_json(const AuditReport& r);

// Words of `text` in lines of at most `width` characters (a longer word is cut).
std::vector<std::string> wrap(std::string_view text, size_t width);

}  // namespace lookout::audit
