// Cluster mode's schema in PostgreSQL: numbered migrations recorded in the lookout_schema table,
// each applied in a transaction of its own under an advisory lock, so that nodes starting at
// the same moment apply each exactly once. A database whose schema is newer than this lookout
// knows is refused: an older node must not write into tables it does not understand.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "store/pg_connection.h"

namespace lookout {

// The newest schema version this lookout knows.
int pg_schema_version();

// The key of the advisory lock each migration's transaction takes: any key of lookout's own
// ("lookout" in ASCII); another program's connection that happens to take it only waits.
inline constexpr int64_t kPgMigrationLock = 30521821819270516;

// Who migrates: a node of the cluster (or `lookout cluster init` under the config's node name)
// and the lease by which the nodes table counts a node live.
struct MigratingNode {
  std::string node;
  Duration lease{10'000};
};

// The SQLSTATE of a migration refused because other nodes are live (PostgreSQL leaves class LK
// to applications).
inline constexpr const char* kPgLiveNodesRefuseMigration = "LK001";

// The transaction that moves the schema to `version` (from version - 1): it takes the lock,
// records the version (a unique key: a second node that tries the same version fails there,
// and nothing of its transaction stays), and changes the tables. From version 2 on, it first
// refuses (kPgLiveNodesRefuseMigration, naming them) while nodes other than `who` are live: they
// run a lookout that knows only the schema as it is, and a migration under them would mix
// versions. An upgrade that changes the schema therefore stops every node first.
std::string pg_migration_script(int version, const MigratingNode& who);

// "the database has schema version N, newer than this lookout knows (M); upgrade lookout on
// this node"
std::string pg_newer_schema_error(int found);

// The database's schema version (0: it has no lookout schema), or nullopt and the error when it
// cannot be read. `done` runs once, on the loop.
void read_pg_schema_version(PgConnection& pg,
                            std::function<void(std::optional<int>, std::string)> done);

struct PgMigration {
  int found = 0;             // the version before (0: no lookout schema)
  int now = 0;               // the version after
  std::vector<int> applied;  // by this call; another node may have applied others meanwhile
  std::string error;         // empty on success
  // Refused because other nodes are live (kPgLiveNodesRefuseMigration): a node waits for them
  // to stop rather than exit, so that upgrading the hosts one by one converges.
  bool refused_by_live_nodes = false;
  bool ok() const { return error.empty(); }
};

// Brings the schema to pg_schema_version(): creates it in a database without one, applies the
// migrations it lacks one by one (refused while other nodes are live), and refuses a newer one.
// `done` runs once, on the loop.
void migrate_pg_schema(PgConnection& pg, MigratingNode who, std::function<void(PgMigration)> done);

}  // namespace lookout
