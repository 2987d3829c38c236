// The dnssec monitor's verdict on what libunbound answered: bogus and insecure answers are
// down, a signed denial is down with its rcode, and a signature of the chain that expires
// within warn_within is degraded. Pure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "config/kinds/dnssec_spec.h"
#include "probes/probe.h"
#include "probes/rrsig_expiry.h"

namespace lookout {

// What libunbound said of the question (struct ub_result's fields).
struct DnssecAnswer {
  int rcode = 0;
  bool havedata = false;
  bool nxdomain = false;
  bool secure = false;
  bool bogus = false;
  std::string why_bogus;
};

struct DnssecVerdict {
  Outcome outcome = Outcome::kUp;
  ErrorKind kind = ErrorKind::kNone;
  std::string cause;
};

// "secure", "insecure" or "bogus".
const char* dnssec_security(const DnssecAnswer& a);
// "NOERROR", "SERVFAIL"... or "RCODE12".
std::string dnssec_rcode_name(int rcode);
// libunbound's why_bogus without the question it repeats ("validation failure <a.example. A
// IN>: signature expired ..." -> "signature expired ...").
std::string dnssec_bogus_reason(std::string_view why_bogus);
// "3 days 4 hours", "5 hours 12 minutes", "40 minutes": how long until `seconds` have passed.
std::string dnssec_time_left(int64_t seconds);

// `server` names the resolver in causes; `earliest` is the first signature of the answer and
// its chain to expire (nullopt when none was read); `now` in Unix seconds.
DnssecVerdict judge_dnssec(const DnssecSpec& spec, const DnssecAnswer& a,
                           const std::optional<RrsigRecord>& earliest, int64_t now,
                           const std::string& server);

}  // namespace lookout
