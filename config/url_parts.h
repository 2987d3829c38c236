// A monitor's URL of any scheme (grpc://, ws://...) split by libcurl's URL parser, no I/O: the
// kinds check their URLs' parts with it rather than each driving the parser.
#pragma once

#include <string>

namespace lookout {

// Absent parts are empty; `ok` false when the URL does not parse.
struct UrlParts {
  bool ok = false;
  std::string host, port, path, query, user;
};
UrlParts split_url(const std::string& url);

}  // namespace lookout
