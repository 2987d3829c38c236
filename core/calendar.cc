// Cron and OnCalendar schedules become sets of minutes, hours, days, months, weekdays and
// years; the next and the last firing are found by walking those sets on the zone's wall
// clock, then mapping the wall time to an instant with the date library's zone rules.
#include "core/calendar.h"

#include <date/date.h>
#include <date/tz.h>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cctype>
#include <charconv>
#include <exception>
#include <span>
#include <vector>

namespace lookout {
namespace {

using std::chrono::minutes;
using LocalMinutes = date::local_time<minutes>;
using YearSet = std::bitset<Calendar::kLastYear - Calendar::kFirstYear + 1>;

// The parsed fields, before a zone is attached. Bit i of a mask: value i fires.
struct ParsedSets {
  uint64_t minutes = 0;
  uint64_t hours = 0;
  uint64_t days = 0;
  uint64_t months = 0;
  uint64_t weekdays = 0;  // 0..6 from Sunday
  YearSet years;
  bool day_or = false;
};

// A value set of one field, indexed by value - base (base 1970 for years, else 0).
using ValueSet = YearSet;

enum class Dialect { kCron, kCalendar };

struct Field {
  std::string_view what;
  int lo;
  int hi;
  int base;
  std::span<const std::string_view> names = {};  // names[i] is the value lo + i
  std::string_view backwards_hint = {};
};

constexpr std::array<std::string_view, 12> kCronMonths = {"jan", "feb", "mar", "apr", "may", "jun",
                                                          "jul", "aug", "sep", "oct", "nov", "dec"};
constexpr std::array<std::string_view, 7> kCronWeekdays = {"sun", "mon", "tue", "wed",
                                                           "thu", "fri", "sat"};

constexpr Field kCronMinute{"minute", 0, 59, 0};
constexpr Field kCronHour{"hour", 0, 23, 0};
constexpr Field kCronDay{"day-of-month", 1, 31, 0};
constexpr Field kCronMonth{"month", 1, 12, 0, kCronMonths};
constexpr Field kCronWeekday{"day-of-week", 0, 7, 0, kCronWeekdays, " (Sunday is 0 or 7)"};

constexpr Field kCalYear{"year", Calendar::kFirstYear, Calendar::kLastYear, Calendar::kFirstYear};
constexpr Field kCalMonth{"month", 1, 12, 0};
constexpr Field kCalDay{"day", 1, 31, 0};
constexpr Field kCalHour{"hour", 0, 23, 0};
constexpr Field kCalMinute{"minute", 0, 59, 0};
constexpr Field kCalSecond{"second", 0, 59, 0};

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::vector<std::string_view> split(std::string_view text, char sep) {
  std::vector<std::string_view> parts;
  for (;;) {
    const size_t at = text.find(sep);
    parts.push_back(text.substr(0, at));
    if (at == std::string_view::npos) return parts;
    text.remove_prefix(at + 1);
  }
}

std::vector<std::string_view> words(std::string_view text) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] == ' ' || text[i] == '\t') {
      ++i;
      continue;
    }
    const size_t start = i;
    while (i < text.size() && text[i] != ' ' && text[i] != '\t') ++i;
    out.push_back(text.substr(start, i - start));
  }
  return out;
}

// Digits only, at most 9 of them (no overflow); anything else is not a number.
std::optional<int> number_of(std::string_view text) {
  if (text.empty() || text.size() > 9) return std::nullopt;
  int value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || text.front() == '-') {
    return std::nullopt;
  }
  return value;
}

// One value of a field: a number or one of the field's names, within lo..hi.
bool value_of(std::string_view text, const Field& f, std::string_view item, int& out,
              std::string& error) {
  if (auto n = number_of(text)) {
    if (*n < f.lo || *n > f.hi) {
      error = fmt::format("{} \"{}\": {} is out of range {}-{}", f.what, item, *n, f.lo, f.hi);
      return false;
    }
    out = *n;
    return true;
  }
  for (size_t i = 0; i < f.names.size(); ++i) {
    if (iequals(text, f.names[i])) {
      out = f.lo + static_cast<int>(i);
      return true;
    }
  }
  error = f.names.empty() ? fmt::format("{} \"{}\": \"{}\" is not a number", f.what, item, text)
                          : fmt::format(
                                "{} \"{}\": \"{}\" is neither a number nor a name such "
                                "as {}",
                                f.what, item, text, f.names.front());
  return false;
}

