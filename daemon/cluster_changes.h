// What the admin API answers when a change made through it (a maintenance window, a post) cannot
// be recorded in the cluster's PostgreSQL: why, whether it may have been recorded all the same,
// and what to do.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "daemon/cluster_node.h"
#include "store/pg_connection.h"

namespace lookout {

// Why a change cannot be sent on `pg` now (the node has not joined, or the connection is down):
// "... `thing` was not `done`; try again ..."; nullopt when it can be.
std::optional<std::string> change_unsendable(const ClusterNode& node, const PgConnection& pg,
                                             std::string_view thing, std::string_view done);

// Why a statement's answer is not the one asked for: the server's or the connection's error,
// or an answer of a shape this lookout does not know.
std::string answer_failure(const PgResult& answer);

// The error for a change whose statement failed or answered in a shape this lookout does not
// know: refused by the server (nothing was written), or unconfirmed (it may have been; `check`
// says where the operator sees which).
std::string change_failed(const PgResult& answer, const PgConnection& pg, std::string_view thing,
                          std::string_view done, std::string_view check);

}  // namespace lookout
