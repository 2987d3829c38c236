#include "store/node_registry.h"

#include <fmt/format.h>

namespace lookout {

PgStatement NodeRegistry::join() const {
  return {
      R"sql(INSERT INTO nodes (node, location, version, started_at, last_seen, alive, monitors_hash)
VALUES ($1, $2, $3, clock_timestamp(), clock_timestamp(), true, $4)
ON CONFLICT (node) DO UPDATE SET location = excluded.location, version = excluded.version,
  started_at = excluded.started_at, last_seen = excluded.last_seen, alive = true,
  monitors_hash = excluded.monitors_hash)sql",
      {self_.node, self_.location, self_.version, self_.monitors_hash}};
}

PgStatement NodeRegistry::renew() const {
  return {
      R"sql(INSERT INTO nodes (node, location, version, started_at, last_seen, alive, monitors_hash)
VALUES ($1, $2, $3, clock_timestamp(), clock_timestamp(), true, $4)
ON CONFLICT (node) DO UPDATE SET location = excluded.location, version = excluded.version,
  last_seen = excluded.last_seen, alive = true, monitors_hash = excluded.monitors_hash)sql",
      {self_.node, self_.location, self_.version, self_.monitors_hash}};
}

PgStatement NodeRegistry::leave() const {
  return {"UPDATE nodes SET alive = false WHERE node = $1", {self_.node}};
}

PgStatement NodeRegistry::list(Duration lease) {
  return {R"sql(SELECT node, location, version,
  alive AND last_seen > clock_timestamp() - $1::bigint * interval '1 millisecond',
  floor(extract(epoch FROM clock_timestamp() - last_seen) * 1000)::bigint, monitors_hash
FROM nodes ORDER BY location, node)sql",
          {std::to_string(lease.count())}};
}

std::optional<std::vector<NodeRow>> NodeRegistry::nodes(const PgResult& answer) {
  if (!answer.ok()) return std::nullopt;
  std::vector<NodeRow> out;
  for (const auto& row : answer.rows) {
    if (row.size() != 6 || !row[0] || !row[1] || !row[2] || !row[3] || !row[5]) {
      return std::nullopt;
    }
    const auto ago = pg_int(row[4]);
    if (!ago) return std::nullopt;
    out.push_back(NodeRow{*row[0], *row[1], *row[2], *row[3] == "t", *ago, *row[5]});
  }
  return out;
}

}  // namespace lookout
