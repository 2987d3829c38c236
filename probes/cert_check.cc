#include "probes/cert_check.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <openssl/x509_vfy.h>

#include <cmath>

namespace lookout {
namespace {

std::string day(WallTime t) { return rfc3339(t).substr(0, 10); }

// RFC 3339 to the second: certificate times have no milliseconds.
std::string stamp(WallTime t) {
  std::string s = rfc3339(t);
  const auto dot = s.find('.');
  if (dot != std::string::npos) s.erase(dot, s.size() - 1 - dot);
  return s;
}

// "in 5 days", "in 20 hours", "3 days ago".
std::string relative(WallTime when, WallTime now) {
  const double hours =
      static_cast<double>(std::chrono::duration_cast<std::chrono::minutes>(when - now).count()) /
      60.0;
  const double h = std::fabs(hours);
  const std::string amount = h >= 48  ? fmt::format("{} days", std::llround(h / 24))
                             : h >= 1 ? fmt::format("{} hours", static_cast<int64_t>(h))
                                      : std::string("less than an hour");
  return hours >= 0 ? "in " + amount : amount + " ago";
}

std::string who(const CertInfo& c) {
  return fmt::format("subject {}, issuer {}", c.subject, c.issuer);
}

}  // namespace

CertVerdict judge_certificate(const CertCheck& check, const CertObservation& obs, WallTime now) {
  CertVerdict v;
  if (obs.chain.empty()) {
    v.outcome = Outcome::kDown;
    v.kind = ErrorKind::kTls;
    v.cause = fmt::format("no certificate from {}:{}", check.host, check.port);
    return v;
  }
  const CertInfo& leaf = obs.chain.front();
  for (const auto& c : obs.chain) {
    if (!v.not_after || c.not_after < *v.not_after) v.not_after = c.not_after;
  }
  const size_t depth = static_cast<size_t>(std::max(0, obs.error_depth));
  const CertInfo& at = depth < obs.chain.size() ? obs.chain[depth] : leaf;
  const std::string what =
      depth == 0
          ? fmt::format("certificate for {}", check.host)
          : fmt::format("intermediate certificate {} in the chain of {}", at.subject, check.host);
  v.outcome = Outcome::kDown;
  v.kind = ErrorKind::kTls;
  switch (obs.verify_error) {
    case X509_V_OK:
      break;
    case X509_V_ERR_CERT_HAS_EXPIRED:
      v.cause = fmt::format("{} expired {} ({}; {})", what, relative(at.not_after, now),
                            stamp(at.not_after), who(at));
      return v;
    case X509_V_ERR_CERT_NOT_YET_VALID:
      v.cause = fmt::format("{} is not valid yet: it starts {} ({}; {})", what,
                            relative(at.not_before, now), stamp(at.not_before), who(at));
      return v;
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
      v.cause = fmt::format("certificate for {} is self-signed and not trusted ({}, expires {})",
                            check.host, who(leaf), day(leaf.not_after));
      return v;
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
      v.cause = fmt::format(
          "certificate for {} is not trusted: its issuer {} is not in the trusted store ({}, "
          "expires {})",
          check.host, at.issuer, who(leaf), day(leaf.not_after));
      return v;
    default:
      v.cause = fmt::format("{} failed verification: {} ({}, expires {})", what,
                            obs.verify_error_text, who(at), day(at.not_after));
      return v;
  }
  if (!obs.name_ok) {
    v.cause = fmt::format(
        "certificate for {} does not name it: it names {} ({}, expires {})", check.host,
        obs.names.empty() ? std::string("nothing") : fmt::format("{}", fmt::join(obs.names, ", ")),
        who(leaf), day(leaf.not_after));
    return v;
  }
  // The earliest expiry of the verified chain counts: an intermediate that lapses first
  // breaks the site just the same.
  size_t first = 0;
  for (size_t i = 1; i < obs.chain.size(); ++i) {
    if (obs.chain[i].not_after < obs.chain[first].not_after) first = i;
  }
  const CertInfo& soonest = obs.chain[first];
  const std::string name = first == 0
                               ? fmt::format("certificate for {}", check.host)
                               : fmt::format("intermediate certificate {} in the chain of {}",
                                             soonest.subject, check.host);
  const auto left = std::chrono::duration_cast<Duration>(soonest.not_after - now);
  if (left < check.fail_within) {
    v.outcome = Outcome::kDown;
    v.kind = ErrorKind::kExpectation;
  } else if (left < check.warn_within) {
    v.outcome = Outcome::kDegraded;
    v.kind = ErrorKind::kExpectation;
  } else {
    v.outcome = Outcome::kUp;
    v.kind = ErrorKind::kNone;
    return v;
  }
  v.cause = fmt::format("{} expires {} ({})", name, relative(soonest.not_after, now),
                        stamp(soonest.not_after));
  if (first != 0) v.cause += fmt::format("; issuer {}", soonest.issuer);
  return v;
}

}  // namespace lookout