// A comma list of `*`, values, ranges and steps. Cron writes ranges `a-b` and refuses `a/s`;
// OnCalendar writes `a..b` and reads `a/s` as a, a+s, ... up to the field's end.
bool parse_field(std::string_view text, const Field& f, Dialect dialect, ValueSet& out,
                 std::string& error) {
  const std::string_view range_sep = dialect == Dialect::kCron ? "-" : "..";
  for (std::string_view item : split(text, ',')) {
    if (item.empty()) {
      error = fmt::format("{} \"{}\": an empty list item", f.what, text);
      return false;
    }
    const size_t slash = item.find('/');
    const std::string_view base = item.substr(0, slash);
    int step = 1;
    if (slash != std::string_view::npos) {
      const auto s = number_of(item.substr(slash + 1));
      if (!s || *s == 0) {
        error = fmt::format("{} \"{}\": the step after / must be a number from 1", f.what, item);
        return false;
      }
      step = *s;
    }
    int from = f.lo;
    int to = f.hi;
    if (base != "*") {
      const size_t dash = base.find(range_sep);
      if (!value_of(base.substr(0, dash), f, item, from, error)) return false;
      if (dash != std::string_view::npos) {
        if (!value_of(base.substr(dash + range_sep.size()), f, item, to, error)) return false;
        if (from > to) {
          error =
              fmt::format("{} \"{}\": the range runs backwards{}", f.what, item, f.backwards_hint);
          return false;
        }
      } else if (slash == std::string_view::npos) {
        to = from;
      } else if (dialect == Dialect::kCron) {
        // Vixie cron refuses it and newer crons read it as a-END/s: say which is meant.
        error = fmt::format("{} \"{}\": a step needs a range, as in {}-{}/{} or */{}", f.what, item,
                            from, f.hi, step, step);
        return false;
      }
    }
    for (int v = from; v <= to; v += step) out.set(static_cast<size_t>(v - f.base));
  }
  return true;
}

uint64_t mask_of(const ValueSet& set) { return set.to_ullong(); }

bool parse_cron(const std::vector<std::string_view>& fields, ParsedSets& sets, std::string& error) {
  const std::array<const Field*, 5> specs = {&kCronMinute, &kCronHour, &kCronDay, &kCronMonth,
                                             &kCronWeekday};
  std::array<ValueSet, 5> values;
  for (size_t i = 0; i < specs.size(); ++i) {
    if (!parse_field(fields[i], *specs[i], Dialect::kCron, values[i], error)) return false;
  }
  sets.minutes = mask_of(values[0]);
  sets.hours = mask_of(values[1]);
  sets.days = mask_of(values[2]);
  sets.months = mask_of(values[3]);
  sets.weekdays = mask_of(values[4]);
  if (sets.weekdays & (uint64_t{1} << 7)) sets.weekdays = (sets.weekdays | 1) & 0x7f;
  sets.years.set();
  // As cron decides it: a field "restricts" unless its text starts with `*`, so `*/2`
  // counts as unrestricted.
  sets.day_or = fields[2].front() != '*' && fields[4].front() != '*';
  return true;
}

struct Weekday {
  std::string_view short_name;
  std::string_view long_name;
};
// Monday first, as systemd orders them for ranges; index + 1 is the ISO weekday.
constexpr std::array<Weekday, 7> kWeekdays = {{{"mon", "monday"},
                                               {"tue", "tuesday"},
                                               {"wed", "wednesday"},
                                               {"thu", "thursday"},
                                               {"fri", "friday"},
                                               {"sat", "saturday"},
                                               {"sun", "sunday"}}};

std::optional<int> iso_weekday(std::string_view name) {
  for (size_t i = 0; i < kWeekdays.size(); ++i) {
    if (iequals(name, kWeekdays[i].short_name) || iequals(name, kWeekdays[i].long_name)) {
      return static_cast<int>(i) + 1;
    }
  }
  return std::nullopt;
}

