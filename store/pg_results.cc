#include "store/pg_results.h"

#include <fmt/compile.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <iterator>
#include <set>

#include "store/aggregate.h"
#include "store/lease_plan.h"

namespace lookout {
namespace {

constexpr int64_t kResultDayMs = 86'400'000;

// In the order append_result_row writes them.
constexpr const char* kResultColumns =
    "t, total_us, dns_us, connect_us, tls_us, first_byte_us, outcome, http_status, maintenance, "
    "monitor, location, node, kind, cause, detail, samples";

// Makes each day that `days` (a query of dates) names and that has no partition yet. Each is
// made apart and then attached: ATTACH PARTITION takes SHARE UPDATE EXCLUSIVE on results, which
// lets its readers and writers go on, where CREATE TABLE ... PARTITION OF would take ACCESS
// EXCLUSIVE. lock_timeout bounds the wait for it; what times out is made on the next run.
std::string make_partitions_sql(const std::string& days) {
  return fmt::format(R"sql(DO $$
DECLARE
  d date;
  part text;
BEGIN
  PERFORM pg_advisory_xact_lock({});
  SET LOCAL lock_timeout = '1s';
  FOR d IN {} LOOP
    part := 'results_' || to_char(d, 'YYYYMMDD');
    CONTINUE WHEN to_regclass(part) IS NOT NULL;
    EXECUTE format('CREATE TABLE %I (LIKE results)', part);
    EXECUTE format('ALTER TABLE results ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)', part,
                   to_char(d, 'YYYY-MM-DD') || ' 00:00:00+00',
                   to_char(d + 1, 'YYYY-MM-DD') || ' 00:00:00+00');
  END LOOP;
END
$$)sql",
                     kPgResultPartitionsLock, days);
}

void append_copy_int(std::string& out, std::optional<int64_t> v) {
  if (v) {
    const fmt::format_int digits(*v);
    out.append(digits.data(), digits.size());
  } else {
    out += "\\N";
  }
}

// `t_ms` as rfc3339() writes it ("2026-03-01T12:00:00.250Z"), which PostgreSQL reads as a
// timestamptz, without gmtime_r and a run-time format: half the time of a row went there.
void append_copy_time(std::string& out, int64_t t_ms) {
  using namespace std::chrono;
  const sys_time<milliseconds> t{milliseconds{t_ms}};
  const auto day = floor<days>(t);
  const year_month_day date{day};
  const hh_mm_ss<milliseconds> time{t - day};
  fmt::format_to(std::back_inserter(out), FMT_COMPILE("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z"),
                 static_cast<int>(date.year()), static_cast<unsigned>(date.month()),
                 static_cast<unsigned>(date.day()), time.hours().count(), time.minutes().count(),
                 time.seconds().count(), time.subseconds().count());
}

// Empty text is stored as NULL, as the SQLite engine stores it.
void append_copy_text_or_null(std::string& out, std::string_view s) {
  if (s.empty()) {
    out += "\\N";
  } else {
    append_copy_text(out, s);
  }
}

}  // namespace

void append_copy_text(std::string& out, std::string_view s) {
  std::string scratch;
  for (const char c : pg_text(s, scratch)) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        out += c;
    }
  }
}

std::string utc_day(int64_t t_ms) {
  const int64_t day =
      t_ms >= 0 ? t_ms / kResultDayMs : -((-t_ms + kResultDayMs - 1) / kResultDayMs);
  return rfc3339(from_unix_ms(day * kResultDayMs)).substr(0, 10);
}

PgStatement make_result_partitions(int days_ahead) {
  return {make_partitions_sql(fmt::format(
              "SELECT (clock_timestamp() AT TIME ZONE 'UTC')::date + generate_series(0, {})",
              std::max(0, days_ahead))),
          {}};
}

PgStatement make_result_partitions_for(const std::vector<int64_t>& t_ms) {
  std::set<std::string> days;
  for (const int64_t t : t_ms) days.insert(utc_day(t));
  std::string list;
  for (const auto& d : days) list += fmt::format("{}'{}'", list.empty() ? "" : ", ", d);
  return {make_partitions_sql(fmt::format("SELECT unnest(ARRAY[{}]::date[])", list)), {}};
}

