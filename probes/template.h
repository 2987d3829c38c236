// {{name}} substitution for journey steps, and the escaping each place needs: URL-encoded in
// URLs and forms, JSON-escaped inside JSON strings, as is in headers and raw bodies. Pure.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace lookout {

enum class Escape { kNone, kUrl, kJson };

// Unknown names are left as written (the config check refuses them before a run).
std::string render_template(std::string_view text, const std::map<std::string, std::string>& vars,
                            Escape escape);

// Percent-encoding of everything but RFC 3986's unreserved characters.
std::string url_encode(std::string_view s);

// application/x-www-form-urlencoded from name/value pairs.
std::string form_encode(const std::vector<std::pair<std::string, std::string>>& fields);

}  // namespace lookout
