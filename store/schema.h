// The SQLite schema and its migrations, versioned with PRAGMA user_version, and opening a SQLite
// file the way every writer of one does.
#pragma once

#include <sqlite3.h>

#include <string>

namespace lookout {

// Brings the database to the newest schema; false with `error` set on failure.
bool migrate(sqlite3* db, std::string& error);
int schema_version();

// Opens the SQLite file at `path` to write, making it and its folder when missing, waiting up to
// `busy_ms` on another connection's lock; nullptr with `error` set, naming `what` the file is for
// people ("the database") and the folder or the file.
sqlite3* open_sqlite_file(const std::string& path, const char* what, int busy_ms,
                          std::string& error);

// Runs SQL without results; false with `error` set on failure.
bool exec_sql(sqlite3* db, const char* sql, std::string& error);

}  // namespace lookout