PgStatement drop_old_result_partitions(Duration keep) {
  // A partition goes once its day has ended `keep` ago (to_date(...) + 1 is the day after it)
  // and every shard's minute rollups have passed its end: a shard without a minute mark has
  // folded nothing.
  return {fmt::format(R"sql(DO $$
DECLARE
  part text;
  cutoff timestamptz := clock_timestamp() - {} * interval '1 millisecond';
  folded date := (SELECT CASE WHEN count(*) >= {} THEN (min(until) AT TIME ZONE 'UTC')::date
                              ELSE '-infinity'::date END
                  FROM rollup_marks WHERE level = 'minute');
BEGIN
  PERFORM pg_advisory_xact_lock({});
  SET LOCAL lock_timeout = '1s';
  FOR part IN
    SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent = 'results'::regclass AND c.relname ~ '^results_[0-9]{{8}}$'
      AND to_date(substr(c.relname, 9), 'YYYYMMDD') + 1 <= (cutoff AT TIME ZONE 'UTC')::date
      AND to_date(substr(c.relname, 9), 'YYYYMMDD') + 1 <= folded
    ORDER BY c.relname
  LOOP
    EXECUTE format('DROP TABLE %I', part);
  END LOOP;
  DELETE FROM result_batches WHERE written_at < cutoff;
END
$$)sql",
                      keep.count(), kLeaseShards, kPgResultPartitionsLock),
          {}};
}

PgStatement held_back_result_partitions(Duration keep) {
  return {fmt::format(R"sql(SELECT count(*),
  (SELECT {} FROM rollup_marks WHERE level = 'minute'),
  (SELECT count(*) FROM rollup_marks WHERE level = 'minute')
FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
WHERE i.inhparent = 'results'::regclass AND c.relname ~ '^results_[0-9]{{8}}$'
  AND to_date(substr(c.relname, 9), 'YYYYMMDD') + 1 <=
      ((clock_timestamp() - $1::bigint * interval '1 millisecond') AT TIME ZONE 'UTC')::date)sql",
                      "floor(extract(epoch FROM min(until)) * 1000)::bigint"),
          {std::to_string(keep.count())}};
}

std::optional<HeldBackDays> held_back_days(const PgResult& answer) {
  if (!answer.ok() || answer.rows.size() != 1 || answer.rows[0].size() != 3) return std::nullopt;
  const auto& row = answer.rows[0];
  const auto days = pg_int(row[0]);
  const auto shards = pg_int(row[2]);
  if (!days || !shards) return std::nullopt;
  return HeldBackDays{*days, pg_int(row[1]), *shards};
}

std::string result_batch_script(const std::string& writer, uint64_t batch,
                                const std::string& before_copy) {
  // A writer's batches go one at a time, so only its last mark can answer a batch sent again:
  // the older ones go as each new one is recorded.
  return fmt::format(
      "DELETE FROM result_batches WHERE writer = '{0}' AND batch < {1};\n"
      "INSERT INTO result_batches (writer, batch) VALUES ('{0}', {1});\n"
      "{3}COPY results ({2}) FROM STDIN",
      writer, batch, kResultColumns, before_copy);
}

void append_result_row(std::string& out, const ResultOrigin& origin, const ResultRow& row) {
  append_copy_time(out, row.t_ms);
  for (const auto& phase : {row.timings.total_us, row.timings.dns_us, row.timings.connect_us,
                            row.timings.tls_us, row.timings.first_byte_us}) {
    out += '\t';
    append_copy_int(out, phase);
  }
  out += '\t';
  append_copy_int(out, static_cast<int64_t>(row.outcome));
  out += '\t';
  append_copy_int(out,
                  row.http_status > 0 ? std::optional<int64_t>(row.http_status) : std::nullopt);
  out += row.maintenance ? "\tt\t" : "\tf\t";
  append_copy_text(out, row.monitor);
  out += '\t';
  append_copy_text(out, origin.location);
  out += '\t';
  append_copy_text(out, origin.node);
  out += '\t';
  append_copy_text_or_null(out, row.kind == ErrorKind::kNone ? "" : to_string(row.kind));
  out += '\t';
  append_copy_text_or_null(out, row.cause);
  out += '\t';
  append_copy_text_or_null(out, row.detail);
  out += '\t';
  // Kept when there are several, as the SQLite engine keeps them; hex bytea, its backslash
  // escaped for COPY.
  if (row.samples_us.size() > 1) {
    out += "\\\\x";
    for (const char b : pack_samples(row.samples_us)) {
      fmt::format_to(std::back_inserter(out), "{:02x}", static_cast<unsigned char>(b));
    }
  } else {
    out += "\\N";
  }
  out += '\n';
}

}  // namespace lookout
