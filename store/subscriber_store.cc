#include "store/subscriber_store.h"

#include "store/statement.h"

namespace lookout {

std::vector<SubscriberRecord> read_subscribers(sqlite3* db) {
  std::vector<SubscriberRecord> out;
  Stmt st(db, "SELECT id, email, created_ms, confirmed_ms, mailed_ms FROM subscribers ORDER BY id");
  auto ms = [&](int col) -> std::optional<WallTime> {
    if (sqlite3_column_type(st.get(), col) == SQLITE_NULL) return std::nullopt;
    return from_unix_ms(sqlite3_column_int64(st.get(), col));
  };
  while (st.ok() && st.step() == SQLITE_ROW) {
    SubscriberRecord s;
    s.id = sqlite3_column_int64(st.get(), 0);
    s.email = column_text(st.get(), 1);
    s.created = from_unix_ms(sqlite3_column_int64(st.get(), 2));
    s.confirmed_at = ms(3);
    s.mailed_at = ms(4);
    out.push_back(std::move(s));
  }
  return out;
}

bool write_subscribers(sqlite3* db, const std::map<int64_t, SubscriberRecord>& rows,
                       const std::set<std::string>& forgotten, std::string& error) {
  Stmt put(db,
           "INSERT OR REPLACE INTO subscribers (id, email, created_ms, confirmed_ms, mailed_ms) "
           "VALUES (?,?,?,?,?)");
  Stmt stored(db, "SELECT email FROM subscribers WHERE id = ? AND email IS NOT NULL");
  // The mails of an erased address lose it, and those not yet sent are not sent.
  Stmt forget(db,
              "UPDATE outbox SET recipient = '', status = CASE status WHEN 'pending' THEN "
              "'cancelled' ELSE status END WHERE audience = 'subscriber' AND recipient = ?");
  if (!put.ok() || !stored.ok() || !forget.ok()) {
    error = sqlite3_errmsg(db);
    return false;
  }
  auto forget_address = [&](const std::string& address) {
    forget.bind(1, address);
    const bool ok = forget.step() == SQLITE_DONE;
    forget.reset();
    if (!ok) error = sqlite3_errmsg(db);
    return ok;
  };
  for (const auto& address : forgotten)
    if (!forget_address(address)) return false;
  auto ms = [](const std::optional<WallTime>& t) {
    return t ? std::optional<int64_t>(to_unix_ms(*t)) : std::nullopt;
  };
  for (const auto& [id, s] : rows) {
    if (s.erased()) {
      // Before the row loses its address.
      stored.bind(1, id);
      const std::string address = stored.step() == SQLITE_ROW ? column_text(stored.get(), 0) : "";
      stored.reset();
      if (!address.empty() && !forget_address(address)) return false;
    }
    put.bind(1, id);
    put.bind_text_or_null(2, s.email);
    put.bind(3, to_unix_ms(s.created));
    put.bind(4, ms(s.confirmed_at));
    put.bind(5, ms(s.mailed_at));
    const bool ok = put.step() == SQLITE_DONE;
    put.reset();
    if (!ok) {
      error = sqlite3_errmsg(db);
      return false;
    }
  }
  return true;
}

}  // namespace lookout
