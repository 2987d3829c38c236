#include "daemon/cluster_changes.h"

#include <fmt/format.h>

namespace lookout {

std::optional<std::string> change_unsendable(const ClusterNode& node, const PgConnection& pg,
                                             std::string_view thing, std::string_view done) {
  if (!node.joined()) {
    return fmt::format(
        "this node has not joined the cluster yet (it migrates the schema or compares its "
        "monitors with the live nodes'): {} was not {}; try again in a moment",
        thing, done);
  }
  if (!pg.connected()) {
    const std::string& why = pg.last_error();
    return fmt::format(
        "PostgreSQL at {} cannot be reached from this node{}{}: {} was not {}; try again once it "
        "can",
        pg.server(), why.empty() ? "" : ": ", why, thing, done);
  }
  return std::nullopt;
}

std::string answer_failure(const PgResult& answer) {
  return answer.ok() ? "an answer in a shape this lookout does not know" : answer.error;
}

std::string change_failed(const PgResult& answer, const PgConnection& pg, std::string_view thing,
                          std::string_view done, std::string_view check) {
  if (answer.ok()) {
    return fmt::format(
        "PostgreSQL at {} answered in a shape this lookout does not know: {} may or may not be "
        "{}; {}",
        pg.server(), thing, done, check);
  }
  if (!answer.sqlstate.empty()) {
    // The server refused the statement: its transaction did nothing.
    return fmt::format("PostgreSQL refused it: {}: {} was not {}; try again", answer.error, thing,
                       done);
  }
  return fmt::format(
      "the connection to PostgreSQL was lost before it confirmed the change ({}): {} may or may "
      "not be {}; {}",
      answer.error, thing, done, check);
}

}  // namespace lookout
