#include "store/pg_secrets.h"

#include "store/pg_arrays.h"

namespace lookout {

PgStatement keep_secrets(const std::map<std::string, std::string>& made) {
  std::vector<std::string> names, values;
  for (const auto& [name, value] : made) {
    names.push_back(name);
    values.push_back(value);
  }
  return {
      "INSERT INTO kept_secrets (name, value) SELECT * FROM unnest($1::text[], $2::text[]) "
      "ON CONFLICT (name) DO NOTHING",
      {pg_text_array(names), pg_text_array(values)}};
}

PgStatement read_secrets(const std::vector<std::string>& names) {
  return {"SELECT name, value FROM kept_secrets WHERE name = ANY($1::text[])",
          {pg_text_array(names)}};
}

std::optional<std::map<std::string, std::string>> secrets(const PgResult& answer,
                                                          const std::vector<std::string>& names) {
  if (!answer.ok()) return std::nullopt;
  std::map<std::string, std::string> out;
  for (const auto& row : answer.rows) {
    if (row.size() != 2 || !row[0] || !row[1] || row[1]->empty()) return std::nullopt;
    out[*row[0]] = *row[1];
  }
  for (const std::string& name : names) {
    if (out.count(name) == 0) return std::nullopt;
  }
  return out;
}

}  // namespace lookout
