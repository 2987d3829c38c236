// When a heartbeat's job runs: a 5-field cron line or a systemd OnCalendar expression, read
// on the wall clock of an IANA time zone. Pure but for /usr/share/zoneinfo, which the date
// library reads: its list of zones at the first parse that names one, a zone's file when that
// zone is first used.
#pragma once

#include <bitset>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"

namespace date {
class time_zone;
}

namespace lookout {

// A schedule of whole minutes on a zone's wall clock.
//
// Accepted (docs/configuration.md lists them with examples):
// - cron: "MIN HOUR DOM MONTH DOW" with `*`, lists, ranges, steps (`*/15`, `10-50/10`), month
//   and weekday names (jan, sun: three letters, any case), 0 and 7 for Sunday, and the macros
//   @hourly @daily @midnight @weekly @monthly @yearly @annually. As in Vixie cron and cronie,
//   when DOM and DOW both start with something other than `*`, a day matches when EITHER
//   matches; otherwise both must.
// - OnCalendar: `[WEEKDAYS] [[YEAR-]MONTH-DAY] [HOUR:MINUTE[:00]]`, each component with `*`,
//   lists, `a..b` ranges and `/` steps, weekdays as names (`Mon..Fri`, `Sat,Sun`); and
//   minutely, hourly, daily, weekly, monthly, quarterly, semiannually, yearly, annually.
//   Weekdays and date must both match, as in systemd. Seconds must be 0.
// Refused, with an error naming the part: anything else, including `N/S` in cron (crons
// disagree on its meaning), `~` (days before the month's end), a zone inside the expression
// (it goes in `tz`), and a schedule that can never fire, such as February 30.
//
// Daylight saving time, as cronie runs jobs: a wall time that does not exist (skipped by a
// spring-forward, 02:30 on 2026-03-29 in Europe/Berlin) fires at the first instant after the
// gap (03:00 CEST); a wall time that occurs twice (02:30 on 2026-10-25 in Europe/Berlin) fires
// once, at its first occurrence (02:30 CEST). So several wall times may fire at one instant
// (all of 02:00-02:59 at 03:00 after a spring-forward), and each instant counts once.
//
// Years 1970 to 2199 (as systemd). The date library reads the zone files as Debian ships
// them, which list transitions up to 2037 and leave later ones to a rule it does not apply:
// after 2037 every zone keeps the offset of its last listed transition.
class Calendar {
 public:
  // An empty `tz` is UTC. On failure returns nothing and says why in `error`.
  static std::optional<Calendar> parse(std::string_view schedule, std::string_view tz,
                                       std::string& error);

  // The first firing strictly after `t`. Nothing when the schedule fires no more (its years
  // have passed). Walks year, month, day, hour and minute by their sets, never minute by
  // minute: a few microseconds for any schedule.
  std::optional<WallTime> next_after(WallTime t) const;
  // The last firing at or before `t`, nothing before the first one. Together with
  // next_after: no firing lies strictly between last_at_or_before(t) and next_after(t). A
  // heartbeat is late once next_after(its last ping) + grace has passed; last_at_or_before
  // names the run that a ping answers.
  std::optional<WallTime> last_at_or_before(WallTime t) const;

  static constexpr int kFirstYear = 1970;
  static constexpr int kLastYear = 2199;

 private:
  Calendar() = default;

  // Wall-clock times are minutes since 1970-01-01 00:00 on the zone's clock.
  bool day_matches(int year, unsigned month, unsigned day) const;
  std::optional<std::chrono::minutes> first_match_from(std::chrono::minutes wall) const;
  std::optional<std::chrono::minutes> last_match_upto(std::chrono::minutes wall) const;

  // Bit i set: value i fires. Weekdays 0..6 from Sunday.
  uint64_t minutes_ = 0;
  uint64_t hours_ = 0;
  uint64_t days_ = 0;    // bits 1..31
  uint64_t months_ = 0;  // bits 1..12
  uint64_t weekdays_ = 0;
  std::bitset<kLastYear - kFirstYear + 1> years_;
  // Vixie cron's rule: both day fields restricted, either one fires.
  bool day_or_ = false;
  const date::time_zone* zone_ = nullptr;  // nullptr: UTC, without the database
};

}  // namespace lookout
