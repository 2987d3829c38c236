#include "store/pg_heartbeats.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "store/lease_plan.h"
#include "store/pg_arrays.h"
#include "store/pg_decisions.h"
#include "store/pg_rollup.h"

namespace lookout {
namespace {

// A ping's kind as heartbeat_pings keeps it.
constexpr std::pair<Ping::Kind, const char*> kPingKinds[] = {{Ping::Kind::kSuccess, "success"},
                                                             {Ping::Kind::kStart, "start"},
                                                             {Ping::Kind::kFail, "fail"},
                                                             {Ping::Kind::kExitStatus, "exit"},
                                                             {Ping::Kind::kLog, "log"}};

const char* kind_name(Ping::Kind kind) {
  for (const auto& [k, name] : kPingKinds) {
    if (k == kind) return name;
  }
  return "success";
}

std::optional<Ping::Kind> kind_of(std::string_view name) {
  for (const auto& [k, n] : kPingKinds) {
    if (name == n) return k;
  }
  return std::nullopt;
}

std::optional<std::string> kept_ms(const std::optional<WallTime>& t) {
  if (!t) return std::nullopt;
  return std::to_string(to_unix_ms(*t));
}

std::optional<WallTime> kept_time(const std::optional<std::string>& ms, bool& ok) {
  if (!ms) return std::nullopt;
  const auto n = pg_int(ms);
  if (!n) ok = false;
  return n ? std::optional(from_unix_ms(*n)) : std::nullopt;
}

// A run's text for the JSON of its row: null when empty.
nlohmann::json run_text(std::string_view s) {
  if (s.empty()) return nullptr;
  return pg_text(s);
}

// A timestamptz column as milliseconds since the epoch, as the answers carry times.
std::string ms_column(std::string_view column) {
  return fmt::format("floor(extract(epoch FROM {}) * 1000)::bigint", column);
}

// The tracker's memory, the state and the runs are written only through `fence`, and the pings
// judged deleted only through it too. By their ids: a ping numbered before one judged may
// commit after it, and is judged by the next read. The runs go in under the shard's rollup lock,
// taken shared before the lease's row, and move the shard's marks back to the oldest of them, as
// a results batch does: a run judged late (a ping that waited for a decider) is folded again.
constexpr const char* kKeep = R"sql(WITH {}, kept AS (
  INSERT INTO heartbeats (monitor, last_ping, last_any, up, starts, message_at, message)
  SELECT $1, 'epoch'::timestamptz + $2::bigint * interval '1 millisecond',
    'epoch'::timestamptz + $3::bigint * interval '1 millisecond', $4::boolean, $5::jsonb,
    'epoch'::timestamptz + $6::bigint * interval '1 millisecond', $7
  FROM fence
  ON CONFLICT (monitor) DO UPDATE SET last_ping = excluded.last_ping,
    last_any = excluded.last_any, up = excluded.up, starts = excluded.starts,
    message_at = excluded.message_at, message = excluded.message
  RETURNING 1
), state AS (
  {}
), {}, runs AS (
  INSERT INTO results (t, total_us, outcome, maintenance, monitor, location, node, kind, cause,
    detail)
  SELECT 'epoch'::timestamptz + r.t_ms * interval '1 millisecond', r.total_us, r.outcome,
    r.maintenance, $1, $18, $17, r.kind, r.cause, r.detail
  FROM fence, jsonb_to_recordset($19::jsonb) AS r(t_ms bigint, total_us bigint,
    outcome smallint, maintenance boolean, kind text, cause text, detail text)
  RETURNING 1
), judged AS (
  DELETE FROM heartbeat_pings
  WHERE monitor = $1 AND id = ANY($20::bigint[]) AND EXISTS (SELECT FROM fence)
  RETURNING 1
)
SELECT (SELECT count(*) FROM fence) > 0, (SELECT count(*) FROM kept))sql";

}  // namespace

PgStatement PgHeartbeats::take(const std::string& monitor, const Ping& ping,
                               const std::string& node) {
  return {
      "INSERT INTO heartbeat_pings (monitor, shard, kind, exit_status, rid, body, taken_on) "
      "VALUES ($1, $2::smallint, $3, $4::int, $5, $6, $7) RETURNING id",
      {monitor, std::to_string(shard_of(monitor)), kind_name(ping.kind),
       std::to_string(ping.exit_status), pg_text(ping.rid), pg_text(ping.body), node}};
}

std::optional<int64_t> PgHeartbeats::taken(const PgResult& answer) {
  if (!answer.ok() || answer.rows.size() != 1 || answer.rows[0].size() != 1) return std::nullopt;
  return pg_int(answer.rows[0][0]);
}

PgStatement PgHeartbeats::waiting(const std::vector<int>& shards, size_t limit) {
  return {
      "SELECT id, monitor, kind, exit_status, rid, body, "
      "floor(extract(epoch FROM clock_timestamp() - taken_at) * 1000)::bigint "
      "FROM heartbeat_pings WHERE shard = ANY($1::smallint[]) ORDER BY id LIMIT $2::int",
      {pg_int_array(shards), std::to_string(limit)}};
}

