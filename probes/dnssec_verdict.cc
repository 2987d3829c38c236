#include "probes/dnssec_verdict.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <chrono>

namespace lookout {
namespace {

std::string dnssec_plural(int64_t n, const char* unit) {
  return fmt::format("{} {}{}", n, unit, n == 1 ? "" : "s");
}

}  // namespace

const char* dnssec_security(const DnssecAnswer& a) {
  if (a.bogus) return "bogus";
  return a.secure ? "secure" : "insecure";
}

std::string dnssec_rcode_name(int rcode) {
  static const char* const kNames[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
                                       "NOTIMP",  "REFUSED", "YXDOMAIN", "YXRRSET",
                                       "NXRRSET", "NOTAUTH", "NOTZONE"};
  if (rcode >= 0 && rcode < static_cast<int>(std::size(kNames))) return kNames[rcode];
  return fmt::format("RCODE{}", rcode);
}

std::string dnssec_bogus_reason(std::string_view why) {
  constexpr std::string_view kPrefix = "validation failure <";
  if (why.substr(0, kPrefix.size()) == kPrefix) {
    const auto end = why.find(">: ");
    if (end != std::string_view::npos) why.remove_prefix(end + 3);
  }
  while (!why.empty() && (why.back() == ' ' || why.back() == '\n')) why.remove_suffix(1);
  return why.empty() ? "the answer failed validation" : std::string(why);
}

std::string dnssec_time_left(int64_t s) {
  if (s <= 0) return "no time (it has expired)";
  const int64_t days = s / 86'400;
  const int64_t hours = s % 86'400 / 3'600;
  const int64_t minutes = s % 3'600 / 60;
  if (days > 0) {
    return hours > 0 ? dnssec_plural(days, "day") + " " + dnssec_plural(hours, "hour")
                     : dnssec_plural(days, "day");
  }
  if (hours > 0) {
    return minutes > 0 ? dnssec_plural(hours, "hour") + " " + dnssec_plural(minutes, "minute")
                       : dnssec_plural(hours, "hour");
  }
  return minutes > 0 ? dnssec_plural(minutes, "minute") : "less than a minute";
}

DnssecVerdict judge_dnssec(const DnssecSpec& spec, const DnssecAnswer& a,
                           const std::optional<RrsigRecord>& earliest, int64_t now,
                           const std::string& server) {
  DnssecVerdict v;
  const std::string what = fmt::format("{} {}", spec.record_name, spec.query);
  auto down = [&](ErrorKind kind, std::string cause) {
    v.outcome = Outcome::kDown;
    v.kind = kind;
    v.cause = std::move(cause);
    return v;
  };
  // A failed validation is what the monitor is for: it comes before any rcode (libunbound
  // answers SERVFAIL for a bogus answer).
  if (a.bogus) return down(ErrorKind::kExpectation, "bogus: " + dnssec_bogus_reason(a.why_bogus));
  if (a.rcode != 0 && a.rcode != 3) {
    if (a.rcode == 2) {
      return down(ErrorKind::kDns, fmt::format("SERVFAIL: no answer for {} from {}", what, server));
    }
    if (a.rcode == 5) {
      return down(ErrorKind::kDns, fmt::format("REFUSED: {} will not answer {}", server, what));
    }
    return down(ErrorKind::kDns,
                fmt::format("{} from {} for {}", dnssec_rcode_name(a.rcode), server, what));
  }
  if (!a.secure) {
    return down(ErrorKind::kExpectation,
                fmt::format("insecure: no DNSSEC chain of trust for {} (no trust anchor above it, "
                            "or a parent zone proves it unsigned)",
                            spec.query));
  }
  if (a.nxdomain || a.rcode == 3) {
    return down(ErrorKind::kNoRecords,
                fmt::format("NXDOMAIN: {} does not exist (a signed denial)", spec.query));
  }
  if (!a.havedata) {
    return down(ErrorKind::kNoRecords,
                fmt::format("no {} records for {} (the name exists; a signed denial)",
                            spec.record_name, spec.query));
  }
  const int64_t warn_s = std::chrono::duration_cast<std::chrono::seconds>(spec.warn_within).count();
  if (warn_s > 0 && earliest && earliest->expiration - now < warn_s) {
    v.outcome = Outcome::kDegraded;
    v.kind = ErrorKind::kExpectation;
    const std::time_t at = earliest->expiration;
    v.cause = fmt::format(
        "the signature of {} {} by {} (key {}) expires in {} ({:%Y-%m-%d %H:%M} UTC)",
        earliest->owner, rr_type_name(earliest->type_covered), earliest->signer, earliest->key_tag,
        dnssec_time_left(earliest->expiration - now), fmt::gmtime(at));
  }
  return v;
}

}  // namespace lookout