bool parse_weekdays(std::string_view text, uint64_t& mask, std::string& error) {
  for (std::string_view item : split(text, ',')) {
    size_t sep = item.find("..");
    size_t sep_len = 2;
    if (sep == std::string_view::npos) {
      sep = item.find('-');
      sep_len = 1;
    }
    const std::string_view first = item.substr(0, sep);
    const std::string_view last =
        sep == std::string_view::npos ? first : item.substr(sep + sep_len);
    const auto from = iso_weekday(first);
    const auto to = iso_weekday(last);
    if (!from || !to) {
      error = fmt::format("unknown weekday \"{}\" in \"{}\" (Mon, Tue, ... or Monday, ...)",
                          from ? last : first, text);
      return false;
    }
    if (*from > *to) {
      error =
          fmt::format("weekdays \"{}\": the range runs backwards (Mon..Sun is the order)", item);
      return false;
    }
    for (int d = *from; d <= *to; ++d) mask |= uint64_t{1} << (d % 7);
  }
  return true;
}

// YEAR-MONTH-DAY or MONTH-DAY.
bool parse_calendar_date(std::string_view text, ParsedSets& sets, std::string& error) {
  if (text.find('~') != std::string_view::npos) {
    error =
        fmt::format("\"{}\": days counted from the end of the month (~) are not supported", text);
    return false;
  }
  const auto parts = split(text, '-');
  if (parts.size() != 2 && parts.size() != 3) {
    error = fmt::format("date \"{}\": expected YEAR-MONTH-DAY or MONTH-DAY", text);
    return false;
  }
  ValueSet years, months, days;
  if (parts.size() == 3) {
    if (!parse_field(parts[0], kCalYear, Dialect::kCalendar, years, error)) return false;
  } else {
    years.set();
  }
  if (!parse_field(parts[parts.size() - 2], kCalMonth, Dialect::kCalendar, months, error) ||
      !parse_field(parts.back(), kCalDay, Dialect::kCalendar, days, error)) {
    return false;
  }
  sets.years = years;
  sets.months = mask_of(months);
  sets.days = mask_of(days);
  return true;
}

// HOUR:MINUTE or HOUR:MINUTE:SECOND with the second 0.
bool parse_calendar_time(std::string_view text, ParsedSets& sets, std::string& error) {
  const auto parts = split(text, ':');
  if (parts.size() != 2 && parts.size() != 3) {
    error = fmt::format("time \"{}\": expected HOUR:MINUTE or HOUR:MINUTE:SECOND", text);
    return false;
  }
  if (parts.size() == 3) {
    ValueSet seconds;
    std::string ignored;
    if (!parse_field(parts[2], kCalSecond, Dialect::kCalendar, seconds, ignored) ||
        seconds != ValueSet{1}) {
      error = fmt::format(
          "time \"{}\": the seconds must be 0 (heartbeats are minute-grained), not \"{}\"", text,
          parts[2]);
      return false;
    }
  }
  ValueSet hours, mins;
  if (!parse_field(parts[0], kCalHour, Dialect::kCalendar, hours, error) ||
      !parse_field(parts[1], kCalMinute, Dialect::kCalendar, mins, error)) {
    return false;
  }
  sets.hours = mask_of(hours);
  sets.minutes = mask_of(mins);
  return true;
}

struct Shorthand {
  std::string_view name;
  std::string_view expansion;
};
constexpr std::array<Shorthand, 9> kCalendarShorthands = {{
    {"minutely", "*-*-* *:*:00"},
    {"hourly", "*-*-* *:00:00"},
    {"daily", "*-*-* 00:00:00"},
    {"weekly", "Mon *-*-* 00:00:00"},
    {"monthly", "*-*-01 00:00:00"},
    {"quarterly", "*-01,04,07,10-01 00:00:00"},
    {"semiannually", "*-01,07-01 00:00:00"},
    {"yearly", "*-01-01 00:00:00"},
    {"annually", "*-01-01 00:00:00"},
}};
constexpr std::array<Shorthand, 7> kCronMacros = {{
    {"@hourly", "0 * * * *"},
    {"@daily", "0 0 * * *"},
    {"@midnight", "0 0 * * *"},
    {"@weekly", "0 0 * * 0"},
    {"@monthly", "0 0 1 * *"},
    {"@yearly", "0 0 1 1 *"},
    {"@annually", "0 0 1 1 *"},
}};

