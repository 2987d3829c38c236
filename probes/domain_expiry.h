// The verdict of a domain run as pure functions: a registration's expiry against the time now
// and the monitor's warn_within / fail_within, and what a run says when the registry
// rate-limited it. Also the date parsing that RDAP and WHOIS answers share.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "probes/probe.h"

namespace lookout {

struct DomainVerdict {
  Outcome outcome = Outcome::kUp;
  ErrorKind kind = ErrorKind::kNone;
  std::string cause;      // empty when up
  int64_t days_left = 0;  // whole days, rounded down (negative once expired)
};

// Up with more than warn_within left, degraded within it, down within fail_within or once
// expired: "registration expires in 5 days (2026-12-09)", "registration expired 3 days ago
// (2026-12-01)".
DomainVerdict judge_domain_expiry(WallTime expires, WallTime now, Duration warn_within,
                                  Duration fail_within);

// A registry answered with a rate limit (HTTP 429, a WHOIS "limit exceeded"): that says nothing
// about the domain. With an expiry known from an earlier run, the run is judged on it as it
// stands now; without one, it is degraded with a cause naming the registry and the next try,
// never down, so that a registry's limit pages nobody.
DomainVerdict judge_rate_limited(const std::optional<WallTime>& known_expiry, WallTime now,
                                 Duration warn_within, Duration fail_within, std::string_view by,
                                 WallTime next_try);

// The UTC calendar date, "2026-12-09".
std::string utc_date(WallTime t);
// A UTC time from calendar fields; nullopt when a field is out of range.
std::optional<WallTime> utc_time(int year, int month, int day, int hour = 0, int minute = 0,
                                 int second = 0);
// RFC 3339 as registries write it, leniently: "2027-08-13T04:00:00Z", with fractions or an
// offset, a space for the T, lower case, or the date alone (midnight UTC).
std::optional<WallTime> parse_registry_time(std::string_view s);

}  // namespace lookout
