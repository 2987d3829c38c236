#include "store/pg_rollup.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <iterator>

#include "core/clock.h"
#include "store/lease_plan.h"
#include "store/pg_arrays.h"
#include "store/rollup.h"

namespace lookout {
namespace {

// A time as a literal of a script, which has no parameters.
std::string time_literal(int64_t t_ms) {
  return fmt::format("'{}'::timestamptz", rfc3339(from_unix_ms(t_ms)));
}

// Text as a literal of a script: an escape string, so that it reads the same whatever
// standard_conforming_strings says.
std::string text_literal(std::string_view s) {
  std::string out = "E'";
  std::string scratch;
  for (const char c : pg_text(s, scratch)) {
    if (c == '\\' || c == '\'') out += c;
    out += c;
  }
  return out + "'";
}

std::string int_or_null(const std::optional<int64_t>& v) {
  return v ? std::to_string(*v) : std::string("NULL::bigint");
}

const RollupLevel& level_of(RollLevel level) {
  return level == RollLevel::kMinute ? kMinuteLevel
         : level == RollLevel::kHour ? kHourLevel
                                     : kDayLevel;
}

std::string hex_of(const std::string& bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const char b : bytes) {
    fmt::format_to(std::back_inserter(out), "{:02x}", static_cast<unsigned char>(b));
  }
  return out;
}

// The rollup columns in the order rollup_of_row reads them.
constexpr const char* kRollupColumns =
    "count, failures, degraded, maintenance, min_us, max_us, sum_us, sketch";

}  // namespace

std::string pg_ms(std::string_view column) {
  return fmt::format("floor(extract(epoch FROM {}) * 1000)::bigint", column);
}

std::string pg_at_ms(int n) {
  return fmt::format("('epoch'::timestamptz + ${}::bigint * interval '1 millisecond')", n);
}

const char* level_name(RollLevel level) {
  return level == RollLevel::kMinute ? "minute" : level == RollLevel::kHour ? "hour" : "day";
}

const char* rollup_table(CutLevel level) {
  return level == CutLevel::kMinute ? kMinuteLevel.table
         : level == CutLevel::kHour ? kHourLevel.table
                                    : kDayLevel.table;
}

std::optional<RollStep> next_roll_step(const Watermarks& marks, int64_t complete_ms) {
  if (!marks.minute || !marks.hour || !marks.day) return std::nullopt;
  const int64_t minutes = align_down(complete_ms, kMinuteLevel.size_ms);
  if (*marks.minute < minutes) {
    return RollStep{RollLevel::kMinute, *marks.minute,
                    std::min(minutes, *marks.minute + kMinuteChunkMs), minutes};
  }
  const int64_t hours = align_down(*marks.minute, kHourLevel.size_ms);
  if (*marks.hour < hours) {
    return RollStep{RollLevel::kHour, *marks.hour, std::min(hours, *marks.hour + kHourChunkMs),
                    hours};
  }
  const int64_t days = align_down(*marks.hour, kDayLevel.size_ms);
  if (*marks.day < days) {
    return RollStep{RollLevel::kDay, *marks.day, std::min(days, *marks.day + kDayChunkMs), days};
  }
  return std::nullopt;
}

std::string read_rollup_marks(const std::map<int, std::vector<std::string>>& monitors_by_shard) {
  std::vector<std::string> shards, monitors, monitor_shards;
  for (const auto& [shard, names] : monitors_by_shard) {
    shards.push_back(std::to_string(shard));
    for (const auto& name : names) {
      monitors.push_back(name);
      monitor_shards.push_back(std::to_string(shard));
    }
  }
  const std::string shard_array = text_literal(fmt::format("{{{}}}", fmt::join(shards, ",")));
  // A shard's first marks are made under its rollup lock, taken (in shard order) by a statement
  // of its own, as a step takes it: a results batch still open moves no mark of a shard that
  // has none, so the marks' start must see every batch that committed before them, or runs
  // older than it would never be folded. A shard's first marks start at the day of its oldest
  // run: min(t) of each monitor is one probe of results_by_monitor per partition.
  return fmt::format(
      R"sql(SELECT pg_advisory_xact_lock({2}, s) FROM unnest({3}::int[]) s
  WHERE (SELECT count(*) FROM rollup_marks m WHERE m.shard = s) < 3 ORDER BY s;
WITH wanted AS (SELECT DISTINCT s::smallint AS shard FROM unnest({3}::int[]) s),
missing AS (
  SELECT w.shard FROM wanted w
  WHERE (SELECT count(*) FROM rollup_marks m WHERE m.shard = w.shard) < 3),
firsts AS (
  SELECT mo.shard, min(f.t) AS t
  FROM unnest({4}::text[], {5}::int[]) AS mo(monitor, shard)
  CROSS JOIN LATERAL (SELECT min(r.t) AS t FROM results r WHERE r.monitor = mo.monitor) f
  WHERE mo.shard IN (SELECT shard FROM missing)
  GROUP BY mo.shard),
made AS (
  INSERT INTO rollup_marks (shard, level, until)
  SELECT mi.shard, l,
         date_trunc('day', COALESCE(fi.t, clock_timestamp()) AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
  FROM missing mi LEFT JOIN firsts fi ON fi.shard = mi.shard,
       unnest(ARRAY['minute', 'hour', 'day']) l
  ON CONFLICT DO NOTHING
  RETURNING shard, level, until)
SELECT shard, level, {0} FROM rollup_marks WHERE shard IN (SELECT shard FROM wanted)
UNION ALL SELECT shard, level, {0} FROM made
UNION ALL SELECT -1, 'now', {1};
)sql",
      pg_ms("until"), pg_ms("clock_timestamp()"), kPgRollupLock, shard_array,
      text_literal(pg_text_array(monitors)),
      text_literal(fmt::format("{{{}}}", fmt::join(monitor_shards, ","))));
}

