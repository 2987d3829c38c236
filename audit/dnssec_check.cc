#include "audit/dnssec_check.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

namespace lookout::audit {

CheckResult judge_dnssec(const ProbeResult& run, const std::string& host) {
  std::string security;
  const auto detail = nlohmann::json::parse(run.detail, nullptr, false);
  if (detail.is_object() && detail.contains("security") && detail["security"].is_string())
    security = detail["security"].get<std::string>();
  if (security == "secure") {
    // A signed denial (no A record at the host) still proves the chain of trust.
    if (run.outcome == Outcome::kDegraded) return make_check("dnssec", Result::kWarn, run.cause);
    return make_check("dnssec", Result::kPass,
                      fmt::format("{} validates from the root's trust anchor", host));
  }
  if (security == "insecure")
    return make_check("dnssec", Result::kSkipped, fmt::format("{} is not signed", host));
  if (security == "bogus") {
    // The root's own keys did not come back: the resolver passes no DNSSEC records (or refuses
    // the root), which says nothing about the host's zone.
    if (run.cause.find("for trust anchor . ") != std::string::npos)
      return make_check("dnssec", Result::kWarn,
                        fmt::format("not validated: the resolver passes no DNSSEC records for the "
                                    "root ({})",
                                    run.cause));
    return make_check("dnssec", Result::kFail, run.cause);
  }
  return make_check("dnssec", Result::kWarn, fmt::format("not validated: {}", run.cause));
}

}  // namespace lookout::audit
