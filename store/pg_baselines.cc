#include "store/pg_baselines.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

namespace lookout {
namespace {

std::string baseline_json(const std::vector<std::string>& answers) {
  return nlohmann::json(answers).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::optional<std::vector<std::string>> baseline_answers_of(
    const std::optional<std::string>& text) {
  if (!text) return std::nullopt;
  const auto json = nlohmann::json::parse(*text, nullptr, false);
  if (!json.is_array()) return std::nullopt;
  std::vector<std::string> out;
  for (const auto& a : json) {
    if (!a.is_string()) return std::nullopt;
    out.push_back(a.get<std::string>());
  }
  return out;
}

// A row is written when it is new, when the config's question changed (the baseline goes with
// the old question), or when the answers seen changed; a kept baseline of the same question
// stays. The version moves with every write, so the nodes of the location read the rows again.
constexpr const char* kBaselineReport = R"sql(WITH written AS (
  INSERT INTO dns_baselines AS b (location, monitor, question, answers, seen, set_at)
  VALUES ($1, $2, $3, $4::jsonb, $5::jsonb, clock_timestamp())
  ON CONFLICT (location, monitor) DO UPDATE SET
    question = excluded.question,
    answers = CASE WHEN b.question = excluded.question THEN b.answers ELSE excluded.answers END,
    set_at = CASE WHEN b.question = excluded.question THEN b.set_at ELSE excluded.set_at END,
    seen = excluded.seen
  WHERE b.question <> excluded.question OR b.seen <> excluded.seen
  RETURNING 1
), version AS (
  UPDATE baseline_version SET version = version + 1 WHERE EXISTS (SELECT 1 FROM written)
)
SELECT count(*) FROM written)sql";

constexpr const char* kBaselineAccept = R"sql(WITH accepted AS (
  UPDATE dns_baselines SET answers = seen, set_at = clock_timestamp()
  WHERE monitor = $1 AND question = $2
  RETURNING location, seen
), version AS (
  UPDATE baseline_version SET version = version + 1 WHERE EXISTS (SELECT 1 FROM accepted)
)
SELECT location, seen::text FROM accepted ORDER BY location)sql";

}  // namespace

// As PgPosts::list: the rows are read only when the version moved, OFFSET 0 keeping the
// lateral subquery, and its condition on the version, from being pulled up into a join.
PgStatement PgBaselines::list(const std::string& location, int64_t known) {
  return {
      "SELECT v.version, b.monitor, b.question, b.answers::text, b.seen::text FROM "
      "baseline_version v LEFT JOIN LATERAL (SELECT * FROM dns_baselines b WHERE b.location = $1 "
      "AND v.version <> $2::bigint OFFSET 0) b ON true",
      {location, std::to_string(known)}};
}

std::optional<BaselinesRead> PgBaselines::read(const PgResult& answer, int64_t known) {
  if (!answer.ok() || answer.rows.empty() || answer.rows.front().size() != 5) return std::nullopt;
  BaselinesRead out;
  const auto version = pg_int(answer.rows.front().front());
  if (!version) return std::nullopt;
  out.version = *version;
  if (*version == known) return out;
  std::map<std::string, LocationBaseline> rows;
  for (const auto& row : answer.rows) {
    if (row.size() != 5 || pg_int(row[0]) != version) return std::nullopt;
    if (!row[1]) continue;  // no baseline: the one row says only the version
    auto answers = baseline_answers_of(row[3]);
    auto seen = baseline_answers_of(row[4]);
    if (!row[2] || !answers || !seen) return std::nullopt;
    rows[*row[1]] = LocationBaseline{Baseline{*row[2], std::move(*answers)}, std::move(*seen)};
  }
  out.rows = std::move(rows);
  return out;
}

PgStatement PgBaselines::report(const std::string& monitor, const std::string& location,
                                const Baseline& baseline, const std::vector<std::string>& seen) {
  return {kBaselineReport,
          {location, monitor, pg_text(baseline.question), baseline_json(baseline.answers),
           baseline_json(seen)}};
}

std::optional<bool> PgBaselines::reported(const PgResult& answer) {
  if (!answer.ok() || answer.rows.size() != 1 || answer.rows[0].size() != 1) return std::nullopt;
  const auto n = pg_int(answer.rows[0][0]);
  if (!n || *n > 1) return std::nullopt;
  return *n == 1;
}

PgStatement PgBaselines::accept(const std::string& monitor, const std::string& question) {
  return {kBaselineAccept, {monitor, pg_text(question)}};
}

std::optional<std::map<std::string, std::vector<std::string>>> PgBaselines::accepted(
    const PgResult& answer) {
  if (!answer.ok()) return std::nullopt;
  std::map<std::string, std::vector<std::string>> out;
  for (const auto& row : answer.rows) {
    if (row.size() != 2 || !row[0]) return std::nullopt;
    auto answers = baseline_answers_of(row[1]);
    if (!answers) return std::nullopt;
    out[*row[0]] = std::move(*answers);
  }
  return out;
}

}  // namespace lookout
