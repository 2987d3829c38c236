#include "store/monitor_sets.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

#include "core/digest.h"

namespace lookout {
namespace {

void by_name(std::vector<MonitorDigest>& set) {
  std::sort(set.begin(), set.end(),
            [](const MonitorDigest& a, const MonitorDigest& b) { return a.name < b.name; });
}

}  // namespace

std::vector<MonitorDigest> monitor_digests(const Config& config) {
  std::vector<MonitorDigest> out;
  out.reserve(config.monitors.size());
  for (const auto& m : config.monitors) out.push_back({m.name, m.digest});
  by_name(out);
  return out;
}

std::string monitors_hash(std::vector<MonitorDigest> set) {
  by_name(set);
  std::string text;
  for (const auto& m : set) text += fmt::format("{} {}\n", m.name, m.digest);
  return sha256_hex(text);
}

PgStatement publish_monitor_set(const std::string& hash, const std::vector<MonitorDigest>& set) {
  nlohmann::json monitors = nlohmann::json::object();
  for (const auto& m : set) monitors[m.name] = m.digest;
  return {
      "INSERT INTO monitor_sets (hash, monitors) VALUES ($1, $2::jsonb) "
      "ON CONFLICT (hash) DO NOTHING",
      {hash, monitors.dump()}};
}

PgStatement read_monitor_set(const std::string& hash) {
  return {"SELECT monitors::text FROM monitor_sets WHERE hash = $1", {hash}};
}

std::optional<std::vector<MonitorDigest>> monitor_set(const PgResult& answer) {
  if (!answer.ok() || answer.rows.size() != 1 || answer.rows[0].size() != 1 || !answer.rows[0][0]) {
    return std::nullopt;
  }
  const auto json = nlohmann::json::parse(*answer.rows[0][0], nullptr, false);
  if (!json.is_object()) return std::nullopt;
  std::vector<MonitorDigest> out;
  for (const auto& [name, digest] : json.items()) {
    if (!digest.is_string()) return std::nullopt;
    out.push_back({name, digest.get<std::string>()});
  }
  by_name(out);
  return out;
}

std::optional<std::string> first_difference(const std::vector<MonitorDigest>& mine,
                                            const std::vector<MonitorDigest>& theirs,
                                            const std::string& node) {
  std::map<std::string, std::pair<const std::string*, const std::string*>> all;
  for (const auto& m : mine) all[m.name].first = &m.digest;
  for (const auto& m : theirs) all[m.name].second = &m.digest;
  for (const auto& [name, digests] : all) {
    const auto [own, other] = digests;
    if (own == nullptr) {
      return fmt::format("node {} runs monitor \"{}\", which this node's config lacks", node, name);
    }
    if (other == nullptr) {
      return fmt::format("monitor \"{}\" is in this node's config and not in node {}'s", name,
                         node);
    }
    if (*own != *other) {
      return fmt::format(
          "monitor \"{}\" is configured differently here and on node {} (its [[monitor]] entry "
          "or [defaults] are not the same)",
          name, node);
    }
  }
  return std::nullopt;
}

}  // namespace lookout
