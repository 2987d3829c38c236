#include "core/calendar.h"

#include <date/date.h>
#include <date/tz.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <vector>

namespace lookout {
namespace {

using std::chrono::minutes;

// "2026-03-29T01:00:00Z" (seconds optional).
WallTime at(const char* rfc3339) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  const int n = std::sscanf(rfc3339, "%d-%d-%dT%d:%d:%d", &y, &mo, &d, &h, &mi, &s);
  EXPECT_GE(n, 5) << rfc3339;
  const date::sys_days day{date::year{y} / mo / d};
  return WallTime{
      (day + std::chrono::hours{h} + minutes{mi} + std::chrono::seconds{s}).time_since_epoch()};
}

std::string utc(std::optional<WallTime> t) {
  if (!t) return "never";
  return date::format("%FT%TZ", date::floor<std::chrono::seconds>(*t));
}

Calendar calendar(const char* schedule, const char* tz = "") {
  std::string error;
  auto cal = Calendar::parse(schedule, tz, error);
  EXPECT_TRUE(cal) << schedule << " " << tz << ": " << error;
  EXPECT_TRUE(error.empty()) << error;
  return cal ? *cal : *Calendar::parse("* * * * *", "", error);
}

struct Row {
  const char* schedule;
  const char* tz;
  const char* from;
  const char* expected;  // in UTC
};

void check_next(const std::vector<Row>& rows) {
  for (const auto& r : rows) {
    const Calendar cal = calendar(r.schedule, r.tz);
    EXPECT_EQ(utc(cal.next_after(at(r.from))), r.expected)
        << r.schedule << " in " << (*r.tz ? r.tz : "UTC") << " after " << r.from;
  }
}

void check_last(const std::vector<Row>& rows) {
  for (const auto& r : rows) {
    const Calendar cal = calendar(r.schedule, r.tz);
    EXPECT_EQ(utc(cal.last_at_or_before(at(r.from))), r.expected)
        << r.schedule << " in " << (*r.tz ? r.tz : "UTC") << " at or before " << r.from;
  }
}

TEST(Calendar, CronFields) {
  check_next({
      {"* * * * *", "", "2026-05-03T12:00:30Z", "2026-05-03T12:01:00Z"},
      {"* * * * *", "", "2026-05-03T12:00:00Z", "2026-05-03T12:01:00Z"},
      {"*/15 * * * *", "", "2026-05-03T12:07:00Z", "2026-05-03T12:15:00Z"},
      {"*/15 * * * *", "", "2026-05-03T12:45:00Z", "2026-05-03T13:00:00Z"},
      {"10-50/10 * * * *", "", "2026-05-03T12:50:00Z", "2026-05-03T13:10:00Z"},
      {"10-50/10 * * * *", "", "2026-05-03T12:05:00Z", "2026-05-03T12:10:00Z"},
      {"5,35 * * * *", "", "2026-05-03T12:05:00Z", "2026-05-03T12:35:00Z"},
      {"0 */6 * * *", "", "2026-05-03T13:00:00Z", "2026-05-03T18:00:00Z"},
      {"0 3 * * *", "", "2026-05-03T03:00:00Z", "2026-05-04T03:00:00Z"},
      {"0 3 * * *", "", "2026-05-03T02:59:59Z", "2026-05-03T03:00:00Z"},
      {"59 23 31 12 *", "", "2026-12-31T23:59:00Z", "2027-12-31T23:59:00Z"},
      {"0 0 1,15 * *", "", "2026-01-15T00:00:00Z", "2026-02-01T00:00:00Z"},
      {"0 0 31 * *", "", "2026-01-31T01:00:00Z", "2026-03-31T00:00:00Z"},
      {"0 0 29 2 *", "", "2026-01-01T00:00:00Z", "2028-02-29T00:00:00Z"},
      {"0 0 1 jan *", "", "2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z"},
      {"0 0 * jun-aug *", "", "2026-09-01T00:00:00Z", "2027-06-01T00:00:00Z"},
      {"0 0 * JUN-Aug *", "", "2026-06-30T00:00:00Z", "2026-07-01T00:00:00Z"},
      {"0 9 * * mon-fri", "", "2026-01-03T10:00:00Z", "2026-01-05T09:00:00Z"},
      {"0 9 * * 1-5", "", "2026-05-08T09:00:00Z", "2026-05-11T09:00:00Z"},
      {"0 0 * * 0", "", "2026-01-03T00:00:00Z", "2026-01-04T00:00:00Z"},
      {"0 0 * * 7", "", "2026-01-03T00:00:00Z", "2026-01-04T00:00:00Z"},
      {"0 12 * * SUN", "", "2026-01-03T00:00:00Z", "2026-01-04T12:00:00Z"},
      {"0 0 * * 5-7", "", "2026-05-04T00:00:00Z", "2026-05-08T00:00:00Z"},
      {"0 0 * * 6-7", "", "2026-05-09T00:00:00Z", "2026-05-10T00:00:00Z"},
      {"0 0 * * */2", "", "2026-05-03T00:00:00Z", "2026-05-05T00:00:00Z"},
      {"0 3 * * *", "Europe/Berlin", "2026-05-03T00:00:00Z", "2026-05-03T01:00:00Z"},
      {"0 3 * * *", "Europe/Berlin", "2026-01-10T02:00:00Z", "2026-01-11T02:00:00Z"},
      {"30 2 * * 1-5", "America/New_York", "2026-01-02T08:00:00Z", "2026-01-05T07:30:00Z"},
      {"0 0 1 1 *", "Asia/Tokyo", "2026-05-03T00:00:00Z", "2026-12-31T15:00:00Z"},
      {"0 0 * * *", "Asia/Kolkata", "2026-05-03T00:00:00Z", "2026-05-03T18:30:00Z"},
      {"0 0 * * *", "UTC", "2026-05-03T00:00:00Z", "2026-05-04T00:00:00Z"},
      {"0 0 * * *", "Etc/UTC", "2026-05-03T00:00:00Z", "2026-05-04T00:00:00Z"},
  });
}

TEST(Calendar, CronMacros) {
  check_next({
      {"@hourly", "", "2026-05-03T12:30:00Z", "2026-05-03T13:00:00Z"},
      {"@daily", "", "2026-05-03T00:00:00Z", "2026-05-04T00:00:00Z"},
      {"@midnight", "", "2026-05-03T12:00:00Z", "2026-05-04T00:00:00Z"},
      {"@weekly", "", "2026-05-03T00:00:00Z", "2026-05-10T00:00:00Z"},
      {"@monthly", "", "2026-05-03T00:00:00Z", "2026-06-01T00:00:00Z"},
      {"@yearly", "", "2026-05-03T00:00:00Z", "2027-01-01T00:00:00Z"},
      {"@annually", "", "2026-05-03T00:00:00Z", "2027-01-01T00:00:00Z"},
      {"@DAILY", "Europe/Berlin", "2026-05-03T00:00:00Z", "2026-05-03T22:00:00Z"},
  });
}

// Vixie cron and cronie: when both day fields are restricted, either one fires; a field
// starting with `*` (also `*/2`) is unrestricted, and then both must match.
TEST(Calendar, VixieDayRule) {
  check_next({
      // The 1st, or any Monday.
      {"0 0 1 * mon", "", "2026-05-01T12:00:00Z", "2026-05-04T00:00:00Z"},
      {"0 0 1 * mon", "", "2026-06-30T00:00:00Z", "2026-07-01T00:00:00Z"},
      {"0 0 1-7 * 1", "", "2026-05-08T00:00:00Z", "2026-05-11T00:00:00Z"},
      // Both day fields restricted, the month still applies: days 13 or Fridays of March.
      {"0 0 13 3 5", "", "2026-03-06T00:00:00Z", "2026-03-13T00:00:00Z"},
      {"0 0 13 3 5", "", "2026-03-13T00:00:00Z", "2026-03-20T00:00:00Z"},
      {"0 0 13 3 5", "", "2026-03-27T00:00:00Z", "2027-03-05T00:00:00Z"},
      // `*/2` is unrestricted: odd days that are Mondays.
      {"0 0 */2 * mon", "", "2026-05-03T00:00:00Z", "2026-05-11T00:00:00Z"},
      // Weekday `*`: only the day of month.
      {"0 0 13 * *", "", "2026-05-03T00:00:00Z", "2026-05-13T00:00:00Z"},
      // Day of month `*`: only the weekday.
      {"0 0 * * fri", "", "2026-05-03T00:00:00Z", "2026-05-08T00:00:00Z"},
  });
}

TEST(Calendar, OnCalendarForms) {
  check_next({
      {"minutely", "", "2026-05-03T12:00:30Z", "2026-05-03T12:01:00Z"},
      {"hourly", "", "2026-05-03T12:30:00Z", "2026-05-03T13:00:00Z"},
      {"daily", "", "2026-05-03T00:00:00Z", "2026-05-04T00:00:00Z"},
      {"weekly", "", "2026-05-03T12:00:00Z", "2026-05-04T00:00:00Z"},
      {"monthly", "", "2026-05-03T00:00:00Z", "2026-06-01T00:00:00Z"},
      {"quarterly", "", "2026-05-03T00:00:00Z", "2026-07-01T00:00:00Z"},
      {"semiannually", "", "2026-07-01T00:00:00Z", "2027-01-01T00:00:00Z"},
      {"yearly", "", "2026-05-03T00:00:00Z", "2027-01-01T00:00:00Z"},
      {"annually", "", "2026-05-03T00:00:00Z", "2027-01-01T00:00:00Z"},
      {"Daily", "Europe/Berlin", "2026-05-03T00:00:00Z", "2026-05-03T22:00:00Z"},
      {"Mon..Fri *-*-* 09:00", "", "2026-05-08T09:00:00Z", "2026-05-11T09:00:00Z"},
      {"Mon..Fri *-*-* 09:00:00", "", "2026-05-05T08:00:00Z", "2026-05-05T09:00:00Z"},
      {"Mon-Fri 09:00", "", "2026-05-09T00:00:00Z", "2026-05-11T09:00:00Z"},
      {"Sat,Sun *-*-* 10:00", "", "2026-05-04T00:00:00Z", "2026-05-09T10:00:00Z"},
      {"Sat..Sun 10:00", "", "2026-05-09T10:00:00Z", "2026-05-10T10:00:00Z"},
      {"monday,WED 12:00", "", "2026-05-04T12:00:00Z", "2026-05-06T12:00:00Z"},
      {"Fri *-*-13 00:00", "", "2026-03-13T00:00:00Z", "2026-11-13T00:00:00Z"},
      {"Mon", "", "2026-05-04T00:00:00Z", "2026-05-11T00:00:00Z"},
      {"*-*-* 03:00", "Europe/Berlin", "2026-05-03T00:00:00Z", "2026-05-03T01:00:00Z"},
      {"*-*-* 03:00:00", "Europe/Berlin", "2026-05-03T01:00:00Z", "2026-05-04T01:00:00Z"},
      {"*-*-* 03:00:0", "", "2026-05-03T01:00:00Z", "2026-05-03T03:00:00Z"},
      {"2026-12-24 18:00", "", "2026-05-03T00:00:00Z", "2026-12-24T18:00:00Z"},
      {"2026-12-24 18:00", "", "2026-12-24T18:00:00Z", "never"},
      {"2026..2027-01-01 00:00", "", "2026-05-03T00:00:00Z", "2027-01-01T00:00:00Z"},
      {"2026..2027-01-01 00:00", "", "2027-01-01T00:00:00Z", "never"},
      {"2026-01-01", "", "2025-05-03T00:00:00Z", "2026-01-01T00:00:00Z"},
      {"*-*-01 00:00", "", "2026-05-03T00:00:00Z", "2026-06-01T00:00:00Z"},
      {"*-*-01", "", "2026-05-03T00:00:00Z", "2026-06-01T00:00:00Z"},
      {"*-02-29 12:00", "", "2026-01-01T00:00:00Z", "2028-02-29T12:00:00Z"},
      {"*-01/3-01 00:00", "", "2026-05-03T00:00:00Z", "2026-07-01T00:00:00Z"},
      {"12-24 00:00", "", "2026-05-03T00:00:00Z", "2026-12-24T00:00:00Z"},
      {"*:0/15", "", "2026-05-03T12:07:00Z", "2026-05-03T12:15:00Z"},
      {"*:0/15", "", "2026-05-03T12:45:00Z", "2026-05-03T13:00:00Z"},
      {"*:*", "", "2026-05-03T12:45:10Z", "2026-05-03T12:46:00Z"},
      {"*:5/20", "", "2026-05-03T12:45:00Z", "2026-05-03T13:05:00Z"},
      {"*-*-* 08..18/2:30", "", "2026-05-03T18:30:00Z", "2026-05-04T08:30:00Z"},
      {"*-*-* 8,12:0,30", "", "2026-05-03T08:30:00Z", "2026-05-03T12:00:00Z"},
      {"03:00", "", "2026-05-03T03:00:00Z", "2026-05-04T03:00:00Z"},
      {"03:00", "America/New_York", "2026-05-03T00:00:00Z", "2026-05-03T07:00:00Z"},
  });
}

TEST(Calendar, LastAtOrBefore) {
  check_last({
      {"0 3 * * *", "", "2026-05-03T03:00:00Z", "2026-05-03T03:00:00Z"},
      {"0 3 * * *", "", "2026-05-03T02:59:59Z", "2026-05-02T03:00:00Z"},
      {"*/15 * * * *", "", "2026-05-03T12:14:59Z", "2026-05-03T12:00:00Z"},
      {"0 0 29 2 *", "", "2026-05-03T00:00:00Z", "2024-02-29T00:00:00Z"},
      {"0 0 1 * mon", "", "2026-05-03T00:00:00Z", "2026-05-01T00:00:00Z"},
      {"Mon..Fri 09:00", "", "2026-05-10T00:00:00Z", "2026-05-08T09:00:00Z"},
      {"2026-12-24 18:00", "", "2026-12-24T17:59:59Z", "never"},
      {"2026-12-24 18:00", "", "2030-01-01T00:00:00Z", "2026-12-24T18:00:00Z"},
      {"0 3 * * *", "Europe/Berlin", "2026-05-03T00:59:00Z", "2026-05-02T01:00:00Z"},
  });
}

// A wall time skipped by a spring-forward fires at the end of the gap; one that occurs twice
// fires at its first occurrence.
TEST(Calendar, DaylightSavingTime) {
  check_next({
      // Europe/Berlin, 2026-03-29: 02:00 CET jumps to 03:00 CEST (01:00Z).
      {"30 2 * * *", "Europe/Berlin", "2026-03-28T12:00:00Z", "2026-03-29T01:00:00Z"},
      {"30 2 * * *", "Europe/Berlin", "2026-03-29T01:00:00Z", "2026-03-30T00:30:00Z"},
      {"0 2 * * *", "Europe/Berlin", "2026-03-28T12:00:00Z", "2026-03-29T01:00:00Z"},
      {"*-*-* 02:30", "Europe/Berlin", "2026-03-28T12:00:00Z", "2026-03-29T01:00:00Z"},
      {"*/15 * * * *", "Europe/Berlin", "2026-03-29T00:45:00Z", "2026-03-29T01:00:00Z"},
      {"*/15 * * * *", "Europe/Berlin", "2026-03-29T01:00:00Z", "2026-03-29T01:15:00Z"},
      {"0 3 * * *", "Europe/Berlin", "2026-03-28T12:00:00Z", "2026-03-29T01:00:00Z"},
      // Europe/Berlin, 2026-10-25: 03:00 CEST falls back to 02:00 CET (01:00Z).
      {"30 2 * * *", "Europe/Berlin", "2026-10-24T12:00:00Z", "2026-10-25T00:30:00Z"},
      {"30 2 * * *", "Europe/Berlin", "2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"},
      {"*/30 * * * *", "Europe/Berlin", "2026-10-25T00:00:00Z", "2026-10-25T00:30:00Z"},
      {"*/30 * * * *", "Europe/Berlin", "2026-10-25T00:30:00Z", "2026-10-25T02:00:00Z"},
      {"*/30 * * * *", "Europe/Berlin", "2026-10-25T01:10:00Z", "2026-10-25T02:00:00Z"},
      {"*/30 * * * *", "Europe/Berlin", "2026-10-25T01:00:00Z", "2026-10-25T02:00:00Z"},
      // America/New_York, 2026-03-08: 02:00 EST jumps to 03:00 EDT (07:00Z).
      {"30 2 * * *", "America/New_York", "2026-03-07T12:00:00Z", "2026-03-08T07:00:00Z"},
      {"30 2 * * *", "America/New_York", "2026-03-08T07:00:00Z", "2026-03-09T06:30:00Z"},
      {"0 * * * *", "America/New_York", "2026-03-08T06:00:00Z", "2026-03-08T07:00:00Z"},
      {"0 * * * *", "America/New_York", "2026-03-08T07:00:00Z", "2026-03-08T08:00:00Z"},
      // America/New_York, 2026-11-01: 02:00 EDT falls back to 01:00 EST (06:00Z).
      {"30 1 * * *", "America/New_York", "2026-10-31T12:00:00Z", "2026-11-01T05:30:00Z"},
      {"30 1 * * *", "America/New_York", "2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"},
      {"0 * * * *", "America/New_York", "2026-11-01T05:00:00Z", "2026-11-01T07:00:00Z"},
  });
  check_last({
      {"*/15 * * * *", "Europe/Berlin", "2026-03-29T01:00:00Z", "2026-03-29T01:00:00Z"},
      {"*/15 * * * *", "Europe/Berlin", "2026-03-29T00:59:59Z", "2026-03-29T00:45:00Z"},
      {"30 2 * * *", "Europe/Berlin", "2026-03-29T01:00:00Z", "2026-03-29T01:00:00Z"},
      {"30 2 * * *", "Europe/Berlin", "2026-03-29T00:59:00Z", "2026-03-28T01:30:00Z"},
      // In the second 02:xx of Berlin's fall-back, the whole hour fired an hour ago.
      {"*/30 * * * *", "Europe/Berlin", "2026-10-25T01:10:00Z", "2026-10-25T00:30:00Z"},
      {"*/30 * * * *", "Europe/Berlin", "2026-10-25T01:59:59Z", "2026-10-25T00:30:00Z"},
      {"*/30 * * * *", "Europe/Berlin", "2026-10-25T02:00:00Z", "2026-10-25T02:00:00Z"},
      {"*/30 * * * *", "Europe/Berlin", "2026-10-25T00:40:00Z", "2026-10-25T00:30:00Z"},
      {"30 1 * * *", "America/New_York", "2026-11-01T06:45:00Z", "2026-11-01T05:30:00Z"},
  });
}

TEST(Calendar, RefusesWithAReason) {
  struct Bad {
    const char* schedule;
    const char* tz;
    const char* says;
  };
  const Bad cases[] = {
      {"", "", "empty"},
      {"   ", "", "empty"},
      {"* * * *", "", "has 4 fields"},
      {"0 * * * * *", "", "has 6 fields"},
      {"61 * * * *", "", "minute \"61\": 61 is out of range 0-59"},
      {"* 24 * * *", "", "hour \"24\": 24 is out of range 0-23"},
      {"* * 0 * *", "", "day-of-month \"0\": 0 is out of range 1-31"},
      {"* * * 13 *", "", "month \"13\": 13 is out of range 1-12"},
      {"* * * * 8", "", "day-of-week \"8\": 8 is out of range 0-7"},
      {"* * * foo *", "", "month \"foo\": \"foo\" is neither a number nor a name"},
      {"* * * * monday", "", "day-of-week \"monday\""},
      {"x * * * *", "", "minute \"x\": \"x\" is not a number"},
      {"5/15 * * * *", "", "a step needs a range, as in 5-59/15 or */15"},
      {"*/0 * * * *", "", "the step after / must be a number from 1"},
      {"*/x * * * *", "", "the step after / must be a number from 1"},
      {"1,,2 * * * *", "", "an empty list item"},
      {"30-10 * * * *", "", "minute \"30-10\": the range runs backwards"},
      {"* * * * fri-sun", "", "the range runs backwards (Sunday is 0 or 7)"},
      {"-1 * * * *", "", "minute \"-1\""},
      {"0 0 30 2 *", "", "never fires"},
      {"0 0 31 4,6,9,11 *", "", "never fires"},
      {"@reboot", "", "the cron macros are"},
      {"@daily /bin/true", "", "the cron macros are"},
      {"*-*-* 03:00:30", "", "the seconds must be 0 (heartbeats are minute-grained)"},
      {"*-*-* 03:00:*", "", "the seconds must be 0"},
      {"*-*-* 03:00:00.5", "", "the seconds must be 0"},
      {"*-*-* 25:00", "", "hour \"25\": 25 is out of range 0-23"},
      {"*-*-* 03:60", "", "minute \"60\": 60 is out of range 0-59"},
      {"*-13-01", "", "month \"13\": 13 is out of range 1-12"},
      {"*-*-32", "", "day \"32\": 32 is out of range 1-31"},
      {"26-01-01 00:00", "", "year \"26\": 26 is out of range 1970-2199"},
      {"Mnday *-*-* 03:00", "", "unknown weekday \"Mnday\""},
      {"Mon..Frx 03:00", "", "unknown weekday \"Frx\""},
      {"Sun..Mon 03:00", "", "the range runs backwards (Mon..Sun is the order)"},
      {"dayly", "", "\"dayly\" is neither a weekday nor one of minutely"},
      {"*-*-* 03:00 Europe/Berlin", "", "\"Europe/Berlin\" is not understood here"},
      {"03:00 *-*-*", "", "\"*-*-*\" is not understood here"},
      {"*/5", "", "\"*/5\" is not understood here"},
      {"*-*-* 03", "", "\"03\" is not understood here"},
      {"*-*~01 00:00", "", "(~) are not supported"},
      {"*-*-*-* 00:00", "", "expected YEAR-MONTH-DAY or MONTH-DAY"},
      {"*-*-* 1:2:3:4", "", "expected HOUR:MINUTE or HOUR:MINUTE:SECOND"},
      {"*-*-* 1-5:00", "", "hour \"1-5\": \"1-5\" is not a number"},
      {"2026-02-30 00:00", "", "never fires"},
      {"Mon 2026-03-03 00:00", "", "never fires"},
      {"0 3 * * *", "Europe/Berln", "unknown time zone \"Europe/Berln\""},
      {"0 3 * * *", "../../etc/passwd", "unknown time zone"},
      {"0 3 * * *", "CEST", "unknown time zone"},
  };
  for (const auto& c : cases) {
    std::string error;
    EXPECT_FALSE(Calendar::parse(c.schedule, c.tz, error)) << c.schedule;
    EXPECT_NE(error.find(c.says), std::string::npos)
        << c.schedule << " says: " << error << "\nnot: " << c.says;
  }
}

TEST(Calendar, NeverFiringIsRefusedAtParseAndPastYearsEnd) {
  std::string error;
  EXPECT_FALSE(Calendar::parse("0 0 30 2 *", "", error));
  EXPECT_EQ(error, "\"0 0 30 2 *\" never fires: no date matches its day, month and year");
  // A schedule whose years are over parses (it did fire) and has no next firing.
  const Calendar past = calendar("1999-12-31 23:59");
  EXPECT_EQ(utc(past.next_after(at("2026-01-01T00:00:00Z"))), "never");
  EXPECT_EQ(utc(past.last_at_or_before(at("2026-01-01T00:00:00Z"))), "1999-12-31T23:59:00Z");
  // Past the last year a schedule can name.
  const Calendar daily = calendar("@daily");
  EXPECT_EQ(utc(daily.next_after(at("2199-12-31T00:00:00Z"))), "never");
  EXPECT_EQ(utc(daily.next_after(WallTime::max())), "never");
  EXPECT_EQ(utc(daily.last_at_or_before(WallTime::max())), "2199-12-31T00:00:00Z");
  EXPECT_EQ(utc(daily.next_after(WallTime::min())), "1970-01-01T00:00:00Z");
  EXPECT_EQ(utc(daily.last_at_or_before(WallTime::min())), "never");
  const Calendar berlin = calendar("@daily", "Europe/Berlin");
  // Years are the zone's: Berlin's 1970 began an hour before UTC's.
  EXPECT_EQ(utc(berlin.next_after(WallTime::min())), "1969-12-31T23:00:00Z");
  EXPECT_EQ(utc(berlin.last_at_or_before(WallTime::max())), "2199-12-30T23:00:00Z");
}

// The walk against a brute force over every wall minute of a span: the same firings, and
// last_at_or_before agrees with them at odd times in between.
void check_against_brute_force(const char* schedule, const char* tz, date::local_days from,
                               date::local_days to,
                               const std::function<bool(date::year_month_day, int, int)>& fires) {
  const date::time_zone* zone = date::locate_zone(tz);
  std::vector<WallTime> expected;
  for (auto wall = date::local_time<minutes>{from}; wall < to; wall += minutes{1}) {
    const auto day = date::floor<date::days>(wall);
    const auto in_day = (wall - day).count();
    if (!fires(date::year_month_day{day}, static_cast<int>(in_day / 60),
               static_cast<int>(in_day % 60))) {
      continue;
    }
    const auto info = zone->get_info(wall);
    expected.push_back(info.result == date::local_info::nonexistent
                           ? WallTime{info.second.begin.time_since_epoch()}
                           : WallTime{wall.time_since_epoch() - info.first.offset});
  }
  std::sort(expected.begin(), expected.end());
  expected.erase(std::unique(expected.begin(), expected.end()), expected.end());
  ASSERT_GE(expected.size(), 2u) << schedule;

  const Calendar cal = calendar(schedule, tz);
  std::vector<WallTime> walked;
  for (auto t = cal.next_after(expected.front() - minutes{1}); t && *t <= expected.back();
       t = cal.next_after(*t)) {
    walked.push_back(*t);
  }
  // Compared as instants, printed only on a failure: formatting each would be most of the cost.
  for (size_t i = 0; i < std::min(walked.size(), expected.size()); ++i) {
    ASSERT_TRUE(walked[i] == expected[i])
        << schedule << " in " << tz << ": " << utc(walked[i]) << " instead of " << utc(expected[i]);
  }
  ASSERT_EQ(walked.size(), expected.size()) << schedule << " in " << tz;
  // About 4,000 probes, at seconds no firing has.
  const auto step =
      std::max<WallTime::duration>(minutes{7}, (expected.back() - expected.front()) / 4000) +
      std::chrono::seconds{13};
  for (WallTime t = expected.front(); t < expected.back(); t += step) {
    const auto last = std::prev(std::upper_bound(expected.begin(), expected.end(), t));
    ASSERT_TRUE(cal.last_at_or_before(t) == *last)
        << schedule << " in " << tz << " at " << utc(t) << ": " << utc(cal.last_at_or_before(t))
        << " instead of " << utc(*last);
    ASSERT_TRUE(cal.next_after(t) == *std::next(last))
        << schedule << " in " << tz << " after " << utc(t);
  }
}

TEST(Calendar, AgreesWithBruteForceAcrossDaylightSavingTime) {
  using date::days;
  using date::local_days;
  using date::year_month_day;
  using namespace date::literals;
  const local_days y2026{2026_y / 1 / 1};
  const local_days y2027{2027_y / 1 / 1};
  for (const char* tz : {"Europe/Berlin", "America/New_York", "Australia/Lord_Howe"}) {
    check_against_brute_force("*/15 * * * *", tz, y2026, y2027,
                              [](year_month_day, int, int m) { return m % 15 == 0; });
    check_against_brute_force("30 2 * * *", tz, y2026, y2027,
                              [](year_month_day, int h, int m) { return h == 2 && m == 30; });
    check_against_brute_force("Mon..Fri *-*-* 01..03:0/20", tz, y2026, y2027,
                              [](year_month_day d, int h, int m) {
                                const auto wd = date::weekday{d}.c_encoding();
                                return wd >= 1 && wd <= 5 && h >= 1 && h <= 3 && m % 20 == 0;
                              });
    check_against_brute_force(
        "0 0-3 1 * mon", tz, y2026, y2027, [](year_month_day d, int h, int m) {
          return (d.day() == date::day{1} || date::weekday{d} == date::Monday) && h <= 3 && m == 0;
        });
    for (const local_days day :
         {local_days{2026_y / 3 / 8}, local_days{2026_y / 3 / 29}, local_days{2026_y / 4 / 5},
          local_days{2026_y / 10 / 4}, local_days{2026_y / 10 / 25}, local_days{2026_y / 11 / 1}}) {
      check_against_brute_force("* * * * *", tz, day - days{1}, day + days{2},
                                [](year_month_day, int, int) { return true; });
    }
  }
}

TEST(Calendar, NextAndLastAgree) {
  for (const char* schedule : {"*/7 * * * *", "0 3 * * *", "0 0 29 2 *", "Fri *-*-13 00:00",
                               "0 0 1 * mon", "2026..2030-06-01 12:00"}) {
    for (const char* tz : {"UTC", "Europe/Berlin", "America/New_York"}) {
      const Calendar cal = calendar(schedule, tz);
      for (WallTime t = at("2026-01-01T00:00:00Z"); t < at("2031-01-01T00:00:00Z");
           t += std::chrono::hours{97} + std::chrono::seconds{31}) {
        const auto last = cal.last_at_or_before(t);
        const auto next = cal.next_after(t);
        ASSERT_TRUE(next || std::string_view{schedule}.starts_with("2026"));
        if (last) {
          EXPECT_LE(*last, t);
          EXPECT_EQ(utc(cal.next_after(*last)), utc(next)) << schedule << " " << tz;
        }
        if (next) {
          EXPECT_GT(*next, t);
          EXPECT_EQ(utc(cal.last_at_or_before(*next)), utc(next));
        }
      }
    }
  }
}

// A minute-by-minute walk would take about a second per call for these; the walk by fields
// takes microseconds. The bound is loose so that sanitizer builds pass it too.
TEST(Calendar, WalksByFieldsNotMinutes) {
  const auto started = std::chrono::steady_clock::now();
  int found = 0;
  for (const char* schedule : {"0 0 29 2 *", "Fri *-*-13 00:00", "0 0 1 1 *"}) {
    const Calendar cal = calendar(schedule, "Europe/Berlin");
    WallTime t = at("2026-01-01T00:00:00Z");
    for (int i = 0; i < 1000; ++i) {
      t += std::chrono::hours{1};
      found += cal.next_after(t).has_value() ? 1 : 0;
    }
  }
  EXPECT_EQ(found, 3000);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds{2});
}

}  // namespace
}  // namespace lookout
