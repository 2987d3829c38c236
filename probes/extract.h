// What a journey step takes from its response for later steps: a JSON Pointer into the body,
// the first group of an RE2 pattern, a response header or a cookie. Pure.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "config/kinds/journey_spec.h"
#include "probes/http_expect.h"

namespace lookout {

// The value, or nullopt with `why` saying what was missing (never the value itself).
std::optional<std::string> extract_value(
    const Extract& x, const HttpObservation& obs,
    const std::vector<std::pair<std::string, std::string>>& cookies, std::string& why);

// Cookies of libcurl's jar (CURLINFO_COOKIELIST lines, Netscape format) as name/value pairs.
std::vector<std::pair<std::string, std::string>> parse_cookie_lines(
    const std::vector<std::string>& lines);

}  // namespace lookout
