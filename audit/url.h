// URLs as the audit handles them, through libcurl's URL parser (no I/O).
#pragma once

#include <string>

namespace lookout::audit {

// A URL's parts; `ok` false when it does not parse. Absent parts are empty.
struct UrlParts {
  bool ok = false;
  std::string scheme, host, port, path, query;
};
UrlParts parse_url(const std::string& url);

// `ref` resolved against `base` (both URLs); empty when it cannot be.
std::string resolve_url(const std::string& base, const std::string& ref);

// `url` with its host replaced; empty when it does not parse.
std::string with_host(const std::string& url, const std::string& host);

// Scheme, host and port equal (default ports filled in, case ignored).
bool same_origin(const std::string& a, const std::string& b);

// An IPv4 or IPv6 address (without brackets), not a name.
bool is_address(const std::string& host);

}  // namespace lookout::audit
