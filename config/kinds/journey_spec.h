// The journey kind: steps of requests run in order, each taking values from its answer for
// the steps after it (probes/journey_probe).
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "config/config.h"
#include "config/http_request.h"

namespace lookout {

// One value a journey step takes from its response, for later steps as {{name}}.
struct Extract {
  enum class From { kJson, kRegex, kHeader, kCookie };
  std::string name;
  From from = From::kJson;
  std::string what;  // pointer, pattern, header or cookie name
  Pattern regex;
  bool operator==(const Extract&) const = default;
};

struct JourneyStep {
  std::string name;
  HttpRequest request;  // url, headers and body may hold {{name}} templates
  enum class Body { kNone, kRaw, kForm, kJson } body_kind = Body::kNone;
  std::vector<std::pair<std::string, Secret>> form;  // form fields (values are templates)
  std::optional<Duration> timeout;
  HttpExpect expect;
  std::vector<Extract> extracts;
  bool operator==(const JourneyStep&) const = default;
};

struct JourneySpec : SpecOf<JourneySpec> {
  HttpRequest http;  // the options every step shares: ca_file, insecure, redirects, max_body
  std::vector<JourneyStep> steps;
  bool insecure() const override { return http.insecure; }
  bool operator==(const JourneySpec&) const = default;
};

}  // namespace lookout
