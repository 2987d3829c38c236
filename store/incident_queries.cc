#include "store/incident_queries.h"

#include <algorithm>

#include "store/statement.h"

namespace lookout {
namespace {

// One row of kColumns.
IncidentRecord read_row(sqlite3_stmt* st) {
  auto text = [st](int i) { return column_text(st, i); };
  IncidentRecord i;
  i.id = sqlite3_column_int64(st, 0);
  i.monitor = text(1);
  i.group = text(2);
  i.type = text(3);
  i.state = state_from_string(text(4)).value_or(State::kDown);
  i.cause = text(5);
  i.started_at = from_unix_ms(sqlite3_column_int64(st, 6));
  if (sqlite3_column_type(st, 7) != SQLITE_NULL)
    i.resolved_at = from_unix_ms(sqlite3_column_int64(st, 7));
  if (sqlite3_column_type(st, 8) != SQLITE_NULL)
    i.acknowledged_at = from_unix_ms(sqlite3_column_int64(st, 8));
  i.acknowledged_by = text(9);
  i.flapping = sqlite3_column_int(st, 10) != 0;
  return i;
}

std::vector<IncidentRecord> read(sqlite3_stmt* st) {
  std::vector<IncidentRecord> out;
  while (sqlite3_step(st) == SQLITE_ROW) out.push_back(read_row(st));
  sqlite3_finalize(st);
  return out;
}

constexpr const char* kColumns =
    "SELECT id, monitor, grp, type, state, cause, started_ms, resolved_ms, acknowledged_ms, "
    "acknowledged_by, flapping "
    "FROM incidents ";

}  // namespace

std::vector<IncidentRecord> resolved_incidents(sqlite3* db, int64_t resolved_since_ms, int limit) {
  sqlite3_stmt* st = nullptr;
  const std::string sql =
      std::string(kColumns) + "WHERE resolved_ms >= ? ORDER BY resolved_ms DESC LIMIT ?";
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) return {};
  sqlite3_bind_int64(st, 1, resolved_since_ms);
  sqlite3_bind_int(st, 2, limit);
  return read(st);
}

std::vector<IncidentEventRow> incident_events(sqlite3* db, const std::vector<int64_t>& ids) {
  std::vector<IncidentEventRow> out;
  if (ids.empty()) return out;
  const auto [lo, hi] = std::minmax_element(ids.begin(), ids.end());
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(
          db,
          "SELECT e.id, e.incident_id, e.event, e.at_ms, group_concat(o.channel || ' ' || "
          "CASE o.status WHEN 'sent' THEN 'delivered' ELSE o.status END, ', ') "
          "FROM incident_events e LEFT JOIN outbox o ON o.event_id = e.id AND o.audience = "
          "'oncall' "
          "WHERE e.incident_id BETWEEN ? AND ? GROUP BY e.id ORDER BY e.id",
          -1, &st, nullptr) != SQLITE_OK) {
    return out;
  }
  sqlite3_bind_int64(st, 1, *lo);
  sqlite3_bind_int64(st, 2, *hi);
  while (sqlite3_step(st) == SQLITE_ROW) {
    const int64_t id = sqlite3_column_int64(st, 1);
    if (std::find(ids.begin(), ids.end(), id) == ids.end()) continue;
    const auto* e = sqlite3_column_text(st, 2);
    const auto* d = sqlite3_column_text(st, 4);
    out.push_back({id, e != nullptr ? reinterpret_cast<const char*>(e) : "",
                   from_unix_ms(sqlite3_column_int64(st, 3)),
                   d != nullptr ? reinterpret_cast<const char*>(d) : ""});
  }
  sqlite3_finalize(st);
  return out;
}

std::vector<IncidentRecord> monitor_incidents(sqlite3* db, const std::string& monitor, int limit) {
  sqlite3_stmt* st = nullptr;
  const std::string sql =
      std::string(kColumns) + "WHERE monitor = ? ORDER BY started_ms DESC LIMIT ?";
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) return {};
  sqlite3_bind_text(st, 1, monitor.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_int(st, 2, limit);
  return read(st);
}

std::vector<IncidentRecord> list_incidents(sqlite3* db, IncidentFilter which,
                                           const std::function<bool(const IncidentRecord&)>& keep,
                                           size_t limit) {
  const char* where = which == IncidentFilter::kOpen       ? "WHERE resolved_ms IS NULL "
                      : which == IncidentFilter::kResolved ? "WHERE resolved_ms IS NOT NULL "
                                                           : "";
  const std::string sql = std::string(kColumns) + where + "ORDER BY started_ms DESC, id DESC";
  std::vector<IncidentRecord> out;
  Stmt st(db, sql);
  while (st.ok() && out.size() < limit && st.step() == SQLITE_ROW) {
    IncidentRecord i = read_row(st.get());
    if (keep(i)) out.push_back(std::move(i));
  }
  return out;
}

std::vector<IncidentNotification> incident_notifications(sqlite3* db, int64_t first_id,
                                                         int64_t last_id) {
  std::vector<IncidentNotification> out;
  Stmt st(
      db,
      "SELECT e.incident_id, e.event, e.at_ms, o.id, o.channel, o.status FROM incident_events e "
      "LEFT JOIN outbox o ON o.event_id = e.id AND o.audience = 'oncall' WHERE e.incident_id "
      "BETWEEN ? AND ? ORDER BY e.id, "
      "o.channel");
  if (!st.ok()) return out;
  st.bind(1, first_id);
  st.bind(2, last_id);
  sqlite3_stmt* row = st.get();
  while (st.step() == SQLITE_ROW) {
    IncidentNotification n{sqlite3_column_int64(row, 0),
                           column_text(row, 1),
                           from_unix_ms(sqlite3_column_int64(row, 2)),
                           {},
                           {},
                           {}};
    if (sqlite3_column_type(row, 3) != SQLITE_NULL) {
      n.id = column_text(row, 3);
      n.channel = column_text(row, 4);
      n.status = column_text(row, 5);
    }
    out.push_back(std::move(n));
  }
  return out;
}

}  // namespace lookout
