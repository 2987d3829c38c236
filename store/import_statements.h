// What `lookout cluster import` runs on PostgreSQL, as statements. Pure: the command
// (daemon/cli_cluster_import.cc) reads the single-node database and runs these on its
// connection.
//
// The connection runs each statement or COPY as a transaction of its own, and a COPY's data ends
// its script, so the tables cannot be copied into the cluster's tables one COPY after another
// and still go in all or nothing. Each single-node table is therefore copied as it is (its
// columns and Unix-millisecond times) into a temporary table of the session, as many COPYs as
// its size asks; then one transaction checks that the import is safe and moves every staged row
// into the cluster's tables, converting as it goes. A failure anywhere before its COMMIT leaves
// the cluster as it was, and the temporary tables go with the session.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "store/pg_connection.h"
#include "store/pg_results.h"

namespace lookout {

// One single-node table as it is staged: the temporary table, its columns, and the SQLite query
// that reads them in that order.
struct ImportTable {
  const char* staged;
  const char* columns;  // as CREATE TABLE takes them
  const char* select;   // on the single-node database
};

// Every staged table, in the order they are copied.
const std::vector<ImportTable>& import_tables();

// A monitor of the config, with its id in the single-node database (nullopt: it has none there)
// and its shard.
struct ImportMonitor {
  std::string name;
  std::optional<int64_t> id;
  int shard = 0;
};

// The temporary tables: every import_tables() entry, the monitors, and the counts of what moved.
std::string import_staging_script();

// The COPY of a batch of one staged table's rows.
std::string import_copy_sql(const ImportTable& table);
// The COPY of the monitors, with import_monitor_rows as its data.
std::string import_monitors_copy_sql();
std::string import_monitor_rows(const std::vector<ImportMonitor>& monitors);

// One value in COPY's text format, as a staged row holds it (each followed by a tab or a
// newline by the caller); text goes through append_copy_text (store/pg_results.h).
void append_copy_null(std::string& out);
void append_copy_integer(std::string& out, int64_t v);
void append_copy_real(std::string& out, double v);
void append_copy_bytea(std::string& out, std::string_view bytes);

// What the move needs besides the staged rows.
struct ImportPlan {
  std::string location;  // of the config's [cluster]: where the copied runs were made
  Duration lease{10'000};
  // SQLite's rollup watermarks (Unix ms): every run before one is in that level's table.
  std::optional<int64_t> minute_until, hour_until, day_until;
};

// The node every copied run, event and state names: the single node was not a node of the
// cluster, and no node's name should take its history over.
inline constexpr const char* kImportNode = "import";

// The SQLSTATEs of the move's refusals (PostgreSQL leaves class LK to applications).
inline constexpr const char* kImportLiveNodes = "LK011";
inline constexpr const char* kImportHistoryPresent = "LK012";
inline constexpr const char* kImportIdsTaken = "LK013";
inline constexpr const char* kImportSecretDiffers = "LK014";

// The one transaction that moves the staged rows into the cluster. It locks the nodes table (a
// node starting meanwhile waits for the COMMIT) and refuses, each with its SQLSTATE above and a
// message saying what to do: while a node is alive; when the cluster already holds history
// (runs, rollups, states or incidents) of a monitor it would copy; when an incident, event or
// maintenance window id it would copy is taken; when the cluster keeps another ack_key or
// heartbeat_key. Then it copies the rows of the config's monitors and every maintenance window
// made through the API, sets the rollup marks of their shards to SQLite's watermarks (an
// earlier mark of the cluster's stays: folding a bucket again gives the same row), and moves
// the id sequences past the copied ids. Its answer: one row per table, its name and the rows
// copied.
std::string import_move_script(const ImportPlan& plan);

// The move's answer as (table, rows) pairs; nullopt for an answer of another shape.
std::optional<std::vector<std::pair<std::string, int64_t>>> import_counts(const PgResult& answer);

}  // namespace lookout
