// The expect.* checks of an http monitor as pure functions: a response in, a verdict out.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "config/http_request.h"
#include "core/clock.h"
#include "probes/probe.h"

namespace lookout {

struct HttpObservation {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // of the final response
  std::string body;
  Duration total{0};
};

struct Verdict {
  Outcome outcome = Outcome::kUp;
  ErrorKind kind = ErrorKind::kNone;
  std::string cause;
};

// Every failed expectation is named in the cause ("; "-joined), the first one first.
Verdict evaluate(const HttpExpect& expect, const HttpObservation& obs);

// "200", "2xx", "200 or 2xx" as people write them.
std::string describe_status(const std::vector<StatusRule>& rules);

}  // namespace lookout