std::optional<std::vector<PingRow>> PgHeartbeats::pings(const PgResult& answer) {
  if (!answer.ok()) return std::nullopt;
  std::vector<PingRow> out;
  for (const auto& row : answer.rows) {
    if (row.size() != 7) return std::nullopt;
    const auto id = pg_int(row[0]);
    const auto kind = row[2] ? kind_of(*row[2]) : std::nullopt;
    const auto status = pg_int(row[3]);
    const auto age = pg_int(row[6]);
    if (!id || !row[1] || !kind || !status || !row[4] || !row[5] || !age) return std::nullopt;
    PingRow r;
    r.id = *id;
    r.monitor = *row[1];
    r.ping.kind = *kind;
    r.ping.exit_status = static_cast<int>(*status);
    r.ping.rid = *row[4];
    r.ping.body = *row[5];
    r.age_ms = *age;
    out.push_back(std::move(r));
  }
  return out;
}

PgStatement PgHeartbeats::kept(const std::vector<std::string>& monitors) {
  return {fmt::format("SELECT monitor, {}, {}, up, starts::text, {}, message FROM heartbeats "
                      "WHERE monitor = ANY($1::text[])",
                      ms_column("last_ping"), ms_column("last_any"), ms_column("message_at")),
          {pg_text_array(monitors)}};
}

std::optional<std::vector<std::pair<std::string, HeartbeatMemory>>> PgHeartbeats::memories(
    const PgResult& answer) {
  if (!answer.ok()) return std::nullopt;
  std::vector<std::pair<std::string, HeartbeatMemory>> out;
  for (const auto& row : answer.rows) {
    if (row.size() != 7 || !row[0] || !row[3] || !row[4]) return std::nullopt;
    bool ok = row[3] == "t" || row[3] == "f";
    HeartbeatMemory m;
    m.last_ping = kept_time(row[1], ok);
    m.last_any_ping = kept_time(row[2], ok);
    m.up = row[3] == "t";
    const auto starts = nlohmann::json::parse(*row[4], nullptr, false);
    if (!starts.is_object()) return std::nullopt;
    for (const auto& [rid, ms] : starts.items()) {
      if (!ms.is_number_integer()) return std::nullopt;
      m.starts.emplace(rid, from_unix_ms(ms.get<int64_t>()));
    }
    if (const auto at = kept_time(row[5], ok); at && row[6]) {
      m.last_message = PingMessage{*at, *row[6]};
    }
    if (!ok) return std::nullopt;
    out.emplace_back(*row[0], std::move(m));
  }
  return out;
}

PgStatement PgHeartbeats::keep(const LeaseFence& fence, const HeartbeatKeep& keep) {
  nlohmann::json starts = nlohmann::json::object();
  for (const auto& [rid, at] : keep.memory.starts) starts[pg_text(rid)] = to_unix_ms(at);
  nlohmann::json runs = nlohmann::json::array();
  for (const ResultRow& r : keep.runs) {
    runs.push_back(
        {{"t_ms", r.t_ms},
         {"total_us", r.timings.total_us ? nlohmann::json(*r.timings.total_us) : nlohmann::json()},
         {"outcome", static_cast<int>(r.outcome)},
         {"maintenance", r.maintenance},
         {"kind", run_text(r.kind == ErrorKind::kNone ? "" : to_string(r.kind))},
         {"cause", run_text(r.cause)},
         {"detail", run_text(r.detail)}});
  }
  const auto& message = keep.memory.last_message;
  PgStatement out{"",
                  {keep.monitor, kept_ms(keep.memory.last_ping), kept_ms(keep.memory.last_any_ping),
                   keep.memory.up ? "true" : "false", starts.dump(),
                   message ? std::optional(std::to_string(to_unix_ms(message->at))) : std::nullopt,
                   message ? std::optional(pg_text(message->text)) : std::nullopt}};
  // $8 to $17: the state, decided by the node writing it ($17).
  const PgParams state = PgDecisions::state_params(keep.state, keep.node);
  out.params.insert(out.params.end(), state.begin(), state.end());
  out.params.push_back(keep.location);
  out.params.push_back(runs.dump());
  out.params.push_back(pg_int_array(keep.judged));
  std::optional<int64_t> oldest;
  for (const ResultRow& r : keep.runs) oldest = std::min(oldest.value_or(r.t_ms), r.t_ms);
  out.params.push_back(oldest ? std::optional(std::to_string(*oldest)) : std::nullopt);
  const std::string cte = fmt::format("{}, {}", rollup_lock_cte(16),
                                      LeaseRegistry::fence_cte(fence, out.params, "rollup_locked"));
  out.sql = fmt::format(kKeep, cte, PgDecisions::state_upsert(8), rollup_marks_back_cte(16, 21));
  return out;
}

}  // namespace lookout
