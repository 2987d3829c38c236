#include "store/history.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <limits>

#include "store/range_cut.h"
#include "store/statement.h"

namespace lookout {
namespace {

constexpr int kLevels = 3;  // day, hour, minute; then raw
constexpr std::array<const RollupLevel*, kLevels> kByCoarseness{&kDayLevel, &kHourLevel,
                                                                &kMinuteLevel};
constexpr int kRaw = kLevels;
static_assert(static_cast<int>(CutLevel::kRaw) == kRaw && static_cast<int>(CutLevel::kDay) == 0);

int64_t align_up(int64_t t, int64_t size) {
  const int64_t d = align_down(t, size);
  return d == t ? t : d + size;
}

}  // namespace

// Prepared once per reader: [level][with monitor filter].
struct HistoryReader::Statements {
  std::array<std::array<std::optional<Stmt>, 2>, kLevels + 1> rows;
  std::optional<Stmt> monitor;
};

HistoryReader::HistoryReader(sqlite3* db) : db_(db), st_(std::make_unique<Statements>()) {
  for (int level = 0; level <= kRaw; ++level) {
    for (int filtered = 0; filtered < 2; ++filtered) {
      const std::string where =
          filtered != 0 ? "monitor_id = ? AND t_ms >= ? AND t_ms < ?" : "t_ms >= ? AND t_ms < ?";
      const std::string sql = level == kRaw
                                  ? fmt::format(
                                        "SELECT monitor_id, outcome, total_us, maintenance, "
                                        "samples FROM results WHERE {}",
                                        where)
                                  : fmt::format(
                                        "SELECT monitor_id, count, failures, degraded, "
                                        "maintenance, min_us, max_us, sum_us, sketch "
                                        "FROM {} WHERE {}",
                                        kByCoarseness[static_cast<size_t>(level)]->table, where);
      st_->rows[static_cast<size_t>(level)][static_cast<size_t>(filtered)].emplace(
          db_, sql, SQLITE_PREPARE_PERSISTENT);
    }
  }
  st_->monitor.emplace(db_, "SELECT id FROM monitors WHERE name = ?", SQLITE_PREPARE_PERSISTENT);
  refresh();
}

HistoryReader::~HistoryReader() = default;

void HistoryReader::refresh() { wm_ = read_watermarks(db_); }

std::optional<int64_t> HistoryReader::monitor_id(const std::string& name) {
  Stmt& st = *st_->monitor;
  if (!st.ok()) return std::nullopt;
  st.reset();
  st.bind(1, name);
  std::optional<int64_t> id;
  if (st.step() == SQLITE_ROW) id = sqlite3_column_int64(st.get(), 0);
  st.reset();
  return id;
}

void HistoryReader::read_rows(int level, std::optional<int64_t> monitor, int64_t from, int64_t to,
                              bool with_sketch, Sink& out) {
  Stmt& st = *st_->rows[static_cast<size_t>(level)][monitor ? 1 : 0];
  if (!st.ok()) return;
  st.reset();
  int i = 1;
  if (monitor) st.bind(i++, *monitor);
  st.bind(i++, from);
  st.bind(i, to);
  while (st.step() == SQLITE_ROW) {
    Aggregate& agg = out[sqlite3_column_int64(st.get(), 0)];
    if (level == kRaw) {
      agg.add(read_run_columns(st.get(), 1), with_sketch);
      continue;
    }
    const Aggregate a = read_rollup_columns(st.get(), 1, with_sketch);
    agg.merge(a);
  }
  st.reset();
}

void HistoryReader::collect(int level, std::optional<int64_t> monitor, int64_t from, int64_t to,
                            bool with_sketch, Sink& out) {
  for (const RangePiece& piece : cut_range(from, to, wm_, static_cast<CutLevel>(level))) {
    read_rows(static_cast<int>(piece.level), monitor, piece.from, piece.to, with_sketch, out);
  }
}

Aggregate HistoryReader::range(int64_t monitor_id, int64_t from_ms, int64_t to_ms,
                               bool with_sketch) {
  Sink out;
  collect(0, monitor_id, from_ms, to_ms, with_sketch, out);
  auto it = out.find(monitor_id);
  return it == out.end() ? Aggregate{} : std::move(it->second);
}

std::unordered_map<int64_t, Aggregate> HistoryReader::range_all(int64_t from_ms, int64_t to_ms,
                                                                bool with_sketch) {
  Sink out;
  collect(0, std::nullopt, from_ms, to_ms, with_sketch, out);
  return out;
}

std::unordered_map<int64_t, std::string> HistoryReader::monitor_names() {
  std::unordered_map<int64_t, std::string> out;
  Stmt st(db_, "SELECT id, name FROM monitors");
  if (!st.ok()) return out;
  while (st.step() == SQLITE_ROW) {
    out.emplace(sqlite3_column_int64(st.get(), 0), column_text(st.get(), 1));
  }
  return out;
}

void HistoryReader::runs(
    int64_t from_ms, int64_t to_ms,
    const std::function<void(int64_t monitor_id, int64_t t_ms, StoredRun run)>& f) {
  Stmt st(db_,
          "SELECT monitor_id, t_ms, outcome, total_us, maintenance, samples FROM results "
          "WHERE t_ms >= ? AND t_ms < ? ORDER BY t_ms");
  if (!st.ok()) return;
  st.bind(1, from_ms);
  st.bind(2, to_ms);
  while (st.step() == SQLITE_ROW) {
    f(sqlite3_column_int64(st.get(), 0), sqlite3_column_int64(st.get(), 1),
      read_run_columns(st.get(), 2));
  }
}

std::vector<SeriesPoint> HistoryReader::series(int64_t monitor_id, int64_t from_ms, int64_t to_ms,
                                               int64_t step_ms) {
  std::vector<SeriesPoint> out;
  for (int64_t t = align_down(from_ms, step_ms); t <= to_ms; t += step_ms) {
    out.push_back({t, range(monitor_id, t, std::min(t + step_ms, to_ms + 1))});
  }
  return out;
}

ReadPool::~ReadPool() {
  for (sqlite3* db : idle_) sqlite3_close(db);
}

std::unique_ptr<ReadPool::Lease> ReadPool::take() {
  {
    std::lock_guard lock(mu_);
    if (!idle_.empty()) {
      sqlite3* db = idle_.back();
      idle_.pop_back();
      return std::make_unique<Lease>(*this, db);
    }
  }
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr) !=
      SQLITE_OK) {
    sqlite3_close(db);
    return nullptr;
  }
  sqlite3_busy_timeout(db, 2000);
  return std::make_unique<Lease>(*this, db);
}

