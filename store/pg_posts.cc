#include "store/pg_posts.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "store/pg_arrays.h"
#include "store/pg_decisions.h"
#include "store/pg_rollup.h"

namespace lookout {
namespace {

// A post's columns, in post_of_row's order; its updates as one JSON array of [status, body,
// at_ms], oldest first.
std::string post_columns() {
  return fmt::format(
      "p.id, p.title, p.impact, to_json(p.monitors)::text, {}, {}, (SELECT "
      "json_agg(json_build_array(u.status, u.body, {}) ORDER BY u.seq) FROM post_updates u "
      "WHERE u.post_id = p.id)::text",
      pg_ms("p.created_at"), pg_ms("p.resolved_at"), pg_ms("u.at"));
}

constexpr size_t kPostColumns = 7;

std::optional<PostRecord> post_of_row(const std::vector<std::optional<std::string>>& row,
                                      size_t first) {
  if (row.size() != first + kPostColumns) return std::nullopt;
  const auto id = pg_int(row[first]);
  const auto& title = row[first + 1];
  const auto& impact = row[first + 2];
  const auto& monitors_text = row[first + 3];
  const auto created = pg_int(row[first + 4]);
  const auto& resolved = row[first + 5];
  const auto& updates_text = row[first + 6];
  if (!id || !title || !impact || !monitors_text || !created || !updates_text) return std::nullopt;
  PostRecord p;
  p.id = *id;
  p.title = *title;
  const auto impact_value = post_impact_from_string(*impact);
  if (!impact_value) return std::nullopt;
  p.impact = *impact_value;
  const auto monitors = nlohmann::json::parse(*monitors_text, nullptr, false);
  if (!monitors.is_array()) return std::nullopt;
  for (const auto& m : monitors) {
    if (!m.is_string()) return std::nullopt;
    p.monitors.push_back(m.get<std::string>());
  }
  p.created_at = from_unix_ms(*created);
  if (resolved) {
    const auto ms = pg_int(resolved);
    if (!ms) return std::nullopt;
    p.resolved_at = from_unix_ms(*ms);
  }
  const auto updates = nlohmann::json::parse(*updates_text, nullptr, false);
  if (!updates.is_array() || updates.empty()) return std::nullopt;
  for (const auto& u : updates) {
    if (!u.is_array() || u.size() != 3 || !u[0].is_string() || !u[1].is_string() ||
        !u[2].is_number_integer())
      return std::nullopt;
    const auto status = post_status_from_string(u[0].get<std::string>());
    if (!status) return std::nullopt;
    p.updates.push_back(
        PostUpdate{*status, u[1].get<std::string>(), from_unix_ms(u[2].get<int64_t>())});
  }
  return p;
}

// The post, its newest update and its notifications, in one statement. The post's row is
// written first so that the update's foreign key holds; on an update only resolved_at changes
// (the rest is the post's opening).
constexpr const char* kWrite = R"sql(WITH post AS (
  INSERT INTO posts (id, title, impact, monitors, created_at, resolved_at)
  VALUES ($1::bigint, $2, $3, $4::text[], {0}, {1})
  ON CONFLICT (id) DO UPDATE SET resolved_at = excluded.resolved_at
  RETURNING id
), post_update AS (
  INSERT INTO post_updates (post_id, seq, status, body, at, node)
  SELECT id, $7::int, $8, $9, {2}, $11 FROM post
), version AS (
  UPDATE post_version SET version = version + 1
), notes AS (
  {3}
)
SELECT count(*) FROM notes)sql";

}  // namespace

// The posts are read only when the version moved: the lateral subquery's condition names only
// the version, and OFFSET 0 keeps PostgreSQL from pulling the subquery up into a join, so the
// condition is checked once and no post is read when it holds back.
PgStatement PgPosts::list(int64_t known) {
  return {
      fmt::format("SELECT v.version, p.* FROM post_version v LEFT JOIN LATERAL (SELECT {} "
                  "FROM posts p WHERE v.version <> $1::bigint OFFSET 0) p ON true ORDER BY p.id",
                  post_columns()),
      {std::to_string(known)}};
}

std::optional<PostsRead> PgPosts::read(const PgResult& answer, int64_t known) {
  if (!answer.ok() || answer.rows.empty() || answer.rows.front().size() != 1 + kPostColumns)
    return std::nullopt;
  PostsRead out;
  const auto version = pg_int(answer.rows.front().front());
  if (!version) return std::nullopt;
  out.version = *version;
  if (*version == known) return out;
  std::vector<PostRecord> posts;
  for (const auto& row : answer.rows) {
    if (row.size() != 1 + kPostColumns || pg_int(row[0]) != version) return std::nullopt;
    if (!row[1]) continue;  // no post: the one row says only the version
    auto p = post_of_row(row, 1);
    if (!p) return std::nullopt;
    posts.push_back(std::move(*p));
  }
  out.posts = std::move(posts);
  return out;
}

PgStatement PgPosts::one(int64_t id) {
  return {fmt::format("SELECT {} FROM posts p WHERE p.id = $1::bigint", post_columns()),
          {std::to_string(id)}};
}

std::optional<std::optional<PostRecord>> PgPosts::post(const PgResult& answer) {
  if (!answer.ok() || answer.rows.size() > 1) return std::nullopt;
  if (answer.rows.empty()) return std::optional<PostRecord>();
  auto p = post_of_row(answer.rows.front(), 0);
  if (!p) return std::nullopt;
  return std::optional<PostRecord>(std::move(*p));
}

PgStatement PgPosts::reserve_id() {
  return {"SELECT nextval(pg_get_serial_sequence('posts', 'id'))", {}};
}

std::optional<int64_t> PgPosts::reserved_id(const PgResult& answer) {
  if (!answer.ok() || answer.rows.size() != 1 || answer.rows[0].size() != 1) return std::nullopt;
  return pg_int(answer.rows[0][0]);
}

PgStatement PgPosts::write(const PostRecord& post, const std::string& node,
                           const std::vector<OutboxRow>& notifications, int shard) {
  const PostUpdate& u = post.updates.back();
  return {
      fmt::format(kWrite, pg_at_ms(5), pg_at_ms(6), pg_at_ms(10),
                  PgDecisions::outbox_insert("post", 12, 13, true)),
      {std::to_string(post.id), pg_text(post.title), to_string(post.impact),
       pg_text_array(post.monitors), std::to_string(to_unix_ms(post.created_at)),
       post.resolved_at ? std::optional<std::string>(std::to_string(to_unix_ms(*post.resolved_at)))
                        : std::nullopt,
       std::to_string(post.updates.size() - 1), to_string(u.status), pg_text(u.body),
       std::to_string(to_unix_ms(u.at)), node, PgDecisions::outbox_json(notifications),
       std::to_string(shard)}};
}

std::optional<int64_t> PgPosts::written(const PgResult& answer) {
  if (!answer.ok() || answer.rows.size() != 1 || answer.rows[0].size() != 1) return std::nullopt;
  return pg_int(answer.rows[0][0]);
}

}  // namespace lookout
