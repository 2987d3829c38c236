// Maintenance windows made through the admin API, in the cluster's maintenance_windows table
// (schema version 9): written by the node that took the request, read by every node for its
// alert engines and its page. Pure, like PgDecisions: the caller runs the statements on its
// connection.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "core/clock.h"
#include "store/pg_connection.h"
#include "store/records.h"

namespace lookout {

class PgMaintenance {
 public:
  // Every window that ended less than `ended_within` ago by the server's clock, or ends later,
  // by id. An ended window changes nothing, and the table keeps every window ever made.
  static PgStatement list(Duration ended_within);
  // list()'s answer; nullopt for a failure or an answer of another shape.
  static std::optional<std::vector<MaintenanceRecord>> windows(const PgResult& answer);

  // A new window (its id ignored): the table's identity numbers it.
  static PgStatement insert(const MaintenanceRecord& window);
  // insert()'s answer: the id given; nullopt for a failure or another shape.
  static std::optional<int64_t> inserted_id(const PgResult& answer);

  // The window `id`, deleted.
  static PgStatement remove(int64_t id);
  // remove()'s answer: the window deleted, or nullopt inside when there was none; nullopt for a
  // failure or another shape.
  static std::optional<std::optional<MaintenanceRecord>> removed(const PgResult& answer);
};

}  // namespace lookout