std::optional<RollupMarks> rollup_marks_of(const PgResult& answer) {
  if (!answer.ok()) return std::nullopt;
  RollupMarks out;
  bool now = false;
  for (const auto& row : answer.rows) {
    if (row.size() != 3 || !row[1]) return std::nullopt;
    const auto shard = pg_int(row[0]);
    const auto until = pg_int(row[2]);
    if (!shard || !until) return std::nullopt;
    if (*shard < 0) {
      out.now_ms = *until;
      now = true;
      continue;
    }
    Watermarks& w = out.shards[static_cast<int>(*shard)];
    if (*row[1] == "minute") w.minute = until;
    if (*row[1] == "hour") w.hour = until;
    if (*row[1] == "day") w.day = until;
  }
  if (!now) return std::nullopt;
  return out;
}

PgStatement read_roll_source(const RollStep& step, const std::vector<std::string>& monitors) {
  PgParams params{pg_text_array(monitors), std::to_string(step.from), std::to_string(step.to)};
  if (step.level == RollLevel::kMinute) {
    return {fmt::format("SELECT monitor, {}, outcome, total_us, maintenance, samples FROM results "
                        "WHERE monitor = ANY($1::text[]) AND t >= {} AND t < {}",
                        pg_ms("t"), pg_at_ms(2), pg_at_ms(3)),
            std::move(params)};
  }
  const RollupLevel& below =
      level_of(step.level == RollLevel::kHour ? RollLevel::kMinute : RollLevel::kHour);
  return {fmt::format("SELECT monitor, {}, {} FROM {} WHERE monitor = ANY($1::text[]) AND t >= {} "
                      "AND t < {}",
                      pg_ms("t"), kRollupColumns, below.table, pg_at_ms(2), pg_at_ms(3)),
          std::move(params)};
}

PgStatement read_next_source(const RollStep& step, const std::vector<std::string>& monitors) {
  const char* table = step.level == RollLevel::kMinute ? "results"
                      : step.level == RollLevel::kHour ? kMinuteLevel.table
                                                       : kHourLevel.table;
  return {fmt::format("SELECT {} FROM {} WHERE monitor = ANY($1::text[]) AND t >= {} AND t < {}",
                      pg_ms("min(t)"), table, pg_at_ms(2), pg_at_ms(3)),
          {pg_text_array(monitors), std::to_string(step.to), std::to_string(step.limit)}};
}

std::optional<RollStep> stretch_empty_step(const RollStep& step, const PgResult& answer) {
  if (!answer.ok() || answer.rows.size() != 1 || answer.rows[0].size() != 1) return std::nullopt;
  RollStep out = step;
  out.to = step.limit;
  if (const auto next = pg_int(answer.rows[0][0])) {
    out.to = std::clamp(align_down(*next, level_of(step.level).size_ms), step.to, step.limit);
  }
  return out;
}

std::optional<RollBuckets> fold_roll_source(const RollStep& step, const PgResult& answer,
                                            uint64_t& rows) {
  if (!answer.ok()) return std::nullopt;
  const bool raw = step.level == RollLevel::kMinute;
  const int64_t size = level_of(step.level).size_ms;
  RollBuckets out;
  rows = 0;
  for (const auto& row : answer.rows) {
    if (row.size() != (raw ? 6u : 10u) || !row[0]) return std::nullopt;
    const auto t = pg_int(row[1]);
    if (!t || *t < step.from || *t >= step.to) return std::nullopt;
    Aggregate& bucket = out[{*row[0], align_down(*t, size)}];
    if (raw) {
      bucket.add(run_of_row(row, 2));
    } else {
      bucket.merge(rollup_of_row(row, 2));
    }
    ++rows;
  }
  return out;
}

