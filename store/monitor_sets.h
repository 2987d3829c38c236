// Which monitors a node runs, as cluster nodes compare them: every node must run the same
// monitors, or a monitor would be probed and judged by different rules depending on which node
// holds its lease. A node publishes its set once at start under its hash (the nodes table
// carries only the hash, renewed every lease/5); a node whose hash differs from a live node's
// reads that node's set and names the first monitor that differs. Pure: statements and answers.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "store/pg_connection.h"

namespace lookout {

struct MonitorDigest {
  std::string name;
  std::string digest;  // MonitorConfig::digest
  bool operator==(const MonitorDigest&) const = default;
};

// A config's monitors by name, each with its digest.
std::vector<MonitorDigest> monitor_digests(const Config& config);
// The hash of a set (order does not matter): what the nodes table's monitors_hash holds.
std::string monitors_hash(std::vector<MonitorDigest> set);

// Keeps a set under its hash; a set already there is left as it is (the same hash, the same set).
PgStatement publish_monitor_set(const std::string& hash, const std::vector<MonitorDigest>& set);
// The set kept under `hash`; read the answer with monitor_set().
PgStatement read_monitor_set(const std::string& hash);
// nullopt when the statement failed, found no set, or the answer is not in the shape asked for.
std::optional<std::vector<MonitorDigest>> monitor_set(const PgResult& answer);

// What differs between this node's set and `node`'s, for the operator: the first monitor by
// name that is configured differently, or that one of the two lacks; nullopt when none does.
std::optional<std::string> first_difference(const std::vector<MonitorDigest>& mine,
                                            const std::vector<MonitorDigest>& theirs,
                                            const std::string& node);

}  // namespace lookout
