#include "store/pg_subscribers.h"

#include <fmt/format.h>

#include "store/pg_decisions.h"
#include "store/pg_rollup.h"

namespace lookout {
namespace {

// subscriber_version moved in the statement that changed what `changed` (a CTE) returns.
constexpr const char* kSubscribersMoved =
    "UPDATE subscriber_version SET version = version + 1 WHERE EXISTS (SELECT FROM {})";

// The rows `where` picks, erased: the address gone from the row and from its mails, and those
// not sent yet cancelled (also one a node is sending: its outcome is no longer written). The
// statement answers `answer` of the CTE `erased`.
std::string erase_where(const std::string& where, const char* answer) {
  return fmt::format(R"sql(WITH gone AS MATERIALIZED (
  SELECT id, email FROM subscribers WHERE email <> '' AND {0} FOR UPDATE
), erased AS (
  UPDATE subscribers s SET email = '', confirmed_at = NULL, mailed_at = NULL
  FROM gone WHERE s.id = gone.id
  RETURNING s.id
), mails AS (
  UPDATE outbox o SET recipient = '',
    status = CASE WHEN o.status IN ('pending', 'sending') THEN 'cancelled' ELSE o.status END
  FROM gone WHERE o.audience = 'subscriber' AND o.recipient = gone.email
), version AS (
  {1}
)
SELECT {2} FROM erased)sql",
                     where, fmt::format(kSubscribersMoved, "erased"), answer);
}

// The statement around `write` (the CTE `s`: one subscriber's row written, RETURNING id): the
// version moved and the confirmation mail in $4 written, to outbox shard $5, when it wrote;
// the answer says whether it did.
std::string with_confirmation_mail(const std::string& write) {
  return fmt::format(R"sql(WITH s AS (
  {0}
), version AS (
  {1}
), mail AS (
  {2}
)
SELECT count(*) > 0 FROM s)sql",
                     write, fmt::format(kSubscribersMoved, "s"),
                     PgDecisions::outbox_insert("s", 4, 5, false));
}

}  // namespace

PgStatement PgSubscribers::list(int64_t known) {
  // As PgPosts::list: the rows are read only when the version moved.
  return {fmt::format("SELECT v.version, s.* FROM subscriber_version v LEFT JOIN LATERAL (SELECT "
                      "s.id, s.email, {}, {}, {} FROM subscribers s WHERE v.version <> "
                      "$1::bigint AND s.email <> '' OFFSET 0) s ON true ORDER BY s.id",
                      pg_ms("s.created_at"), pg_ms("s.mailed_at"), pg_ms("s.confirmed_at")),
          {std::to_string(known)}};
}

std::optional<SubscribersRead> PgSubscribers::read(const PgResult& answer, int64_t known) {
  if (!answer.ok() || answer.rows.empty() || answer.rows.front().size() != 6) return std::nullopt;
  const auto version = pg_int(answer.rows.front().front());
  if (!version) return std::nullopt;
  SubscribersRead out;
  out.version = *version;
  if (*version == known) return out;
  std::vector<SubscriberRecord> rows;
  rows.reserve(answer.rows.size());
  for (const auto& row : answer.rows) {
    if (row.size() != 6 || pg_int(row[0]) != version) return std::nullopt;
    if (!row[1]) continue;  // no subscriber: the one row says only the version
    const auto id = pg_int(row[1]);
    const auto created = pg_int(row[3]);
    if (!id || !row[2] || row[2]->empty() || !created) return std::nullopt;
    SubscriberRecord s;
    s.id = *id;
    s.email = *row[2];
    s.created = from_unix_ms(*created);
    for (const auto& [column, field] : {std::pair{4, &s.mailed_at}, {5, &s.confirmed_at}}) {
      if (!row[column]) continue;
      const auto ms = pg_int(row[column]);
      if (!ms) return std::nullopt;
      *field = from_unix_ms(*ms);
    }
    rows.push_back(std::move(s));
  }
  out.rows = std::move(rows);
  return out;
}