std::string write_roll_step(const LeaseFence& fence, int shard, const RollStep& step,
                            const std::vector<std::string>& monitors, uint64_t source_rows,
                            const RollBuckets& buckets) {
  const char* level = level_name(step.level);
  // The rows read are still the chunk's: raw rows only ever come in (a late one moves the mark
  // back only when the mark is past it, so counting them is what tells it apart), and the level
  // below is final where its mark covers the chunk.
  const std::string source =
      step.level == RollLevel::kMinute
          ? fmt::format(
                "(SELECT count(*) FROM results WHERE monitor = ANY({}::text[]) AND t >= {} AND "
                "t < {}) = {}",
                text_literal(pg_text_array(monitors)), time_literal(step.from),
                time_literal(step.to), source_rows)
          : fmt::format("(SELECT until FROM rollup_marks WHERE shard = {} AND level = '{}') >= {}",
                        shard, step.level == RollLevel::kHour ? "minute" : "hour",
                        time_literal(step.to));
  std::string values;
  for (const auto& [key, a] : buckets) {
    if (!values.empty()) values += ",\n";
    fmt::format_to(std::back_inserter(values),
                   "({}, {}, {}, {}, {}, {}, {}, {}, {}, decode('{}', 'hex'))",
                   time_literal(key.second), a.count, a.failures, a.degraded, a.maintenance,
                   int_or_null(a.min_us), int_or_null(a.max_us), a.sum_us, text_literal(key.first),
                   hex_of(a.sketch.encode()));
  }
  const std::string upsert =
      values.empty()
          ? std::string("up AS (SELECT 1 WHERE false)")
          : fmt::format(
                "up AS (INSERT INTO {0} (t, count, failures, degraded, maintenance, min_us, "
                "max_us, sum_us, monitor, sketch)\n"
                "  SELECT v.* FROM (VALUES\n{1}) AS v(t, count, failures, degraded, maintenance, "
                "min_us, max_us, sum_us, monitor, sketch)\n"
                "  WHERE EXISTS (SELECT FROM ok)\n"
                "  ON CONFLICT (monitor, t) DO UPDATE SET count = excluded.count, failures = "
                "excluded.failures, degraded = excluded.degraded, maintenance = "
                "excluded.maintenance, min_us = excluded.min_us, max_us = excluded.max_us, "
                "sum_us = excluded.sum_us, sketch = excluded.sketch\n"
                "  RETURNING 1)",
                level_of(step.level).table, values);
  // The lock is taken by a statement of its own: the next statement's snapshot is taken once
  // it is held, and so sees every batch that committed before it.
  return fmt::format(
      R"sql(SELECT pg_advisory_xact_lock({0}, {1});
WITH fence AS MATERIALIZED (
  SELECT epoch FROM leases
  WHERE name = {2} AND holder = {3} AND epoch = {4} AND expires_at > clock_timestamp()
  FOR SHARE),
ok AS MATERIALIZED (
  SELECT 1 FROM fence
  WHERE (SELECT until FROM rollup_marks WHERE shard = {1} AND level = '{5}') = {6}
    AND {7}),
{8},
mark AS (UPDATE rollup_marks SET until = {9} WHERE shard = {1} AND level = '{5}'
         AND EXISTS (SELECT FROM ok) RETURNING 1)
SELECT EXISTS (SELECT FROM ok), (SELECT count(*) FROM up))sql",
      kPgRollupLock, shard, text_literal(fence.lease), text_literal(fence.holder), fence.epoch,
      level, time_literal(step.from), source, upsert, time_literal(step.to));
}

std::optional<bool> roll_step_written(const PgResult& answer) {
  if (!answer.ok() || answer.rows.size() != 1 || answer.rows[0].size() != 2) return std::nullopt;
  const auto& ok = answer.rows[0][0];
  if (!ok || (*ok != "t" && *ok != "f")) return std::nullopt;
  return *ok == "t";
}

std::string rollup_marks_back(const std::map<int, int64_t>& oldest) {
  if (oldest.empty()) return "";
  std::vector<std::string> shards;
  std::string values;
  for (const auto& [shard, t] : oldest) {
    shards.push_back(std::to_string(shard));
    for (const RollLevel level : {RollLevel::kMinute, RollLevel::kHour, RollLevel::kDay}) {
      if (!values.empty()) values += ", ";
      fmt::format_to(std::back_inserter(values), "({}, '{}', {})", shard, level_name(level),
                     time_literal(align_down(t, level_of(level).size_ms)));
    }
  }
  return fmt::format(
      "SELECT pg_advisory_xact_lock_shared({0}, s) FROM unnest('{{{1}}}'::int[]) s;\n"
      "UPDATE rollup_marks m SET until = v.b, moved_back = m.moved_back + 1 FROM (VALUES {2}) "
      "AS v(shard, level, b) "
      "WHERE m.shard = v.shard AND m.level = v.level AND m.until > v.b;\n",
      kPgRollupLock, fmt::join(shards, ","), values);
}

