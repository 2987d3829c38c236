// The judges of the audit's web checks: what came back from the app in, a scorecard line out.
// Pure, so each verdict is tested on hand-made answers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "audit/check.h"
#include "probes/http_expect.h"

namespace lookout::audit {

// One request of the audit and what came of it.
struct Fetched {
  std::string url;
  bool responded = false;
  HttpObservation obs;  // status, headers and (bounded) body when responded
  std::string cause;    // why not, when !responded
  bool body_too_large = false;
  PhaseTimings timings;
};

// Every value of a header (case-insensitive name), in order.
std::vector<std::string> header_values(const HttpObservation& obs, std::string_view name);

// `http` was fetched without following redirects; the Location must be https:// on `host`
// (or on its www. twin).
CheckResult judge_redirect(const Fetched& http, const std::string& host, bool www);

CheckResult judge_hsts(const HttpObservation& page);
CheckResult judge_csp(const HttpObservation& page);
CheckResult judge_nosniff(const HttpObservation& page);
CheckResult judge_frame_protection(const HttpObservation& page);
CheckResult judge_referrer_policy(const HttpObservation& page);
CheckResult judge_version_leak(const HttpObservation& page);
// `page` was asked for with an Origin header of `origin`, an origin the app cannot know.
CheckResult judge_cors(const HttpObservation& page, const std::string& origin);

// Set-Cookie lines with the URL that sent them.
struct SeenCookie {
  std::string url;
  std::string line;
};
CheckResult judge_cookies(const std::vector<SeenCookie>& cookies, int responses_seen);

// A private route asked for without credentials and without following redirects.
CheckResult judge_private_route(const std::string& path, const Fetched& f);
// What in a refusal's body is data it should not hold: an address, a secret, a stack trace.
std::optional<std::string> refusal_leak(std::string_view body);

// Whether `f` serves the file at `path`, given the answer to a path that cannot exist (`control`),
// so a catch-all page is not mistaken for the file; the evidence when it does.
std::optional<std::string> exposed_file(const std::string& path, const Fetched& f,
                                        const Fetched& control);
// A source map: a JSON object with "mappings".
bool is_source_map(const Fetched& f);

// p95 by nearest rank of the samples (microseconds) against the budget.
CheckResult judge_latency(const std::vector<int64_t>& samples_us, int64_t budget_us, int wanted);

// The answers to a burst of failed sign-ins, in order: status and time.
struct Attempt {
  int status = 0;  // 0: no answer
  int64_t total_us = 0;
  bool retry_after = false;
};
CheckResult judge_rate_limit(const std::string& path, const std::vector<Attempt>& attempts);

}  // namespace lookout::audit