PgStatement PgSubscribers::reserve_id() {
  return {"SELECT nextval(pg_get_serial_sequence('subscribers', 'id'))", {}};
}

std::optional<int64_t> PgSubscribers::reserved_id(const PgResult& answer) {
  if (!answer.ok() || answer.rows.size() != 1 || answer.rows[0].size() != 1) return std::nullopt;
  return pg_int(answer.rows[0][0]);
}

PgStatement PgSubscribers::add(const SubscriberRecord& s, const OutboxRow& mail, int shard) {
  return {with_confirmation_mail(fmt::format(
              R"sql(INSERT INTO subscribers (id, email, created_at, mailed_at)
  VALUES ($1::bigint, $2, {0}, {0})
  ON CONFLICT ((lower(email COLLATE "C"))) WHERE email <> '' DO NOTHING
  RETURNING id)sql",
              pg_at_ms(3))),
          {std::to_string(s.id), pg_text(s.email), std::to_string(to_unix_ms(s.created)),
           PgDecisions::outbox_json({mail}), std::to_string(shard)}};
}

PgStatement PgSubscribers::mail_again(int64_t id, WallTime now, Duration every,
                                      const OutboxRow& mail, int shard) {
  return {with_confirmation_mail(fmt::format(
              R"sql(UPDATE subscribers SET mailed_at = {0}
  WHERE id = $1::bigint AND email <> '' AND confirmed_at IS NULL
    AND (mailed_at IS NULL OR mailed_at <= {0} - $3::bigint * interval '1 millisecond')
  RETURNING id)sql",
              pg_at_ms(2))),
          {std::to_string(id), std::to_string(to_unix_ms(now)), std::to_string(every.count()),
           PgDecisions::outbox_json({mail}), std::to_string(shard)}};
}

PgStatement PgSubscribers::confirm(int64_t id, WallTime now) {
  // Live: confirmed now, or before (the last line reads the table as the statement found it; a
  // row erased meanwhile is not confirmed by the update, which waits for it and checks again).
  return {fmt::format(R"sql(WITH c AS (
  UPDATE subscribers SET confirmed_at = {0}
  WHERE id = $1::bigint AND email <> '' AND confirmed_at IS NULL
  RETURNING id
), version AS (
  {1}
)
SELECT EXISTS (SELECT FROM c) OR EXISTS (SELECT FROM subscribers
  WHERE id = $1::bigint AND email <> '' AND confirmed_at IS NOT NULL))sql",
                      pg_at_ms(2), fmt::format(kSubscribersMoved, "c")),
          {std::to_string(id), std::to_string(to_unix_ms(now))}};
}

PgStatement PgSubscribers::erase(int64_t id) {
  return {erase_where("id = $1::bigint", "count(*) > 0"), {std::to_string(id)}};
}

std::optional<bool> PgSubscribers::changed(const PgResult& answer) {
  if (!answer.ok() || answer.rows.size() != 1 || answer.rows[0].size() != 1 || !answer.rows[0][0])
    return std::nullopt;
  const std::string& v = *answer.rows[0][0];
  if (v == "t") return true;
  if (v == "f") return false;
  return std::nullopt;
}

PgStatement PgSubscribers::expire(WallTime now, Duration lifetime) {
  return {erase_where(fmt::format("confirmed_at IS NULL AND coalesce(mailed_at, created_at) < {} "
                                  "- $2::bigint * interval '1 millisecond'",
                                  pg_at_ms(1)),
                      "count(*)"),
          {std::to_string(to_unix_ms(now)), std::to_string(lifetime.count())}};
}

std::optional<int64_t> PgSubscribers::expired(const PgResult& answer) {
  if (!answer.ok() || answer.rows.size() != 1 || answer.rows[0].size() != 1) return std::nullopt;
  return pg_int(answer.rows[0][0]);
}

}  // namespace lookout
