#include "store/summary_pieces.h"

#include <algorithm>
#include <array>
#include <limits>
#include <unordered_map>

#include "store/lease_plan.h"
#include "store/rollup.h"

namespace lookout {

// Outside the anonymous namespace because SummaryPieces::Monitor holds them (a unity build
// would otherwise give a member of a named class a type of internal linkage).
namespace summary_pieces_detail {
// Counts and the encoded sketch of a bucket or of one raw run.
struct Piece {
  int64_t t = 0;
  uint32_t count = 0, failures = 0, maintenance = 0;
  std::string sketch;
};
// A day row before P: what its bar shows, and its counts for the 30 and 90 day windows.
struct ClosedDay {
  int64_t t = 0;
  uint32_t count = 0, failures = 0, maintenance = 0;
  float p95_ms = -1;
};
}  // namespace summary_pieces_detail

namespace {

using summary_pieces_detail::ClosedDay;
using summary_pieces_detail::Piece;

constexpr int64_t kSummaryHour = kHourLevel.size_ms, kSummaryDay = kDayLevel.size_ms;
constexpr int kSummaryBars = 90;
constexpr int64_t kSummaryLater = std::numeric_limits<int64_t>::max();

void pieces_add_counts(Aggregate& a, uint32_t count, uint32_t failures, uint32_t maintenance) {
  a.count += count;
  a.failures += failures;
  a.maintenance += maintenance;
}

void pieces_add(Aggregate& a, const Piece& p, bool with_sketch) {
  pieces_add_counts(a, p.count, p.failures, p.maintenance);
  if (!with_sketch || p.sketch.empty()) return;
  if (auto s = LatencySketch::decode(p.sketch)) a.sketch.merge(*s);
}

Piece pieces_pack(int64_t t, const Aggregate& a) {
  Piece p{t,
          static_cast<uint32_t>(a.count),
          static_cast<uint32_t>(a.failures),
          static_cast<uint32_t>(a.maintenance),
          {}};
  if (!a.sketch.empty()) p.sketch = a.sketch.encode();
  return p;
}

template <typename T>
size_t pieces_first_at(const std::vector<T>& v, int64_t t) {
  return static_cast<size_t>(
      std::lower_bound(v.begin(), v.end(), t, [](const T& p, int64_t x) { return p.t < x; }) -
      v.begin());
}

}  // namespace

struct SummaryPieces::Monitor {
  std::vector<ClosedDay> closed;  // by t
  std::vector<Piece> edge;        // by t, counts only
  std::vector<Piece> fine;        // by t
  uint64_t version = 0;
  // The sums of the fine pieces before the minute mark, which change about once a minute (the
  // raw runs after it change at every read): the 24 hour window's, and each bar's from P on.
  struct Settled {
    std::array<int64_t, 3> key{};  // settled_version, where the 24 hour window starts, today
    Piece window;
    std::vector<Piece> days;
  };
  std::optional<Settled> settled;
  uint64_t settled_version = 0;
  // What the last summary was made of, to make it again only when that changed.
  std::optional<std::array<int64_t, 8>> made_of;
  std::optional<HistorySummary> last;
};

struct SummaryPieces::Shard {
  std::vector<std::string> names;
  std::vector<Monitor> monitors;  // as names
  std::unordered_map<std::string, size_t> index;
  std::optional<ShardRead> at;  // where the shard stands (its ranges dropped)
};

SummaryPieces::SummaryPieces(const std::vector<std::string>& monitors) : shards_(kLeaseShards) {
  for (const std::string& name : monitors) {
    Shard& s = shards_[static_cast<size_t>(shard_of(name))];
    if (!s.index.emplace(name, s.names.size()).second) continue;
    s.names.push_back(name);
  }
  for (Shard& s : shards_) s.monitors.resize(s.names.size());
}

SummaryPieces::~SummaryPieces() = default;

const std::vector<std::string>& SummaryPieces::monitors_of(int shard) const {
  return shards_.at(static_cast<size_t>(shard)).names;
}

bool SummaryPieces::ready(int shard) const {
  return shards_.at(static_cast<size_t>(shard)).at.has_value();
}

ShardRead SummaryPieces::plan(int shard, const Watermarks& marks, int64_t now_ms,
                              int64_t moved_back) const {
  const Shard& s = shards_.at(static_cast<size_t>(shard));
  ShardRead r;
  if (s.names.empty()) return r;
  const int64_t today = align_down(now_ms, kSummaryDay);
  const int64_t oldest = today - kSummaryBars * kSummaryDay;  // holds the 90 day window's start
  r.read_at_ms = now_ms;
  r.moved_back = moved_back;
  r.today_ms = today;
  r.edge_hour_ms = align_down(now_ms - kSummaryDay, kSummaryHour);
  // A level without a mark has nothing rolled up: the next finer one is read from there.
  r.day_mark_ms = std::max(marks.day.value_or(oldest), oldest);
  r.hour_mark_ms = std::max(marks.hour.value_or(r.day_mark_ms), r.day_mark_ms);
  r.minute_mark_ms = std::max(marks.minute.value_or(r.hour_mark_ms), r.hour_mark_ms);
  auto add = [&r](PieceRange::Into into, PieceLevel level, int64_t from, int64_t to, bool sketch) {
    if (from < to) r.ranges.push_back({into, level, from, to, sketch});
  };
  using Into = PieceRange::Into;
  const int64_t e = r.edge_hour_ms;
  r.reset = !s.at || s.at->today_ms != today || moved_back != s.at->moved_back ||
            r.day_mark_ms < s.at->day_mark_ms || r.hour_mark_ms < s.at->hour_mark_ms ||
            r.minute_mark_ms < s.at->minute_mark_ms;
  if (r.reset) {
    r.from_ms = align_down(std::min(e, r.day_mark_ms), kSummaryDay);
    add(Into::kClosed, PieceLevel::kDay, oldest + kSummaryDay, r.from_ms, true);
    for (const int64_t day : {oldest, today - 30 * kSummaryDay})
      add(Into::kEdge, PieceLevel::kHour, day, std::min(day + kSummaryDay, r.from_ms), false);
    if (e >= r.from_ms && e + kSummaryHour <= r.hour_mark_ms) {
      add(Into::kFine, PieceLevel::kHour, r.from_ms, e, true);
      add(Into::kFine, PieceLevel::kMinute, e, e + kSummaryHour, true);
      add(Into::kFine, PieceLevel::kHour, e + kSummaryHour, r.hour_mark_ms, true);
    } else {
      add(Into::kFine, PieceLevel::kHour, r.from_ms, r.hour_mark_ms, true);
    }
    add(Into::kFine, PieceLevel::kMinute, r.hour_mark_ms, r.minute_mark_ms, true);
    add(Into::kFine, PieceLevel::kRaw, std::max(r.minute_mark_ms, now_ms - kRawReachMs),
        kSummaryLater, true);
    return r;
  }
  const ShardRead& was = *s.at;
  r.from_ms = was.from_ms;
  // The 24 hour window's start entered another hour: its minutes replace its hour row.
  if (e != was.edge_hour_ms && e >= r.from_ms && e + kSummaryHour <= was.hour_mark_ms)
    add(Into::kFine, PieceLevel::kMinute, e, e + kSummaryHour, true);
  add(Into::kFine, PieceLevel::kHour, was.hour_mark_ms, r.hour_mark_ms, true);
  add(Into::kFine, PieceLevel::kMinute, std::max(was.minute_mark_ms, r.hour_mark_ms),
      r.minute_mark_ms, true);
  add(Into::kFine, PieceLevel::kRaw, std::max(r.minute_mark_ms, was.read_at_ms - kRawLatenessMs),
      kSummaryLater, true);
  return r;
}

void SummaryPieces::apply(int shard, const ShardRead& read, const std::vector<PieceRow>& rows) {
  Shard& s = shards_.at(static_cast<size_t>(shard));
  if (s.names.empty()) return;
  using Into = PieceRange::Into;
  bool settled = read.reset || (s.at && s.at->edge_hour_ms != read.edge_hour_ms);
  for (const PieceRange& range : read.ranges) settled = settled || range.level != PieceLevel::kRaw;
  for (Monitor& m : s.monitors) {
    ++m.version;
    if (settled) ++m.settled_version;
    if (read.reset) {
      m.closed.clear();
      m.edge.clear();
      m.fine.clear();
      continue;
    }
    // The last edge hour's minutes become one hour again: only the bars still count them, and
    // they count the sum.
    const int64_t old = s.at->edge_hour_ms;
    if (old != read.edge_hour_ms && old >= s.at->from_ms &&
        old + kSummaryHour <= s.at->hour_mark_ms) {
      const size_t a = pieces_first_at(m.fine, old),
                   b = pieces_first_at(m.fine, old + kSummaryHour);
      if (b - a > 1) {
        Aggregate sum;
        for (size_t i = a; i < b; ++i) pieces_add(sum, m.fine[i], true);
        Piece hour = pieces_pack(old, sum);
        m.fine.erase(m.fine.begin() + static_cast<std::ptrdiff_t>(a + 1),
                     m.fine.begin() + static_cast<std::ptrdiff_t>(b));
        m.fine[a] = std::move(hour);
      }
    }
    for (const PieceRange& range : read.ranges) {
      if (range.into != Into::kFine) continue;
      std::erase_if(m.fine,
                    [&](const Piece& p) { return p.t >= range.from_ms && p.t < range.to_ms; });
    }
  }
  for (const PieceRow& row : rows) {
    const auto at = s.index.find(row.monitor);
    if (at == s.index.end() || row.range >= read.ranges.size()) continue;
    Monitor& m = s.monitors[at->second];
    switch (read.ranges[row.range].into) {
      case Into::kClosed: {
        Aggregate a;
        pieces_add_counts(a, row.count, row.failures, row.maintenance);
        if (!row.sketch.empty()) {
          if (auto sketch = LatencySketch::decode(row.sketch)) a.sketch = std::move(*sketch);
        }
        m.closed.push_back(
            {row.t_ms, row.count, row.failures, row.maintenance, day_summary(a).p95_ms});
        break;
      }
      case Into::kEdge:
        m.edge.push_back({row.t_ms, row.count, row.failures, row.maintenance, {}});
        break;
      case Into::kFine:
        m.fine.push_back({row.t_ms, row.count, row.failures, row.maintenance, row.sketch});
        break;
    }
  }
  auto by_t = [](const auto& a, const auto& b) { return a.t < b.t; };
  for (Monitor& m : s.monitors) {
    std::stable_sort(m.closed.begin(), m.closed.end(), by_t);
    std::stable_sort(m.edge.begin(), m.edge.end(), by_t);
    std::stable_sort(m.fine.begin(), m.fine.end(), by_t);
  }
  s.at = read;
  s.at->ranges.clear();
}

void SummaryPieces::summarize(int shard, int64_t now_ms, SummaryMap& out) {
  Shard& s = shards_.at(static_cast<size_t>(shard));
  if (!s.at) return;
  const int64_t today = align_down(now_ms, kSummaryDay);
  const int64_t first_day = today - (kSummaryBars - 1) * kSummaryDay;
  const int64_t from = s.at->from_ms;
  // The 24 hour window starts on the minute, the longer ones on the hour, as the pieces allow.
  const int64_t start24 = now_ms - kSummaryDay;
  const std::array<int64_t, 2> starts{now_ms - 30 * kSummaryDay, now_ms - 90 * kSummaryDay};
  for (size_t i = 0; i < s.names.size(); ++i) {
    Monitor& m = s.monitors[i];
    const std::array<int64_t, 8> made_of{
        static_cast<int64_t>(m.version),
        today,
        static_cast<int64_t>(pieces_first_at(m.fine, start24)),
        static_cast<int64_t>(pieces_first_at(m.fine, starts[0])),
        static_cast<int64_t>(pieces_first_at(m.edge, starts[0])),
        static_cast<int64_t>(pieces_first_at(m.closed, starts[0])),
        static_cast<int64_t>(pieces_first_at(m.edge, starts[1])),
        static_cast<int64_t>(pieces_first_at(m.closed, starts[1]))};
    if (m.made_of != made_of) {
      m.made_of = made_of;
      m.last.reset();
      const size_t split = pieces_first_at(m.fine, s.at->minute_mark_ms);
      const size_t first24 = pieces_first_at(m.fine, start24);
      const std::array<int64_t, 3> key{static_cast<int64_t>(m.settled_version),
                                       static_cast<int64_t>(first24), today};
      if (!m.settled || m.settled->key != key) {
        Monitor::Settled st;
        st.key = key;
        Aggregate a;
        for (size_t k = first24; k < split; ++k) pieces_add(a, m.fine[k], true);
        st.window = pieces_pack(start24, a);
        size_t k = pieces_first_at(m.fine, std::max(from, first_day));
        for (int64_t d = std::max(from, first_day); d <= today; d += kSummaryDay) {
          Aggregate b;
          for (; k < split && m.fine[k].t < d + kSummaryDay; ++k) pieces_add(b, m.fine[k], true);
          st.days.push_back(pieces_pack(d, b));
        }
        m.settled = std::move(st);
      }
      Aggregate day;
      pieces_add(day, m.settled->window, true);
      for (size_t k = std::max(first24, split); k < m.fine.size(); ++k)
        pieces_add(day, m.fine[k], true);
      std::array<Aggregate, 2> longer;
      for (size_t w = 0; w < starts.size(); ++w) {
        Aggregate& a = longer[w];
        // The day holding the start counts by its edge hours, even when it starts on the day;
        // the days after it by their rows (the other window's edge hours among them).
        const int64_t edge_day = align_down(starts[w], kSummaryDay);
        const int64_t after_edge = edge_day + kSummaryDay;
        for (const Piece& p : m.edge) {
          if (p.t >= starts[w] && p.t < std::min(after_edge, from))
            pieces_add_counts(a, p.count, p.failures, p.maintenance);
        }
        for (const ClosedDay& d : m.closed)
          if (d.t >= after_edge && d.t < from)
            pieces_add_counts(a, d.count, d.failures, d.maintenance);
        for (size_t k = pieces_first_at(m.fine, std::max(starts[w], from)); k < m.fine.size(); ++k)
          pieces_add(a, m.fine[k], false);
      }
      if (!day.empty() || !longer[0].empty() || !longer[1].empty()) {
        HistorySummary& h = m.last.emplace();
        h.uptime_24h = day.uptime();
        h.p95_ms_24h = day.quantile_ms(0.95);
        h.uptime_30d = longer[0].uptime();
        h.uptime_90d = longer[1].uptime();
        h.first_day_ms = first_day;
        h.days.resize(kSummaryBars);
        size_t next_fine = std::max(split, pieces_first_at(m.fine, first_day));
        for (size_t k = 0; k < h.days.size(); ++k) {
          const int64_t d = first_day + static_cast<int64_t>(k) * kSummaryDay;
          if (d < from) {
            const size_t c = pieces_first_at(m.closed, d);
            if (c < m.closed.size() && m.closed[c].t == d) {
              const ClosedDay& cd = m.closed[c];
              Aggregate a;
              pieces_add_counts(a, cd.count, cd.failures, cd.maintenance);
              h.days[k] = day_summary(a);
              h.days[k].p95_ms = cd.p95_ms;
            }
            continue;
          }
          Aggregate a;
          const size_t at = pieces_first_at(m.settled->days, d);
          if (at < m.settled->days.size() && m.settled->days[at].t == d)
            pieces_add(a, m.settled->days[at], true);
          for (; next_fine < m.fine.size() && m.fine[next_fine].t < d + kSummaryDay; ++next_fine)
            if (m.fine[next_fine].t >= d) pieces_add(a, m.fine[next_fine], true);
          h.days[k] = day_summary(a);
        }
      }
    }
    if (m.last) {
      out[s.names[i]] = *m.last;
    } else {
      out.erase(s.names[i]);
    }
  }
}

}  // namespace lookout
