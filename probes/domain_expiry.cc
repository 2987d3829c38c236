#include "probes/domain_expiry.h"

#include <fmt/format.h>

#include <cctype>

namespace lookout {
namespace {

// RFC 3339 to the second: registries give no milliseconds.
std::string domain_stamp(WallTime t) {
  std::string s = rfc3339(t);
  const auto dot = s.find('.');
  if (dot != std::string::npos) s.erase(dot, s.size() - 1 - dot);
  return s;
}

std::string domain_days(int64_t n) {
  if (n == 0) return "less than a day";
  return fmt::format("{} day{}", n, n == 1 ? "" : "s");
}

// `n` digits at `pos` as a number; advances `pos`.
std::optional<int> domain_digits(std::string_view s, size_t& pos, size_t n) {
  if (pos + n > s.size()) return std::nullopt;
  int v = 0;
  for (size_t i = 0; i < n; ++i) {
    const char c = s[pos + i];
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  pos += n;
  return v;
}

}  // namespace

std::string utc_date(WallTime t) { return rfc3339(t).substr(0, 10); }

std::optional<WallTime> utc_time(int year, int month, int day, int hour, int minute, int second) {
  using namespace std::chrono;
  // WallTime counts nanoseconds in 64 bits, which end in 2262; no registration runs that far.
  if (year < 1970 || year > 2200 || hour < 0 || hour > 23 || minute < 0 || minute > 59 ||
      second < 0 || second > 60) {
    return std::nullopt;
  }
  const year_month_day ymd{std::chrono::year{year},
                           std::chrono::month{static_cast<unsigned>(month)},
                           std::chrono::day{static_cast<unsigned>(day)}};
  if (month < 1 || month > 12 || day < 1 || !ymd.ok()) return std::nullopt;
  return WallTime{sys_days{ymd}.time_since_epoch() + hours{hour} + minutes{minute} +
                  seconds{second}};
}

std::optional<WallTime> parse_registry_time(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  size_t pos = 0;
  const auto y = domain_digits(s, pos, 4);
  if (!y || pos >= s.size() || s[pos++] != '-') return std::nullopt;
  const auto mo = domain_digits(s, pos, 2);
  if (!mo || pos >= s.size() || s[pos++] != '-') return std::nullopt;
  const auto d = domain_digits(s, pos, 2);
  if (!d) return std::nullopt;
  int h = 0, mi = 0, se = 0;
  int offset_min = 0;
  if (pos < s.size() && (s[pos] == 'T' || s[pos] == 't' || s[pos] == ' ') && pos + 1 < s.size() &&
      std::isdigit(static_cast<unsigned char>(s[pos + 1]))) {
    ++pos;
    const auto hh = domain_digits(s, pos, 2);
    if (!hh || pos >= s.size() || s[pos++] != ':') return std::nullopt;
    const auto mm = domain_digits(s, pos, 2);
    if (!mm) return std::nullopt;
    h = *hh;
    mi = *mm;
    if (pos < s.size() && s[pos] == ':') {
      ++pos;
      const auto ss = domain_digits(s, pos, 2);
      if (!ss) return std::nullopt;
      se = *ss;
    }
    if (pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {
      ++pos;
      while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) ++pos;
    }
    if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
      const int sign = s[pos] == '-' ? -1 : 1;
      ++pos;
      const auto oh = domain_digits(s, pos, 2);
      if (!oh) return std::nullopt;
      if (pos < s.size() && s[pos] == ':') ++pos;
      const auto om = domain_digits(s, pos, 2);
      if (!om || *oh > 23 || *om > 59) return std::nullopt;
      offset_min = sign * (*oh * 60 + *om);
    }
  }
  auto t = utc_time(*y, *mo, *d, h, mi, se);
  if (!t) return std::nullopt;
  return *t - std::chrono::minutes{offset_min};
}

DomainVerdict judge_domain_expiry(WallTime expires, WallTime now, Duration warn_within,
                                  Duration fail_within) {
  DomainVerdict v;
  const auto left = expires - now;
  v.days_left = std::chrono::floor<std::chrono::days>(left).count();
  const std::string date = utc_date(expires);
  if (left <= WallTime::duration::zero()) {
    v.outcome = Outcome::kDown;
    v.kind = ErrorKind::kExpectation;
    const int64_t ago = std::chrono::floor<std::chrono::days>(now - expires).count();
    v.cause = fmt::format("registration expired {} ago ({})", domain_days(ago), date);
    return v;
  }
  if (left < warn_within) {
    v.outcome = left < fail_within ? Outcome::kDown : Outcome::kDegraded;
    v.kind = ErrorKind::kExpectation;
    v.cause = fmt::format("registration expires in {} ({})", domain_days(v.days_left), date);
  }
  return v;
}

DomainVerdict judge_rate_limited(const std::optional<WallTime>& known_expiry, WallTime now,
                                 Duration warn_within, Duration fail_within, std::string_view by,
                                 WallTime next_try) {
  if (known_expiry) return judge_domain_expiry(*known_expiry, now, warn_within, fail_within);
  DomainVerdict v;
  v.outcome = Outcome::kDegraded;
  v.kind = ErrorKind::kRateLimited;
  v.cause = fmt::format("rate-limited by {}; next try after {}", by, domain_stamp(next_try));
  return v;
}

}  // namespace lookout
