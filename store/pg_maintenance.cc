#include "store/pg_maintenance.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <string>

#include "store/pg_arrays.h"
#include "store/pg_rollup.h"

namespace lookout {
namespace {

// The columns a window is read from, in maintenance_window_of's order.
std::string maintenance_columns() {
  return fmt::format("id, title, body, to_json(monitors)::text, {}, {}", pg_ms("starts_at"),
                     pg_ms("ends_at"));
}

std::optional<MaintenanceRecord> maintenance_window_of(
    const std::vector<std::optional<std::string>>& row) {
  if (row.size() != 6 || !row[1] || !row[2] || !row[3]) return std::nullopt;
  const auto id = pg_int(row[0]);
  const auto start = pg_int(row[4]);
  const auto end = pg_int(row[5]);
  const auto monitors = nlohmann::json::parse(*row[3], nullptr, false);
  if (!id || !start || !end || !monitors.is_array()) return std::nullopt;
  MaintenanceRecord w;
  w.id = *id;
  w.title = *row[1];
  w.body = *row[2];
  for (const auto& m : monitors) {
    if (!m.is_string()) return std::nullopt;
    w.monitors.push_back(m.get<std::string>());
  }
  w.start = from_unix_ms(*start);
  w.duration = Duration{*end - *start};
  return w;
}

}  // namespace

PgStatement PgMaintenance::list(Duration ended_within) {
  return {fmt::format("SELECT {} FROM maintenance_windows WHERE ends_at > clock_timestamp() - $1 "
                      "* interval '1 millisecond' ORDER BY id",
                      maintenance_columns()),
          {std::to_string(ended_within.count())}};
}

std::optional<std::vector<MaintenanceRecord>> PgMaintenance::windows(const PgResult& answer) {
  if (!answer.ok()) return std::nullopt;
  std::vector<MaintenanceRecord> out;
  out.reserve(answer.rows.size());
  for (const auto& row : answer.rows) {
    auto w = maintenance_window_of(row);
    if (!w) return std::nullopt;
    out.push_back(std::move(*w));
  }
  return out;
}

PgStatement PgMaintenance::insert(const MaintenanceRecord& w) {
  return {fmt::format("INSERT INTO maintenance_windows (title, body, monitors, starts_at, ends_at) "
                      "VALUES ($1, $2, $3::text[], {}, {}) RETURNING id",
                      pg_at_ms(4), pg_at_ms(5)),
          {pg_text(w.title), pg_text(w.body), pg_text_array(w.monitors),
           std::to_string(to_unix_ms(w.start)), std::to_string(to_unix_ms(w.end()))}};
}

std::optional<int64_t> PgMaintenance::inserted_id(const PgResult& answer) {
  if (!answer.ok() || answer.rows.size() != 1 || answer.rows[0].size() != 1) return std::nullopt;
  return pg_int(answer.rows[0][0]);
}

PgStatement PgMaintenance::remove(int64_t id) {
  return {fmt::format("DELETE FROM maintenance_windows WHERE id = $1 RETURNING {}",
                      maintenance_columns()),
          {std::to_string(id)}};
}

std::optional<std::optional<MaintenanceRecord>> PgMaintenance::removed(const PgResult& answer) {
  if (!answer.ok() || answer.rows.size() > 1) return std::nullopt;
  if (answer.rows.empty()) return std::optional<MaintenanceRecord>();
  auto w = maintenance_window_of(answer.rows[0]);
  if (!w) return std::nullopt;
  return std::optional<MaintenanceRecord>(std::move(*w));
}

}  // namespace lookout
