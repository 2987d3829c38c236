#include "store/history.h"

#include <fmt/format.h>

#include <array>
#include <string_view>

namespace lookout {
namespace {

constexpr int kLevels = 3;  // day, hour, minute; then raw
constexpr std::array<const RollupLevel*, kLevels> kByCoarseness{&kDayLevel, &kHourLevel, &kMinuteLevel};
constexpr int kRaw = kLevels;

int64_t align_up(int64_t t, int64_t size) {
  const int64_t d = align_down(t, size);
  return d == t ? t : d + size;
}

}  // namespace

// Prepared once per reader: [level][with monitor filter].
struct HistoryReader::Statements {
  std::array<std::array<sqlite3_stmt*, 2>, kLevels + 1> rows{};
  sqlite3_stmt* monitor = nullptr;
  ~Statements() {
    for (auto& l : rows) {
      for (auto* s : l) sqlite3_finalize(s);
    }
    sqlite3_finalize(monitor);
  }
};

HistoryReader::HistoryReader(sqlite3* db) : db_(db), st_(std::make_unique<Statements>()) {
  for (int level = 0; level <= kRaw; ++level) {
    for (int filtered = 0; filtered < 2; ++filtered) {
      const std::string where = filtered != 0 ? "monitor_id = ? AND t_ms >= ? AND t_ms < ?" : "t_ms >= ? AND t_ms < ?";
      const std::string sql =
          level == kRaw
              ? fmt::format("SELECT monitor_id, outcome, total_us, maintenance, samples FROM results WHERE {}", where)
              : fmt::format("SELECT monitor_id, count, failures, degraded, maintenance, min_us, max_us, sum_us, sketch "
                            "FROM {} WHERE {}",
                            kByCoarseness[static_cast<size_t>(level)]->table, where);
      sqlite3_prepare_v3(db_, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &st_->rows[static_cast<size_t>(level)][static_cast<size_t>(filtered)],
                         nullptr);
    }
  }
  sqlite3_prepare_v3(db_, "SELECT id FROM monitors WHERE name = ?", -1, SQLITE_PREPARE_PERSISTENT, &st_->monitor, nullptr);
  refresh();
}

HistoryReader::~HistoryReader() = default;

void HistoryReader::refresh() { wm_ = read_watermarks(db_); }

std::optional<int64_t> HistoryReader::monitor_id(const std::string& name) {
  sqlite3_stmt* st = st_->monitor;
  if (st == nullptr) return std::nullopt;
  sqlite3_reset(st);
  sqlite3_bind_text(st, 1, name.data(), static_cast<int>(name.size()), SQLITE_TRANSIENT);
  std::optional<int64_t> id;
  if (sqlite3_step(st) == SQLITE_ROW) id = sqlite3_column_int64(st, 0);
  sqlite3_reset(st);
  return id;
}

void HistoryReader::read_rows(int level, std::optional<int64_t> monitor, int64_t from, int64_t to, bool with_sketch,
                              Sink& out) {
  sqlite3_stmt* st = st_->rows[static_cast<size_t>(level)][monitor ? 1 : 0];
  if (st == nullptr) return;
  sqlite3_reset(st);
  int i = 1;
  if (monitor) sqlite3_bind_int64(st, i++, *monitor);
  sqlite3_bind_int64(st, i++, from);
  sqlite3_bind_int64(st, i, to);
  while (sqlite3_step(st) == SQLITE_ROW) {
    Aggregate& agg = out[sqlite3_column_int64(st, 0)];
    if (level == kRaw) {
      const int outcome = sqlite3_column_int(st, 1);
      const auto o = static_cast<Outcome>(outcome < 0 || outcome > 2 ? 2 : outcome);
      const bool maintenance = sqlite3_column_int(st, 3) != 0;
      if (sqlite3_column_type(st, 4) == SQLITE_BLOB && !maintenance) {
        agg.add_run(o, std::nullopt, false);
        if (with_sketch) {
          agg.add_samples(std::string_view(static_cast<const char*>(sqlite3_column_blob(st, 4)),
                                           static_cast<size_t>(sqlite3_column_bytes(st, 4))));
        }
      } else {
        agg.add_run(o, with_sketch ? column_opt(st, 2) : std::nullopt, maintenance);
      }
      continue;
    }
    const Aggregate a = read_rollup_columns(st, 1, with_sketch);
    agg.merge(a);
  }
  sqlite3_reset(st);
}

void HistoryReader::collect(int level, std::optional<int64_t> monitor, int64_t from, int64_t to, bool with_sketch,
                            Sink& out) {
  if (from >= to) return;
  if (level == kRaw) {
    read_rows(kRaw, monitor, from, to, with_sketch, out);
    return;
  }
  const RollupLevel& l = *kByCoarseness[static_cast<size_t>(level)];
  const std::optional<int64_t> folded = level == 0 ? wm_.day : level == 1 ? wm_.hour : wm_.minute;
  const int64_t a = align_up(from, l.size_ms);
  const int64_t b = folded ? std::min(align_down(to, l.size_ms), *folded) : a;
  if (a >= b) {
    collect(level + 1, monitor, from, to, with_sketch, out);
    return;
  }
  read_rows(level, monitor, a, b, with_sketch, out);
  collect(level + 1, monitor, from, a, with_sketch, out);
  collect(level + 1, monitor, b, to, with_sketch, out);
}

Aggregate HistoryReader::range(int64_t monitor_id, int64_t from_ms, int64_t to_ms, bool with_sketch) {
  Sink out;
  collect(0, monitor_id, from_ms, to_ms, with_sketch, out);
  auto it = out.find(monitor_id);
  return it == out.end() ? Aggregate{} : std::move(it->second);
}

std::unordered_map<std::string, Aggregate> HistoryReader::range_all(int64_t from_ms, int64_t to_ms, bool with_sketch) {
  Sink by_id;
  collect(0, std::nullopt, from_ms, to_ms, with_sketch, by_id);
  std::unordered_map<std::string, Aggregate> out;
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db_, "SELECT id, name FROM monitors", -1, &st, nullptr) == SQLITE_OK) {
    while (sqlite3_step(st) == SQLITE_ROW) {
      auto it = by_id.find(sqlite3_column_int64(st, 0));
      if (it == by_id.end()) continue;
      out.emplace(reinterpret_cast<const char*>(sqlite3_column_text(st, 1)), std::move(it->second));
    }
  }
  sqlite3_finalize(st);
  return out;
}

