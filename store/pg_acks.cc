#include "store/pg_acks.h"

#include <fmt/format.h>

#include "store/pg_arrays.h"

namespace lookout {

PgStatement PgAcks::ask(int64_t incident_id, const std::string& by, const std::string& node) {
  // The incident's row is locked, so an ask that races the decider's resolution or another ask
  // sees what committed first: a resolved incident takes no request.
  return {R"sql(
WITH incident AS MATERIALIZED (
  SELECT id, shard, resolved_at IS NOT NULL AS resolved, acknowledged_at IS NOT NULL AS acked
  FROM incidents WHERE id = $1 AND type <> 'location' FOR SHARE
), asked AS (
  INSERT INTO ack_requests (incident_id, asked_by, asked_on, shard)
  SELECT id, $2, $3, shard FROM incident WHERE NOT resolved AND NOT acked
  ON CONFLICT (incident_id) DO NOTHING
  RETURNING 1
)
SELECT (SELECT count(*) FROM incident), coalesce((SELECT resolved FROM incident), false),
  coalesce((SELECT acked FROM incident), false), (SELECT count(*) FROM asked))sql",
          {std::to_string(incident_id), by, node}};
}

std::optional<AckAsked> PgAcks::asked(const PgResult& answer) {
  if (!answer.ok() || answer.rows.size() != 1 || answer.rows[0].size() != 4) return std::nullopt;
  const auto& row = answer.rows[0];
  const auto found = pg_int(row[0]);
  const auto inserted = pg_int(row[3]);
  if (!found || !inserted || !row[1] || !row[2]) return std::nullopt;
  if (*found == 0) return AckAsked::kUnknown;
  if (*row[1] == "t") return AckAsked::kResolved;
  // Acknowledged, or asked for already and not applied yet: either way it will be.
  if (*row[2] == "t" || *inserted == 0) return AckAsked::kAlready;
  return AckAsked::kAsked;
}

PgStatement PgAcks::waiting(const std::vector<int>& shards) {
  return {
      "SELECT incident_id, asked_by, "
      "floor(extract(epoch FROM clock_timestamp() - asked_at) * 1000)::bigint, shard "
      "FROM ack_requests WHERE shard = ANY($1::smallint[]) ORDER BY asked_at, incident_id",
      {pg_int_array(shards)}};
}

std::optional<std::vector<AckRequestRow>> PgAcks::requests(const PgResult& answer) {
  if (!answer.ok()) return std::nullopt;
  std::vector<AckRequestRow> out;
  for (const auto& row : answer.rows) {
    if (row.size() != 4) return std::nullopt;
    const auto id = pg_int(row[0]);
    const auto waited = pg_int(row[2]);
    const auto shard = pg_int(row[3]);
    if (!id || !row[1] || !waited || !shard) return std::nullopt;
    out.push_back({*id, *row[1], *waited, static_cast<int>(*shard)});
  }
  return out;
}

PgStatement PgAcks::done(const LeaseFence& fence, int64_t incident_id) {
  return LeaseRegistry::fenced(
      fence, {"DELETE FROM ack_requests WHERE incident_id = $1 AND EXISTS (SELECT FROM fence) "
              "RETURNING 1",
              {std::to_string(incident_id)}});
}

}  // namespace lookout