std::optional<std::string_view> expand(std::span<const Shorthand> table, std::string_view name) {
  for (const auto& s : table) {
    if (iequals(name, s.name)) return s.expansion;
  }
  return std::nullopt;
}

// [WEEKDAYS] [DATE] [TIME]: at least one of them, in this order. A missing date is every day,
// a missing time midnight.
bool parse_calendar(std::vector<std::string_view> parts, ParsedSets& sets, std::string& error) {
  if (parts.size() == 1) {
    if (auto e = expand(kCalendarShorthands, parts[0])) parts = words(*e);
  }
  sets.weekdays = 0x7f;
  sets.years.set();
  sets.months = 0x1ffe;    // 1..12
  sets.days = 0xfffffffe;  // 1..31
  sets.hours = 1;
  sets.minutes = 1;
  size_t i = 0;
  if (std::isalpha(static_cast<unsigned char>(parts[0].front()))) {
    sets.weekdays = 0;
    if (!parse_weekdays(parts[0], sets.weekdays, error)) {
      if (parts.size() == 1) {
        error = fmt::format(
            "\"{}\" is neither a weekday nor one of minutely, hourly, daily, weekly, monthly, "
            "quarterly, semiannually, yearly, annually",
            parts[0]);
      }
      return false;
    }
    ++i;
  }
  bool seen_date = false;
  bool seen_time = false;
  for (; i < parts.size(); ++i) {
    const std::string_view part = parts[i];
    if (part.find(':') != std::string_view::npos && !seen_time) {
      if (!parse_calendar_time(part, sets, error)) return false;
      seen_time = true;
    } else if (part.find('-') != std::string_view::npos && !seen_date && !seen_time) {
      if (!parse_calendar_date(part, sets, error)) return false;
      seen_date = true;
    } else {
      error = fmt::format(
          "\"{}\" is not understood here: expected [WEEKDAYS] [YEAR-MONTH-DAY] [HOUR:MINUTE] "
          "(a time zone goes in tz, not in the schedule)",
          part);
      return false;
    }
  }
  return true;
}

bool parse_sets(std::string_view schedule, ParsedSets& sets, std::string& error) {
  auto parts = words(schedule);
  if (parts.empty()) {
    error = "the schedule is empty";
    return false;
  }
  if (parts[0].front() == '@') {
    const auto e = expand(kCronMacros, parts[0]);
    if (!e || parts.size() != 1) {
      error = fmt::format(
          "\"{}\": the cron macros are @hourly, @daily, @midnight, @weekly, @monthly, @yearly "
          "and @annually, alone",
          schedule);
      return false;
    }
    parts = words(*e);
  }
  if (parts.size() == 5) return parse_cron(parts, sets, error);
  if (parts.size() <= 3) return parse_calendar(parts, sets, error);
  error = fmt::format(
      "\"{}\" has {} fields: a cron schedule has 5 (minute hour day-of-month month "
      "day-of-week), an OnCalendar one at most 3 ([WEEKDAYS] [DATE] [TIME])",
      schedule, parts.size());
  return false;
}

// The first set bit at or after `from` (at or before, for prev_bit), or -1.
int next_bit(uint64_t mask, int from) {
  if (from > 63) return -1;
  const uint64_t rest = mask >> from;
  return rest == 0 ? -1 : from + std::countr_zero(rest);
}

int prev_bit(uint64_t mask, int from) {
  if (from < 0) return -1;
  const uint64_t rest = from >= 63 ? mask : mask & ((uint64_t{2} << from) - 1);
  return rest == 0 ? -1 : 63 - std::countl_zero(rest);
}

bool has(uint64_t mask, unsigned bit) { return (mask >> bit & 1) != 0; }