std::vector<HistoryReader::Point> HistoryReader::series(int64_t monitor_id, int64_t from_ms, int64_t to_ms, int64_t step_ms) {
  std::vector<Point> out;
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
  if (sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
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

SummaryMap compute_summaries(sqlite3* db, int64_t now_ms) {
  HistoryReader reader(db);
  constexpr int64_t kDay = 86'400'000;
  const auto day = reader.range_all(now_ms - kDay, now_ms + 1, true);
  const auto month = reader.range_all(now_ms - 30 * kDay, now_ms + 1, false);
  const auto quarter = reader.range_all(now_ms - 90 * kDay, now_ms + 1, false);
  SummaryMap out;
  for (const auto& [name, agg] : quarter) out[name].uptime_90d = agg.uptime();
  for (const auto& [name, agg] : month) out[name].uptime_30d = agg.uptime();
  for (const auto& [name, agg] : day) {
    out[name].uptime_24h = agg.uptime();
    out[name].p95_ms_24h = agg.quantile_ms(0.95);
  }
  // The status page's 90 daily bars: one read of all monitors per UTC day.
  constexpr int kDays = 90;
  const int64_t today = align_down(now_ms, kDay);
  for (auto& [name, summary] : out) {
    summary.days.resize(kDays);
    summary.first_day_ms = today - static_cast<int64_t>(kDays - 1) * kDay;
  }
  for (int d = 0; d < kDays; ++d) {
    const int64_t start = today - static_cast<int64_t>(kDays - 1 - d) * kDay;
    for (const auto& [name, agg] : reader.range_all(start, std::min(start + kDay, now_ms + 1), true)) {
      auto it = out.find(name);
      if (it == out.end()) continue;
      auto& day_summary = it->second.days[static_cast<size_t>(d)];
      day_summary.count = static_cast<uint32_t>(std::min<uint64_t>(agg.count, UINT32_MAX));
      day_summary.uptime = static_cast<float>(agg.uptime().value_or(0));
      day_summary.p95_ms = static_cast<float>(agg.quantile_ms(0.95).value_or(-1));
    }
  }
  return out;
}

}  // namespace lookout