std::string rollup_lock_cte(int shard_param) {
  return fmt::format(
      "rollup_locked AS MATERIALIZED (SELECT pg_advisory_xact_lock_shared({}, ${}::int))",
      kPgRollupLock, shard_param);
}

std::string rollup_marks_back_cte(int shard_param, int oldest_param) {
  std::string sizes;
  for (const RollLevel level : {RollLevel::kMinute, RollLevel::kHour, RollLevel::kDay}) {
    if (!sizes.empty()) sizes += ", ";
    fmt::format_to(std::back_inserter(sizes), "('{}', {})", level_name(level),
                   level_of(level).size_ms);
  }
  return fmt::format(
      "rollup_marks_moved AS (\n"
      "  UPDATE rollup_marks m SET until = v.b, moved_back = m.moved_back + 1\n"
      "  FROM fence, (VALUES {2}) AS s(level, size_ms), LATERAL (SELECT 'epoch'::timestamptz\n"
      "    + floor(${1}::bigint / s.size_ms::numeric) * s.size_ms * interval '1 millisecond' AS "
      "b) v\n"
      "  WHERE m.shard = ${0}::smallint AND m.level = s.level AND m.until > v.b\n"
      "  RETURNING 1\n"
      ")",
      shard_param, oldest_param, sizes);
}

PgStatement delete_old_rollups(int64_t keep_minutes_ms, int64_t keep_hours_ms, int64_t keep_days_ms,
                               int limit) {
  // A shard without a mark of the next level has folded nothing of it: then nothing goes.
  return {fmt::format(
              R"sql(WITH hm AS (
  SELECT CASE WHEN count(*) >= {0} THEN min(until) ELSE '-infinity'::timestamptz END AS u
  FROM rollup_marks WHERE level = 'hour'),
dm AS (
  SELECT CASE WHEN count(*) >= {0} THEN min(until) ELSE '-infinity'::timestamptz END AS u
  FROM rollup_marks WHERE level = 'day'),
a AS (DELETE FROM rollup_minute WHERE ctid = ANY (ARRAY(
  SELECT ctid FROM rollup_minute
  WHERE t < LEAST(clock_timestamp() - $1::bigint * interval '1 millisecond', (SELECT u FROM hm))
  LIMIT $4)) RETURNING 1),
b AS (DELETE FROM rollup_hour WHERE ctid = ANY (ARRAY(
  SELECT ctid FROM rollup_hour
  WHERE t < LEAST(clock_timestamp() - $2::bigint * interval '1 millisecond', (SELECT u FROM dm))
  LIMIT $4)) RETURNING 1),
c AS (DELETE FROM rollup_day WHERE ctid = ANY (ARRAY(
  SELECT ctid FROM rollup_day WHERE t < clock_timestamp() - $3::bigint * interval '1 millisecond'
  LIMIT $4)) RETURNING 1)
SELECT (SELECT count(*) FROM a) + (SELECT count(*) FROM b) + (SELECT count(*) FROM c))sql",
              kLeaseShards),
          {std::to_string(keep_minutes_ms), std::to_string(keep_hours_ms),
           std::to_string(keep_days_ms), std::to_string(limit)}};
}

std::optional<int64_t> rollups_deleted(const PgResult& answer) {
  if (!answer.ok() || answer.rows.size() != 1 || answer.rows[0].size() != 1) return std::nullopt;
  return pg_int(answer.rows[0][0]);
}

StoredRun run_of_row(const std::vector<std::optional<std::string>>& row, size_t first) {
  StoredRun run;
  const int64_t outcome = pg_int(row[first]).value_or(2);
  run.outcome = static_cast<Outcome>(outcome < 0 || outcome > 2 ? 2 : outcome);
  run.total_us = pg_int(row[first + 1]);
  run.maintenance = row[first + 2] == "t";
  run.samples = pg_bytes(row[first + 3]);
  return run;
}

Aggregate rollup_of_row(const std::vector<std::optional<std::string>>& row, size_t first) {
  Aggregate a;
  const auto count = [&](size_t i) {
    return static_cast<uint64_t>(std::max<int64_t>(0, pg_int(row[first + i]).value_or(0)));
  };
  a.count = count(0);
  a.failures = count(1);
  a.degraded = count(2);
  a.maintenance = count(3);
  a.min_us = pg_int(row[first + 4]);
  a.max_us = pg_int(row[first + 5]);
  a.sum_us = pg_int(row[first + 6]).value_or(0);
  if (const auto bytes = pg_bytes(row[first + 7])) {
    if (auto s = LatencySketch::decode(*bytes)) a.sketch = std::move(*s);
  }
  return a;
}

}  // namespace lookout