void ReadPool::give_back(sqlite3* db) {
  std::lock_guard lock(mu_);
  idle_.push_back(db);
}

// Outside the anonymous namespace because SummaryBuilder::Monitor holds it (a unity build
// would otherwise give a member of a named class a type of internal linkage).
namespace summary_detail {
// What a summary shows of an Aggregate, kept small from one tick to the next: an encoded
// sketch is a few hundred bytes, a dense one a few kilobytes.
struct Part {
  uint64_t count = 0, failures = 0, maintenance = 0;
  std::string sketch;
};
}  // namespace summary_detail

namespace {

constexpr int64_t kMinute = kMinuteLevel.size_ms, kHour = kHourLevel.size_ms,
                  kDay = kDayLevel.size_ms;
constexpr int kBars = 90;
using ByMonitor = std::unordered_map<int64_t, Aggregate>;

struct Window {
  int64_t span_ms;
  bool latency;  // whether its p95 is shown
};
constexpr std::array<Window, 3> kWindows{{{kDay, true}, {30 * kDay, false}, {90 * kDay, false}}};

using summary_detail::Part;

Part pack(const Aggregate& a) {
  Part p{a.count, a.failures, a.maintenance, {}};
  if (!a.sketch.empty()) p.sketch = a.sketch.encode();
  return p;
}

void add_part(Aggregate& a, const Part& p) {
  a.count += p.count;
  a.failures += p.failures;
  a.maintenance += p.maintenance;
  if (!p.sketch.empty()) {
    if (auto s = LatencySketch::decode(p.sketch)) a.sketch.merge(*s);
  }
}

}  // namespace

DaySummary day_summary(const Aggregate& a) {
  return {static_cast<uint32_t>(std::min<uint64_t>(a.count, UINT32_MAX)),
          static_cast<float>(a.uptime().value_or(0)),
          static_cast<float>(a.quantile_ms(0.95).value_or(-1))};
}

struct SummaryBuilder::Monitor {
  // One window's start. Both parts together are what a reader reads from the k-th whole minute
  // of the start (as at the tick) up to the cut; they are split where no start in those
  // minutes changes the part after.
  struct Edge {
    Part after;
    std::array<Part, kEdgeMinutes + 1> before;
    // The raw runs from the start (as at the tick) to the last of those minutes.
    std::vector<std::pair<int64_t, StoredRun>> runs;
  };
  std::array<Edge, kWindows.size()> windows;
  Part cut_day;                                // the UTC day holding the cut, up to the cut
  std::vector<std::pair<int64_t, Part>> tail;  // runs at or after the cut, by UTC day
  uint64_t tail_version = 0;
  // What its last summary was made of, to make it again only when that changed.
  std::optional<std::array<int64_t, 2 * kWindows.size() + 2>> made_of;