// A wall-clock minute split into its fields; walks keep it a valid date.
struct Stamp {
  int year;
  unsigned month;
  unsigned day;
  int hour;
  int minute;
};

Stamp stamp_of(minutes wall) {
  const LocalMinutes local{wall};
  const auto day = date::floor<date::days>(local);
  const date::year_month_day ymd{day};
  const auto in_day = (local - day).count();
  return {static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
          static_cast<unsigned>(ymd.day()), static_cast<int>(in_day / 60),
          static_cast<int>(in_day % 60)};
}

minutes wall_of(const Stamp& s) {
  const date::local_days day{date::year{s.year} / date::month{s.month} / date::day{s.day}};
  return (day + std::chrono::hours{s.hour} + minutes{s.minute}).time_since_epoch();
}

unsigned days_in(int year, unsigned month) {
  return static_cast<unsigned>((date::year{year} / date::month{month} / date::last).day());
}

Stamp year_start(int year) { return {year, 1, 1, 0, 0}; }
Stamp year_end(int year) { return {year, 12, 31, 23, 59}; }

void next_day(Stamp& s) {
  s.hour = 0;
  s.minute = 0;
  if (++s.day <= days_in(s.year, s.month)) return;
  s.day = 1;
  if (++s.month <= 12) return;
  s.month = 1;
  ++s.year;
}

void prev_day(Stamp& s) {
  s.hour = 23;
  s.minute = 59;
  if (--s.day >= 1) return;
  if (--s.month == 0) {
    s.month = 12;
    --s.year;
  }
  s.day = days_in(s.year, s.month);
}

// The instant a wall time fires at: its first occurrence, or the end of the gap it falls in.
WallTime instant_of(const date::time_zone* zone, minutes wall) {
  if (zone == nullptr) return WallTime{wall};
  const auto info = zone->get_info(LocalMinutes{wall});
  if (info.result == date::local_info::nonexistent) {
    return WallTime{info.second.begin.time_since_epoch()};
  }
  return WallTime{wall - info.first.offset};
}

// Every firing lies in 1970..2199: moving t to within a year of that range changes no answer,
// and keeps the zone's offset from overflowing the nanoseconds of a time far off.
WallTime bounded(WallTime t) {
  constexpr WallTime lowest{date::sys_days{date::year{1969} / 1 / 1}.time_since_epoch()};
  constexpr WallTime highest{date::sys_days{date::year{2201} / 1 / 1}.time_since_epoch()};
  return std::clamp(t, lowest, highest);
}

}  // namespace

std::optional<Calendar> Calendar::parse(std::string_view schedule, std::string_view tz,
                                        std::string& error) {
  ParsedSets sets;
  if (!parse_sets(schedule, sets, error)) return std::nullopt;
  Calendar cal;
  cal.minutes_ = sets.minutes;
  cal.hours_ = sets.hours;
  cal.days_ = sets.days;
  cal.months_ = sets.months;
  cal.weekdays_ = sets.weekdays;
  cal.years_ = sets.years;
  cal.day_or_ = sets.day_or;
  if (!cal.first_match_from(minutes{0})) {
    error = fmt::format("\"{}\" never fires: no date matches its day, month and year", schedule);
    return std::nullopt;
  }
  if (!tz.empty() && tz != "UTC") {
    try {
      cal.zone_ = date::locate_zone(tz);
    } catch (const std::exception&) {
      error = fmt::format("unknown time zone \"{}\" (an IANA name such as Europe/Berlin)", tz);
      return std::nullopt;
    }
  }
  return cal;
}

bool Calendar::day_matches(int year, unsigned month, unsigned day) const {
  const bool by_date = has(days_, day);
  if (!day_or_ && !by_date) return false;
  const date::local_days d{date::year{year} / date::month{month} / date::day{day}};
  const bool by_weekday = has(weekdays_, date::weekday{d}.c_encoding());
  return day_or_ ? by_date || by_weekday : by_weekday;
}

