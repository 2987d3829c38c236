#include "store/pg_summaries.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <ctime>
#include <limits>
#include <map>

#include "store/lease_plan.h"

namespace lookout {
namespace {

// A time column in whole milliseconds since the epoch, as every time is written.
std::string summaries_ms(std::string_view column) {
  return fmt::format("floor(extract(epoch FROM {}) * 1000)::bigint", column);
}

// A constant the planner compares with the results' partition bounds, so that a read of the
// last minutes plans today's partition only (an expression would plan them all and prune them
// as it runs, at every read).
std::string summaries_at(int64_t ms) {
  const int64_t sec = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
  const auto t = static_cast<std::time_t>(sec);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return fmt::format("'{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:03}+00'::timestamptz",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     ms - sec * 1000);
}

std::string summaries_array(const std::vector<int>& shards) {
  std::string out = "{";
  for (const int s : shards) {
    if (out.size() > 1) out += ',';
    out += std::to_string(s);
  }
  return out + "}";
}

// A text[] parameter of names: each quoted, with its quotes and backslashes escaped.
std::string summaries_names(const std::vector<std::string>& names) {
  std::string out = "{";
  for (const std::string& n : names) {
    if (out.size() > 1) out += ',';
    out += '"';
    for (const char c : pg_text(n)) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

const char* summaries_table(PieceLevel level) {
  switch (level) {
    case PieceLevel::kDay:
      return "rollup_day";
    case PieceLevel::kHour:
      return "rollup_hour";
    case PieceLevel::kMinute:
      return "rollup_minute";
    case PieceLevel::kRaw:
      break;
  }
  return "results";
}

// One range, of the shards asking for the same one, as a SELECT of the columns group, monitor,
// t, count, failures, maintenance, sketch, outcome, total_us, samples: rollup rows fill the
// first ones, raw runs the last ones.
std::string summaries_select(size_t group, const PieceRange& r, int param) {
  std::string where =
      fmt::format("monitor = ANY(${}::text[]) AND t >= {}", param, summaries_at(r.from_ms));
  if (r.to_ms != std::numeric_limits<int64_t>::max())
    where += fmt::format(" AND t < {}", summaries_at(r.to_ms));
  if (r.level == PieceLevel::kRaw) {
    return fmt::format(
        "SELECT {}, monitor, {}, NULL::integer, NULL::integer, maintenance::integer, "
        "NULL::bytea, outcome, total_us, samples FROM results WHERE {}",
        group, summaries_ms("t"), where);
  }
  return fmt::format(
      "SELECT {}, monitor, {}, count, failures, maintenance, {}, NULL::smallint, NULL::bigint, "
      "NULL::bytea FROM {} WHERE {}",
      group, summaries_ms("t"), r.sketch ? "sketch" : "NULL::bytea", summaries_table(r.level),
      where);
}

uint32_t summaries_count(const std::optional<std::string>& v) {
  const auto n = pg_int(v);
  return n && *n > 0 ? static_cast<uint32_t>(std::min<int64_t>(*n, UINT32_MAX)) : 0;
}

// A row of the statement above, with its group; nullopt for one in a shape this lookout does
// not know.
std::optional<std::pair<size_t, PieceRow>> summaries_row(
    const std::vector<std::optional<std::string>>& row) {
  if (row.size() != 10 || !row[1]) return std::nullopt;
  const auto group = pg_int(row[0]), t = pg_int(row[2]);
  if (!group || !t || *group < 0) return std::nullopt;
  PieceRow p;
  p.monitor = *row[1];
  p.t_ms = *t;
  if (const auto outcome = pg_int(row[7])) {
    StoredRun run;
    run.outcome = static_cast<Outcome>(*outcome < 0 || *outcome > 2 ? 2 : *outcome);
    run.total_us = pg_int(row[8]);
    run.maintenance = row[5] == "1";
    run.samples = pg_bytes(row[9]);
    Aggregate a;
    a.add(run);
    p.count = static_cast<uint32_t>(a.count);
    p.failures = static_cast<uint32_t>(a.failures);
    p.maintenance = static_cast<uint32_t>(a.maintenance);
    if (!a.sketch.empty()) p.sketch = a.sketch.encode();
  } else {
    p.count = summaries_count(row[3]);
    p.failures = summaries_count(row[4]);
    p.maintenance = summaries_count(row[5]);
    if (auto bytes = pg_bytes(row[6])) p.sketch = std::move(*bytes);
  }
  return std::pair{static_cast<size_t>(*group), std::move(p)};
}

// The ranges of one statement: the shards of a read mostly ask for the same ones (their marks
// move together), and one SELECT of all their monitors costs PostgreSQL far less than one each.
struct SummariesGroup {
  PieceRange range;
  std::vector<std::string> monitors;
  std::map<int, size_t> ranges;  // shard -> the index of the range in its ShardRead
};

bool summaries_same(const PieceRange& a, const PieceRange& b) {
  return a.into == b.into && a.level == b.level && a.from_ms == b.from_ms && a.to_ms == b.to_ms &&
         a.sketch == b.sketch;
}

}  // namespace

PgSummaries::PgSummaries(EventLoop& loop, PgConnection& pg, const Clock& clock,
                         const std::vector<std::string>& monitors, SummaryCache& out)
    : clock_(clock),
      pg_(pg),
      out_(out),
      pieces_(monitors),
      timer_(loop),
      self_(std::make_shared<PgSummaries*>(this)) {
  for (int s = 0; s < kLeaseShards; ++s)
    if (!pieces_.monitors_of(s).empty()) shards_.push_back(s);
}

PgSummaries::~PgSummaries() { *self_ = nullptr; }

void PgSummaries::start() {
  tick();
  timer_.start_repeating(kTick, [this] { tick(); });
}

void PgSummaries::stop() {
  timer_.stop();
  *self_ = nullptr;
  self_ = std::make_shared<PgSummaries*>(this);
  in_flight_ = false;
}

bool PgSummaries::ready() const {
  return std::all_of(shards_.begin(), shards_.end(), [this](int s) { return pieces_.ready(s); });
}

void PgSummaries::tick() {
  if (in_flight_ || shards_.empty()) return;
  std::vector<int> shards;
  for (int i = 0; i < kShardsPerTick && i < static_cast<int>(shards_.size()); ++i) {
    shards.push_back(shards_[next_]);
    next_ = (next_ + 1) % shards_.size();
  }
  read(std::move(shards));
}

void PgSummaries::read(std::vector<int> shards) {
  in_flight_ = true;
  std::string asked = summaries_array(shards);
  pg_.query(fmt::format("SELECT shard, level, {}, moved_back FROM rollup_marks WHERE shard = "
                        "ANY($1::smallint[])",
                        summaries_ms("until")),
            {std::move(asked)}, [self = self_, shards = std::move(shards)](const PgResult& answer) {
              PgSummaries* r = *self;
              if (r == nullptr) return;
              if (!answer.ok()) {
                r->in_flight_ = false;
                r->tell(answer.error);
                return;
              }
              std::map<int, Watermarks> marks;
              std::map<int, int64_t> moved_back;
              for (const auto& row : answer.rows) {
                const auto shard = row.size() == 4 ? pg_int(row[0]) : std::nullopt;
                const auto until = row.size() == 4 ? pg_int(row[2]) : std::nullopt;
                if (!shard || !until || !row[1]) continue;
                moved_back[static_cast<int>(*shard)] += pg_int(row[3]).value_or(0);
                Watermarks& m = marks[static_cast<int>(*shard)];
                if (*row[1] == "minute") m.minute = until;
                if (*row[1] == "hour") m.hour = until;
                if (*row[1] == "day") m.day = until;
              }
              const int64_t now = to_unix_ms(r->clock_.wall());
              auto reads = std::make_shared<std::map<int, ShardRead>>();
              auto groups = std::make_shared<std::vector<SummariesGroup>>();
              for (const int s : shards) {
                ShardRead plan = r->pieces_.plan(s, marks[s], now, moved_back[s]);
                for (size_t i = 0; i < plan.ranges.size(); ++i) {
                  auto g =
                      std::find_if(groups->begin(), groups->end(), [&](const SummariesGroup& x) {
                        return summaries_same(x.range, plan.ranges[i]);
                      });
                  if (g == groups->end())
                    g = groups->insert(groups->end(), {plan.ranges[i], {}, {}});
                  const auto& names = r->pieces_.monitors_of(s);
                  g->monitors.insert(g->monitors.end(), names.begin(), names.end());
                  g->ranges.emplace(s, i);
                }
                reads->emplace(s, std::move(plan));
              }
              std::string sql;
              PgParams params;
              for (size_t g = 0; g < groups->size(); ++g) {
                if (!sql.empty()) sql += " UNION ALL ";
                params.emplace_back(summaries_names((*groups)[g].monitors));
                sql += summaries_select(g, (*groups)[g].range, static_cast<int>(params.size()));
              }
              r->pg_.query(std::move(sql), std::move(params),
                           [self, reads, groups](const PgResult& rows) {
                             PgSummaries* run = *self;
                             if (run == nullptr) return;
                             run->in_flight_ = false;
                             if (!rows.ok()) {
                               run->tell(rows.error);
                               return;
                             }
                             std::map<int, std::vector<PieceRow>> by_shard;
                             for (const auto& row : rows.rows) {
                               auto p = summaries_row(row);
                               if (!p || p->first >= groups->size()) continue;
                               const int shard = shard_of(p->second.monitor);
                               const auto& asked = (*groups)[p->first].ranges;
                               const auto range = asked.find(shard);
                               if (range == asked.end()) continue;
                               p->second.range = range->second;
                               by_shard[shard].push_back(std::move(p->second));
                             }
                             run->rows_ += rows.rows.size();
                             auto out = std::make_shared<SummaryMap>(*run->out_.get());
                             const int64_t at = to_unix_ms(run->clock_.wall());
                             for (const auto& [s, read] : *reads) {
                               run->pieces_.apply(s, read, by_shard[s]);
                               run->pieces_.summarize(s, at, *out);
                             }
                             run->out_.publish(std::move(out));
                             ++run->reads_;
                             run->told_.clear();
                           });
            });
}

void PgSummaries::tell(const std::string& error) {
  if (error == told_) return;
  told_ = error;
  spdlog::warn(
      "cluster: cannot read the status page's uptime figures from PostgreSQL: {}; the page "
      "shows them as last read until the next read succeeds",
      error);
}

}  // namespace lookout
