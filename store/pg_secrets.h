// The secrets a cluster's nodes share (kept_secrets): the key that signs ack links and the one
// heartbeat ping tokens are made with. The first node that needs one makes it; every node reads
// the same; `lookout cluster import` copies a single node's so its links and tokens keep
// working. Pure: statements and answers.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "store/pg_connection.h"

namespace lookout {

// Keeps `made` (name -> a value made now) for each name that has no value yet. Run it, then
// read() the values that stand: of two nodes making one at once, the first to commit wins.
PgStatement keep_secrets(const std::map<std::string, std::string>& made);
PgStatement read_secrets(const std::vector<std::string>& names);
// Name -> value; nullopt when the statement failed or a name asked for is missing.
std::optional<std::map<std::string, std::string>> secrets(const PgResult& answer,
                                                          const std::vector<std::string>& names);

}  // namespace lookout