std::optional<minutes> Calendar::first_match_from(minutes wall) const {
  Stamp s = stamp_of(wall);
  while (s.year <= kLastYear) {
    if (s.year < kFirstYear) {
      s = year_start(kFirstYear);
      continue;
    }
    if (!years_.test(static_cast<size_t>(s.year - kFirstYear))) {
      s = year_start(s.year + 1);
      continue;
    }
    if (!has(months_, s.month)) {
      const int m = next_bit(months_, static_cast<int>(s.month));
      s = m < 0 ? year_start(s.year + 1) : Stamp{s.year, static_cast<unsigned>(m), 1, 0, 0};
      continue;
    }
    if (!day_matches(s.year, s.month, s.day)) {
      next_day(s);
      continue;
    }
    const int h = next_bit(hours_, s.hour);
    if (h < 0) {
      next_day(s);
      continue;
    }
    if (h != s.hour) {
      s.hour = h;
      s.minute = 0;
    }
    const int m = next_bit(minutes_, s.minute);
    if (m < 0) {
      if (s.hour == 23) {
        next_day(s);
      } else {
        ++s.hour;
        s.minute = 0;
      }
      continue;
    }
    s.minute = m;
    return wall_of(s);
  }
  return std::nullopt;
}

std::optional<minutes> Calendar::last_match_upto(minutes wall) const {
  Stamp s = stamp_of(wall);
  while (s.year >= kFirstYear) {
    if (s.year > kLastYear) {
      s = year_end(kLastYear);
      continue;
    }
    if (!years_.test(static_cast<size_t>(s.year - kFirstYear))) {
      s = year_end(s.year - 1);
      continue;
    }
    if (!has(months_, s.month)) {
      const int m = prev_bit(months_, static_cast<int>(s.month));
      s = m < 0 ? year_end(s.year - 1)
                : Stamp{s.year, static_cast<unsigned>(m), days_in(s.year, static_cast<unsigned>(m)),
                        23, 59};
      continue;
    }
    if (!day_matches(s.year, s.month, s.day)) {
      prev_day(s);
      continue;
    }
    const int h = prev_bit(hours_, s.hour);
    if (h < 0) {
      prev_day(s);
      continue;
    }
    if (h != s.hour) {
      s.hour = h;
      s.minute = 59;
    }
    const int m = prev_bit(minutes_, s.minute);
    if (m < 0) {
      if (s.hour == 0) {
        prev_day(s);
      } else {
        --s.hour;
        s.minute = 59;
      }
      continue;
    }
    s.minute = m;
    return wall_of(s);
  }
  return std::nullopt;
}

std::optional<WallTime> Calendar::next_after(WallTime t) const {
  t = bounded(t);
  const auto local = zone_ ? zone_->to_local(t).time_since_epoch() : t.time_since_epoch();
  minutes from = date::floor<minutes>(local) + minutes{1};
  for (;;) {
    const auto wall = first_match_from(from);
    if (!wall) return std::nullopt;
    const WallTime at = instant_of(zone_, *wall);
    if (at > t) return at;
    // Only a wall time that occurs twice, met while t is in its second occurrence, fired at
    // or before t (at its first occurrence): go on after the repeated stretch.
    from = *wall + minutes{1};
    if (zone_ == nullptr) continue;
    const auto info = zone_->get_info(LocalMinutes{*wall});
    if (info.result == date::local_info::ambiguous) {
      from = std::max(
          from, date::ceil<minutes>(info.second.begin.time_since_epoch() + info.first.offset));
    }
  }
}

std::optional<WallTime> Calendar::last_at_or_before(WallTime t) const {
  t = bounded(t);
  const auto local = zone_ ? zone_->to_local(t).time_since_epoch() : t.time_since_epoch();
  minutes upto = date::floor<minutes>(local);
  if (zone_) {
    const auto info = zone_->get_info(LocalMinutes{upto});
    // t in the second occurrence of a repeated stretch: all of that stretch has fired, at its
    // first occurrence.
    if (info.result == date::local_info::ambiguous && t >= info.second.begin) {
      upto = date::ceil<minutes>(info.second.begin.time_since_epoch() + info.first.offset) -
             minutes{1};
    }
  }
  const auto wall = last_match_upto(upto);
  if (!wall) return std::nullopt;
  return instant_of(zone_, *wall);
}

}  // namespace lookout
