#include "store/lease_registry.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

namespace lookout {
namespace {

// A text[] literal: every element quoted, so that no name can be read as NULL or split.
std::string lease_name_array(const std::vector<std::string>& names) {
  std::string out = "{";
  for (const std::string& name : names) {
    if (out.size() > 1) out += ',';
    out += '"';
    for (const char c : name) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  out += '}';
  return out;
}

// A bigint[] literal; NULL for a lease not held.
std::string lease_epoch_array(const std::vector<std::optional<int64_t>>& epochs) {
  std::string out = "{";
  for (const auto& epoch : epochs) {
    if (out.size() > 1) out += ',';
    out += epoch ? std::to_string(*epoch) : "NULL";
  }
  out += '}';
  return out;
}

// The statement's rows in name order, so that concurrent statements lock the rows they share in
// the same order and queue instead of deadlocking. ON CONFLICT takes each row's lock, in the
// order of the rows inserted, also where its WHERE then leaves the row alone. A lease this node
// holds under the epoch it names is renewed (also just after it ran out: nobody took it
// meanwhile); any other is taken only when free, and then changes hands: epoch + 1. A lease
// with no row yet starts at epoch 1 (or one above the epoch this node believed it held, should
// a restored database have lost the row).
constexpr const char* kAcquire = R"sql(INSERT INTO leases AS l (name, holder, epoch, expires_at)
SELECT w.name, $1, coalesce(w.held_epoch + 1, 1),
  clock_timestamp() + $2::bigint * interval '1 millisecond'
FROM unnest($3::text[], $4::bigint[]) AS w(name, held_epoch)
ORDER BY w.name
ON CONFLICT (name) DO UPDATE SET
  holder = excluded.holder,
  epoch = CASE WHEN l.holder = excluded.holder
                AND l.epoch = ($4::bigint[])[array_position($3::text[], l.name)]
               THEN l.epoch ELSE l.epoch + 1 END,
  expires_at = excluded.expires_at
WHERE (l.holder = excluded.holder
       AND l.epoch = ($4::bigint[])[array_position($3::text[], l.name)])
   OR l.holder IS NULL OR l.expires_at <= clock_timestamp()
RETURNING l.name, l.holder, l.epoch,
  floor(extract(epoch FROM l.expires_at - clock_timestamp()) * 1000)::bigint)sql";

// Locks the rows in name order first, as acquire does, for the same reason.
constexpr const char* kRelease = R"sql(WITH mine AS MATERIALIZED (
  SELECT l.name FROM leases l
  JOIN unnest($2::text[], $3::bigint[]) AS r(name, epoch) ON l.name = r.name AND l.epoch = r.epoch
  WHERE l.holder = $1
  ORDER BY l.name
  FOR NO KEY UPDATE OF l
)
UPDATE leases l SET holder = NULL, expires_at = '-infinity'
FROM mine WHERE l.name = mine.name
RETURNING l.name)sql";

constexpr const char* kList = R"sql(SELECT name, holder, epoch,
  floor(extract(epoch FROM expires_at - clock_timestamp()) * 1000)::bigint
FROM leases WHERE holder IS NOT NULL AND expires_at > clock_timestamp() ORDER BY name)sql";

// FOR SHARE conflicts with the row lock of an UPDATE, so the lease cannot change hands until the
// statement that reads the fence has committed; a takeover that committed first is seen (READ
// COMMITTED checks the newest version of a row it locks) and leaves the fence empty.
constexpr const char* kFence = R"sql(fence AS MATERIALIZED (
  SELECT epoch FROM leases{}
  WHERE name = ${} AND holder = ${} AND epoch = ${}::bigint AND expires_at > clock_timestamp()
  FOR SHARE
))sql";

// {fence}, then {decision}: the caller's statement. The main query reads `fence` too, so the
// lease is checked even when the decision finds nothing to write.
constexpr const char* kFenced = R"sql(WITH {}, decision AS (
{}
)
SELECT (SELECT count(*) FROM fence) > 0, (SELECT count(*) FROM decision))sql";

}  // namespace

PgStatement LeaseRegistry::acquire(const std::vector<std::string>& names,
                                   const std::vector<LeaseRow>& held) const {
  std::map<std::string, int64_t> held_epochs;
  for (const LeaseRow& row : held) held_epochs.emplace(row.name, row.epoch);
  // ON CONFLICT may change a row once per statement: each name once.
  std::vector<std::string> unique = names;
  std::sort(unique.begin(), unique.end());
  unique.erase(std::unique(unique.begin(), unique.end()), unique.end());
  std::vector<std::optional<int64_t>> epochs;
  epochs.reserve(unique.size());
  for (const std::string& name : unique) {
    const auto it = held_epochs.find(name);
    epochs.push_back(it == held_epochs.end() ? std::nullopt : std::optional(it->second));
  }
  return {
      kAcquire,
      {node_, std::to_string(lease_.count()), lease_name_array(unique), lease_epoch_array(epochs)}};
}

PgStatement LeaseRegistry::release(const std::vector<LeaseRow>& held) const {
  std::vector<std::string> names;
  std::vector<std::optional<int64_t>> epochs;
  for (const LeaseRow& row : held) {
    names.push_back(row.name);
    epochs.emplace_back(row.epoch);
  }
  return {kRelease, {node_, lease_name_array(names), lease_epoch_array(epochs)}};
}

PgStatement LeaseRegistry::list() { return {kList, {}}; }

std::optional<std::vector<LeaseRow>> LeaseRegistry::rows(const PgResult& answer) {
  if (!answer.ok()) return std::nullopt;
  std::vector<LeaseRow> out;
  for (const auto& row : answer.rows) {
    if (row.size() != 4 || !row[0] || !row[1]) return std::nullopt;
    const auto epoch = pg_int(row[2]);
    const auto remaining = pg_int(row[3]);
    if (!epoch || !remaining) return std::nullopt;
    out.push_back(LeaseRow{*row[0], *row[1], *epoch, *remaining});
  }
  return out;
}

std::optional<std::vector<std::string>> LeaseRegistry::released(const PgResult& answer) {
  if (!answer.ok()) return std::nullopt;
  std::vector<std::string> out;
  for (const auto& row : answer.rows) {
    if (row.size() != 1 || !row[0]) return std::nullopt;
    out.push_back(*row[0]);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string LeaseRegistry::fence_cte(const LeaseFence& fence, PgParams& params,
                                     std::string_view first) {
  const size_t n = params.size();
  params.emplace_back(fence.lease);
  params.emplace_back(fence.holder);
  params.emplace_back(std::to_string(fence.epoch));
  // The lease's row is locked as the rows joined with `first` come out, so `first` is read
  // before.
  return fmt::format(kFence, first.empty() ? std::string() : fmt::format(", {}", first), n + 1,
                     n + 2, n + 3);
}

PgStatement LeaseRegistry::fenced(const LeaseFence& fence, const PgStatement& decision) {
  PgStatement out{"", decision.params};
  const std::string cte = fence_cte(fence, out.params);
  out.sql = fmt::format(kFenced, cte, decision.sql);
  return out;
}

std::optional<FenceOutcome> LeaseRegistry::fence_outcome(const PgResult& answer) {
  if (!answer.ok() || answer.rows.size() != 1 || answer.rows[0].size() != 2) return std::nullopt;
  const auto& held = answer.rows[0][0];
  const auto written = pg_int(answer.rows[0][1]);
  if (!held || (*held != "t" && *held != "f") || !written) return std::nullopt;
  return FenceOutcome{*held == "t", *written};
}

}  // namespace lookout
