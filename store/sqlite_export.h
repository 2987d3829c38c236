// A single-node database as `lookout cluster import` reads it: opened read-only, refused unless
// its schema is the one this lookout writes, and read in one snapshot (a read transaction), each
// table in batches of rows in COPY's text format for its staged table (store/import_statements.h).
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "store/import_statements.h"
#include "store/rollup.h"

namespace lookout {

class SqliteExport {
 public:
  // nullptr with `error` set, naming the file, when it cannot be read or its schema version is
  // not this lookout's.
  static std::unique_ptr<SqliteExport> open(const std::string& path, std::string& error);
  ~SqliteExport();
  SqliteExport(const SqliteExport&) = delete;
  SqliteExport& operator=(const SqliteExport&) = delete;

  // The monitors table: name -> id.
  std::map<std::string, int64_t> monitor_ids(std::string& error);
  // Every monitor the database names: in its monitors table or in an incident.
  std::set<std::string> monitor_names(std::string& error);
  Watermarks watermarks() { return read_watermarks(db_); }
  // The first and last run's times (Unix ms); nullopt without runs.
  std::optional<std::pair<int64_t, int64_t>> result_span(std::string& error);

  // Reads one table from the start, a batch at a time.
  class Cursor {
   public:
    ~Cursor();
    Cursor(const Cursor&) = delete;
    Cursor& operator=(const Cursor&) = delete;
    // Appends up to `rows` rows to `out`; false once the table is read (or on an error, which
    // sets `error`).
    bool next(size_t rows, std::string& out, std::string& error);

   private:
    friend class SqliteExport;
    Cursor(sqlite3* db, sqlite3_stmt* st) : db_(db), st_(st) {}
    sqlite3* db_;
    sqlite3_stmt* st_;
    bool done_ = false;
  };
  // nullptr with `error` set when the query cannot be prepared.
  std::unique_ptr<Cursor> read(const ImportTable& table, std::string& error);

 private:
  explicit SqliteExport(sqlite3* db) : db_(db) {}
  sqlite3* db_;
};

}  // namespace lookout
