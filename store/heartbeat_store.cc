#include "store/heartbeat_store.h"

#include <nlohmann/json.hpp>

#include "store/rollup.h"
#include "store/statement.h"

namespace lookout {
namespace {

std::optional<WallTime> time_column(sqlite3_stmt* st, int i) {
  const auto ms = column_opt(st, i);
  return ms ? std::optional<WallTime>(from_unix_ms(*ms)) : std::nullopt;
}

std::optional<int64_t> ms_of(const std::optional<WallTime>& t) {
  return t ? std::optional<int64_t>(to_unix_ms(*t)) : std::nullopt;
}

}  // namespace

std::map<std::string, HeartbeatMemory> read_heartbeats(sqlite3* db) {
  std::map<std::string, HeartbeatMemory> out;
  Stmt st(db,
          "SELECT m.name, h.last_ping_ms, h.last_any_ms, h.up, h.starts, h.message_ms, h.message "
          "FROM heartbeats h JOIN monitors m ON m.id = h.monitor_id");
  while (st.ok() && st.step() == SQLITE_ROW) {
    HeartbeatMemory h;
    h.last_ping = time_column(st.get(), 1);
    h.last_any_ping = time_column(st.get(), 2);
    h.up = sqlite3_column_int64(st.get(), 3) != 0;
    const auto starts = nlohmann::json::parse(column_text(st.get(), 4), nullptr, false);
    if (starts.is_object()) {
      for (const auto& [rid, ms] : starts.items()) {
        if (ms.is_number_integer()) h.starts.emplace(rid, from_unix_ms(ms.get<int64_t>()));
      }
    }
    if (const auto at = time_column(st.get(), 5)) {
      // The message as stored, NUL bytes and all.
      const auto* text = static_cast<const char*>(sqlite3_column_blob(st.get(), 6));
      const int n = sqlite3_column_bytes(st.get(), 6);
      h.last_message = PingMessage{*at, text != nullptr ? std::string(text, n) : std::string()};
    }
    out.emplace(column_text(st.get(), 0), std::move(h));
  }
  return out;
}

bool write_heartbeats(sqlite3* db, const std::map<std::string, HeartbeatMemory>& memories,
                      const std::function<int64_t(const std::string&)>& monitor_id,
                      std::string& error) {
  Stmt up(db,
          "INSERT INTO heartbeats (monitor_id, last_ping_ms, last_any_ms, up, starts, message_ms, "
          "message) VALUES (?,?,?,?,?,?,?) ON CONFLICT (monitor_id) DO UPDATE SET "
          "last_ping_ms = excluded.last_ping_ms, last_any_ms = excluded.last_any_ms, "
          "up = excluded.up, starts = excluded.starts, message_ms = excluded.message_ms, "
          "message = excluded.message");
  for (const auto& [name, h] : memories) {
    const int64_t id = monitor_id(name);
    if (id < 0 || !up.ok()) {
      error = sqlite3_errmsg(db);
      return false;
    }
    nlohmann::json starts = nlohmann::json::object();
    for (const auto& [rid, at] : h.starts) starts[rid] = to_unix_ms(at);
    up.bind(1, id);
    up.bind(2, ms_of(h.last_ping));
    up.bind(3, ms_of(h.last_any_ping));
    up.bind(4, int64_t{h.up ? 1 : 0});
    // A rid comes from a query string: invalid UTF-8 in it is replaced, not a failed write.
    up.bind(5, starts.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    if (h.last_message) {
      up.bind(6, to_unix_ms(h.last_message->at));
      up.bind(7, h.last_message->text);
    } else {
      up.bind_null(6);
      up.bind_null(7);
    }
    if (up.step() != SQLITE_DONE) {
      error = sqlite3_errmsg(db);
      return false;
    }
    up.reset();
  }
  return true;
}

}  // namespace lookout
