#include "probes/probe.h"

#include "config/config.h"

namespace lookout {

const char* to_string(Outcome o) {
  switch (o) {
    case Outcome::kUp:
      return "up";
    case Outcome::kDegraded:
      return "degraded";
    case Outcome::kDown:
      return "down";
  }
  return "down";
}

const char* to_string(ErrorKind k) {
  switch (k) {
    case ErrorKind::kNone:
      return "none";
    case ErrorKind::kExpectation:
      return "expectation";
    case ErrorKind::kSlow:
      return "slow";
    case ErrorKind::kTimeout:
      return "timeout";
    case ErrorKind::kDns:
      return "dns";
    case ErrorKind::kNoRecords:
      return "no_records";
    case ErrorKind::kConnect:
      return "connect";
    case ErrorKind::kTls:
      return "tls";
    case ErrorKind::kRedirects:
      return "redirects";
    case ErrorKind::kBodyTooLarge:
      return "body_too_large";
    case ErrorKind::kProtocol:
      return "protocol";
    case ErrorKind::kCancelled:
      return "cancelled";
    case ErrorKind::kInternal:
      return "internal";
    case ErrorKind::kResources:
      return "resources";
    case ErrorKind::kLate:
      return "late";
    case ErrorKind::kJobFailed:
      return "job_failed";
    case ErrorKind::kRateLimited:
      return "rate_limited";
  }
  return "internal";
}

nlohmann::json ms_json(const std::optional<int64_t>& us) {
  if (!us) return nullptr;
  return static_cast<double>(*us) / 1000.0;
}

}  // namespace lookout