  void add_to_tail(int64_t t_ms, const StoredRun& run) {
    const int64_t day = align_down(t_ms, kDay);
    auto it = std::find_if(tail.begin(), tail.end(), [&](const auto& d) { return d.first == day; });
    if (it == tail.end()) it = tail.insert(tail.end(), {day, Part{}});
    Aggregate a;
    add_part(a, it->second);
    a.add(run);
    it->second = pack(a);
    ++tail_version;
  }
};

SummaryBuilder::SummaryBuilder() = default;
SummaryBuilder::~SummaryBuilder() = default;

void SummaryBuilder::rebuild(sqlite3* db, int64_t now_ms, int64_t grace_ms) {
  HistoryReader reader(db);
  const int64_t cut =
      std::max(reader.watermarks().minute.value_or(now_ms - grace_ms), now_ms - grace_ms);
  std::unordered_map<int64_t, std::unique_ptr<Monitor>> by_id;
  auto at = [&](int64_t id) -> Monitor& {
    auto& m = by_id[id];
    if (!m) m = std::make_unique<Monitor>();
    return *m;
  };

  for (size_t w = 0; w < kWindows.size(); ++w) {
    const auto [span, latency] = kWindows[w];
    const int64_t first = align_up(now_ms - span, kMinute);
    const int64_t last = first + kEdgeMinutes * kMinute;
    // A reader reads an hour or day row only while the range starts at or before the row, so
    // every start in these minutes reads the same from `split` on: past the row one of the
    // minutes begins, else from `last`. Before the split, what a start on a minute reads is
    // that minute plus what the next one reads, but on the minute that begins the row.
    std::optional<int> aligned;
    int64_t split = last;
    for (int k = 0; k < kEdgeMinutes; ++k) {
      const int64_t x = first + k * kMinute;
      if (align_down(x, kHour) == x) {
        aligned = k;
        split = x + (align_down(x, kDay) == x ? kDay : kHour);
      }
    }
    split = std::min(split, cut);
    for (const auto& [id, a] : reader.range_all(split, cut, latency))
      at(id).windows[w].after = pack(a);
    ByMonitor before = reader.range_all(std::min(last, split), split, latency);
    for (int k = kEdgeMinutes; k >= 0; --k) {
      const int64_t x = std::min(first + k * kMinute, split);
      if (k == aligned) {
        before = reader.range_all(x, split, latency);
      } else if (k < kEdgeMinutes) {
        for (const auto& [id, a] : reader.range_all(x, std::min(x + kMinute, split), latency))
          before[id].merge(a);
      }
      for (const auto& [id, a] : before) at(id).windows[w].before[static_cast<size_t>(k)] = pack(a);
    }
    reader.runs(now_ms - span, std::min(last, cut), [&](int64_t id, int64_t t, StoredRun run) {
      at(id).windows[w].runs.emplace_back(t, std::move(run));
    });
  }

  // The status page's bars, one read of all monitors per UTC day. The days before the cut's
  // no longer change: they go into the first summaries, and each summary hands them on.
  const int64_t first_day = align_down(now_ms, kDay) - (kBars - 1) * kDay;
  const int64_t cut_day = align_down(cut, kDay);
  std::unordered_map<int64_t, std::vector<DaySummary>> closed;
  for (int i = 0; i < kBars; ++i) {
    const int64_t day = first_day + i * kDay;
    if (day > cut_day) break;
    for (const auto& [id, a] : reader.range_all(day, day == cut_day ? cut : day + kDay, true)) {
      if (day == cut_day) {
        at(id).cut_day = pack(a);
      } else {
        auto& days = closed[id];
        days.resize(kBars);
        days[static_cast<size_t>(i)] = day_summary(a);
      }
    }
  }
  reader.runs(cut, std::numeric_limits<int64_t>::max(),
              [&](int64_t id, int64_t t, const StoredRun& run) { at(id).add_to_tail(t, run); });

  const auto names = reader.monitor_names();
  auto first = std::make_shared<SummaryMap>();
  monitors_.clear();
  for (auto& [id, m] : by_id) {
    const auto n = names.find(id);
    if (n == names.end()) continue;
    monitors_.emplace(n->second, std::move(m));
    if (auto c = closed.find(id); c != closed.end()) {
      auto& s = (*first)[n->second];
      s.first_day_ms = first_day;
      s.days = std::move(c->second);
    }
  }
  built_ = true;
  tick_ms_ = now_ms;
  cut_ms_ = cut;
  last_ = std::move(first);
}

