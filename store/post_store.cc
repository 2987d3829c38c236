#include "store/post_store.h"

#include <nlohmann/json.hpp>

#include "store/statement.h"

namespace lookout {

std::vector<PostRecord> read_posts(sqlite3* db) {
  std::vector<PostRecord> posts;
  std::map<int64_t, size_t> index;
  Stmt st(db, "SELECT id, title, impact, monitors, created_ms, resolved_ms FROM posts ORDER BY id");
  while (st.ok() && st.step() == SQLITE_ROW) {
    PostRecord p;
    p.id = sqlite3_column_int64(st.get(), 0);
    p.title = column_text(st.get(), 1);
    p.impact = post_impact_from_string(column_text(st.get(), 2)).value_or(PostImpact::kNone);
    const auto monitors = nlohmann::json::parse(column_text(st.get(), 3), nullptr, false);
    if (monitors.is_array()) {
      for (const auto& m : monitors)
        if (m.is_string()) p.monitors.push_back(m.get<std::string>());
    }
    p.created_at = from_unix_ms(sqlite3_column_int64(st.get(), 4));
    if (sqlite3_column_type(st.get(), 5) != SQLITE_NULL)
      p.resolved_at = from_unix_ms(sqlite3_column_int64(st.get(), 5));
    index[p.id] = posts.size();
    posts.push_back(std::move(p));
  }
  Stmt up(db, "SELECT post_id, status, body, at_ms FROM post_updates ORDER BY post_id, seq");
  while (up.ok() && up.step() == SQLITE_ROW) {
    const auto it = index.find(sqlite3_column_int64(up.get(), 0));
    if (it == index.end()) continue;
    PostUpdate u;
    u.status = post_status_from_string(column_text(up.get(), 1)).value_or(PostStatus::kResolved);
    u.body = column_text(up.get(), 2);
    u.at = from_unix_ms(sqlite3_column_int64(up.get(), 3));
    posts[it->second].updates.push_back(std::move(u));
  }
  return posts;
}

bool write_posts(sqlite3* db, const std::map<int64_t, PostRecord>& posts, std::string& error) {
  Stmt put(db,
           "INSERT INTO posts (id, title, impact, monitors, created_ms, resolved_ms) VALUES "
           "(?,?,?,?,?,?) ON CONFLICT (id) DO UPDATE SET title = excluded.title, impact = "
           "excluded.impact, monitors = excluded.monitors, resolved_ms = excluded.resolved_ms");
  Stmt clear(db, "DELETE FROM post_updates WHERE post_id = ?");
  Stmt add(db, "INSERT INTO post_updates (post_id, seq, status, body, at_ms) VALUES (?,?,?,?,?)");
  if (!put.ok() || !clear.ok() || !add.ok()) {
    error = sqlite3_errmsg(db);
    return false;
  }
  for (const auto& [id, p] : posts) {
    put.bind(1, id);
    put.bind(2, p.title);
    put.bind_static(3, to_string(p.impact));
    put.bind(4, nlohmann::json(p.monitors).dump());
    put.bind(5, to_unix_ms(p.created_at));
    put.bind(6, p.resolved_at ? std::optional<int64_t>(to_unix_ms(*p.resolved_at)) : std::nullopt);
    const bool put_ok = put.step() == SQLITE_DONE;
    put.reset();
    clear.bind(1, id);
    const bool clear_ok = clear.step() == SQLITE_DONE;
    clear.reset();
    if (!put_ok || !clear_ok) {
      error = sqlite3_errmsg(db);
      return false;
    }
    for (size_t i = 0; i < p.updates.size(); ++i) {
      const PostUpdate& u = p.updates[i];
      add.bind(1, id);
      add.bind(2, static_cast<int64_t>(i));
      add.bind_static(3, to_string(u.status));
      add.bind(4, u.body);
      add.bind(5, to_unix_ms(u.at));
      const bool add_ok = add.step() == SQLITE_DONE;
      add.reset();
      if (!add_ok) {
        error = sqlite3_errmsg(db);
        return false;
      }
    }
  }
  return true;
}

}  // namespace lookout
