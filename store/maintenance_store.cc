#include "store/maintenance_store.h"

#include <nlohmann/json.hpp>

#include "store/statement.h"

namespace lookout {

std::vector<MaintenanceRecord> read_maintenance(sqlite3* db) {
  std::vector<MaintenanceRecord> out;
  Stmt st(db,
          "SELECT id, title, body, monitors, start_ms, duration_ms FROM maintenance ORDER BY id");
  while (st.ok() && st.step() == SQLITE_ROW) {
    MaintenanceRecord w;
    w.id = sqlite3_column_int64(st.get(), 0);
    w.title = column_text(st.get(), 1);
    w.body = column_text(st.get(), 2);
    const auto monitors = nlohmann::json::parse(column_text(st.get(), 3), nullptr, false);
    if (monitors.is_array()) {
      for (const auto& m : monitors)
        if (m.is_string()) w.monitors.push_back(m.get<std::string>());
    }
    w.start = from_unix_ms(sqlite3_column_int64(st.get(), 4));
    w.duration = Duration{sqlite3_column_int64(st.get(), 5)};
    out.push_back(std::move(w));
  }
  return out;
}

bool write_maintenance(sqlite3* db,
                       const std::map<int64_t, std::optional<MaintenanceRecord>>& windows,
                       std::string& error) {
  Stmt put(db,
           "INSERT OR REPLACE INTO maintenance (id, title, body, monitors, start_ms, duration_ms) "
           "VALUES (?,?,?,?,?,?)");
  Stmt del(db, "DELETE FROM maintenance WHERE id = ?");
  if (!put.ok() || !del.ok()) {
    error = sqlite3_errmsg(db);
    return false;
  }
  for (const auto& [id, w] : windows) {
    Stmt& st = w ? put : del;
    st.bind(1, id);
    if (w) {
      put.bind(2, w->title);
      put.bind(3, w->body);
      put.bind(4, nlohmann::json(w->monitors).dump());
      put.bind(5, to_unix_ms(w->start));
      put.bind(6, static_cast<int64_t>(w->duration.count()));
    }
    const bool ok = st.step() == SQLITE_DONE;
    st.reset();
    if (!ok) {
      error = sqlite3_errmsg(db);
      return false;
    }
  }
  return true;
}

}  // namespace lookout