void SummaryBuilder::add(const std::string& monitor, int64_t t_ms, const StoredRun& run) {
  // Before the cut a reader reads rolled-up minutes, which no longer take in a run: this one
  // came later than any grace allows.
  if (!built_ || t_ms < cut_ms_) return;
  auto& m = monitors_[monitor];
  if (!m) m = std::make_unique<Monitor>();
  m->add_to_tail(t_ms, run);
}

std::shared_ptr<const SummaryMap> SummaryBuilder::summarize(int64_t now_ms) {
  if (!built_) return std::make_shared<const SummaryMap>();
  const int64_t today = align_down(now_ms, kDay);
  const int64_t cut_day = align_down(cut_ms_, kDay);
  std::vector<std::pair<const std::string*, std::optional<HistorySummary>>> remade;
  for (auto& [name, m] : monitors_) {
    // Where each window starts now: an edge minute, and the raw runs of the partial minute
    // before it.
    struct Start {
      size_t minute;
      size_t from, to;  // of the edge's runs
    };
    std::array<Start, kWindows.size()> starts{};
    std::array<int64_t, 2 * kWindows.size() + 2> made_of{};
    for (size_t w = 0; w < kWindows.size(); ++w) {
      const int64_t first = align_up(tick_ms_ - kWindows[w].span_ms, kMinute);
      const int64_t start = std::clamp(now_ms - kWindows[w].span_ms, tick_ms_ - kWindows[w].span_ms,
                                       first + kEdgeMinutes * kMinute);
      const int64_t minute = align_up(start, kMinute);
      const auto& runs = m->windows[w].runs;
      auto before = [](const std::pair<int64_t, StoredRun>& r, int64_t t) { return r.first < t; };
      starts[w].minute = static_cast<size_t>((minute - first) / kMinute);
      starts[w].from = static_cast<size_t>(
          std::lower_bound(runs.begin(), runs.end(), start, before) - runs.begin());
      starts[w].to = static_cast<size_t>(
          std::lower_bound(runs.begin(), runs.end(), minute, before) - runs.begin());
      made_of[2 * w] = static_cast<int64_t>(starts[w].minute);
      made_of[2 * w + 1] = static_cast<int64_t>(starts[w].from);
    }
    made_of[2 * kWindows.size()] = static_cast<int64_t>(m->tail_version);
    made_of[2 * kWindows.size() + 1] = today;
    if (m->made_of == made_of) continue;
    m->made_of = made_of;

    Aggregate tail;
    for (const auto& [day, p] : m->tail) add_part(tail, p);
    std::array<Aggregate, kWindows.size()> windows;
    bool any = false;
    for (size_t w = 0; w < kWindows.size(); ++w) {
      const auto& edge = m->windows[w];
      Aggregate& a = windows[w];
      add_part(a, edge.after);
      add_part(a, edge.before[starts[w].minute]);
      for (size_t i = starts[w].from; i < starts[w].to; ++i)
        a.add(edge.runs[i].second, kWindows[w].latency);
      a.merge(tail);
      any = any || !a.empty();
    }
    auto& s = remade.emplace_back(&name, std::nullopt).second;
    if (!any) continue;
    s.emplace();
    s->uptime_24h = windows[0].uptime();
    s->p95_ms_24h = windows[0].quantile_ms(0.95);
    s->uptime_30d = windows[1].uptime();
    s->uptime_90d = windows[2].uptime();
    s->first_day_ms = today - (kBars - 1) * kDay;
    s->days.resize(kBars);
    const auto previous = last_->find(name);
    for (size_t i = 0; i < s->days.size(); ++i) {
      const int64_t day = s->first_day_ms + static_cast<int64_t>(i) * kDay;
      if (day < cut_day) {
        if (previous == last_->end()) continue;
        const auto& was = previous->second;
        const int64_t at = (day - was.first_day_ms) / kDay;
        if (at >= 0 && at < static_cast<int64_t>(was.days.size()))
          s->days[i] = was.days[static_cast<size_t>(at)];
        continue;
      }
      Aggregate a;
      if (day == cut_day) add_part(a, m->cut_day);
      for (const auto& [d, p] : m->tail) {
        if (d == day) add_part(a, p);
      }
      s->days[i] = day_summary(a);
    }
  }
  if (remade.empty()) return last_;
  auto out = std::make_shared<SummaryMap>(*last_);
  for (auto& [name, s] : remade) {
    if (s) {
      (*out)[*name] = std::move(*s);
    } else {
      out->erase(*name);
    }
  }
  last_ = std::move(out);
  return last_;
}

}  // namespace lookout
