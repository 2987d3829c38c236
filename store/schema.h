// The SQLite schema and its migrations, versioned with PRAGMA user_version.
#pragma once

#include <sqlite3.h>

#include <string>

namespace lookout {

// Brings the database to the newest schema; false with `error` set on failure.
bool migrate(sqlite3* db, std::string& error);
int schema_version();

// Runs SQL without results; false with `error` set on failure.
bool exec_sql(sqlite3* db, const char* sql, std::string& error);

}  // namespace lookout
