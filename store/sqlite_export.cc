#include "store/sqlite_export.h"

#include <fmt/format.h>

#include <string_view>

#include "store/schema.h"
#include "store/statement.h"

namespace lookout {

std::unique_ptr<SqliteExport> SqliteExport::open(const std::string& path, std::string& error) {
  sqlite3* db = nullptr;
  // Read-only, and never made: a wrong path is an error here, not a new empty database.
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr) !=
      SQLITE_OK) {
    error = fmt::format("cannot open the single-node database {}: {}", path,
                        db != nullptr ? sqlite3_errmsg(db) : "out of memory");
    sqlite3_close(db);
    return nullptr;
  }
  sqlite3_busy_timeout(db, 5000);
  auto out = std::unique_ptr<SqliteExport>(new SqliteExport(db));
  int version = -1;
  {
    // Every read after this sees one snapshot, whatever a lookout still running there writes.
    std::string begin_error;
    Stmt st(db, "PRAGMA user_version");
    if (!exec_sql(db, "BEGIN", begin_error) || !st.ok() || st.step() != SQLITE_ROW) {
      error = fmt::format("cannot read the single-node database {}: {}", path, sqlite3_errmsg(db));
      return nullptr;
    }
    version = sqlite3_column_int(st.get(), 0);
  }
  if (version == 0) {
    error = fmt::format("{} holds no lookout database (its schema version is 0)", path);
    return nullptr;
  }
  if (version != schema_version()) {
    error = fmt::format(
        "{} has schema version {}, and this lookout imports version {}: {}", path, version,
        schema_version(),
        version < schema_version()
            ? "run this lookout's single node on it once (lookout run migrates it), then import"
            : "import it with the newer lookout that wrote it");
    return nullptr;
  }
  // A file that is a database but not lookout's answers here rather than midway.
  std::string probe_error;
  for (const ImportTable& t : import_tables()) {
    if (out->read(t, probe_error) == nullptr) {
      error = fmt::format("cannot read the single-node database {}: {}", path, probe_error);
      return nullptr;
    }
  }
  return out;
}

SqliteExport::~SqliteExport() { sqlite3_close(db_); }

std::map<std::string, int64_t> SqliteExport::monitor_ids(std::string& error) {
  std::map<std::string, int64_t> out;
  Stmt st(db_, "SELECT name, id FROM monitors");
  int rc = SQLITE_ERROR;
  while (st.ok() && (rc = st.step()) == SQLITE_ROW)
    out.emplace(column_text(st.get(), 0), sqlite3_column_int64(st.get(), 1));
  if (rc != SQLITE_DONE) error = sqlite3_errmsg(db_);
  return out;
}

std::set<std::string> SqliteExport::monitor_names(std::string& error) {
  std::set<std::string> out;
  Stmt st(db_, "SELECT name FROM monitors UNION SELECT monitor FROM incidents");
  int rc = SQLITE_ERROR;
  while (st.ok() && (rc = st.step()) == SQLITE_ROW) out.insert(column_text(st.get(), 0));
  if (rc != SQLITE_DONE) error = sqlite3_errmsg(db_);
  return out;
}

std::optional<std::pair<int64_t, int64_t>> SqliteExport::result_span(std::string& error) {
  Stmt st(db_, "SELECT min(t_ms), max(t_ms) FROM results");
  if (!st.ok() || st.step() != SQLITE_ROW) {
    error = sqlite3_errmsg(db_);
    return std::nullopt;
  }
  const auto first = column_opt(st.get(), 0);
  const auto last = column_opt(st.get(), 1);
  if (!first || !last) return std::nullopt;
  return std::pair{*first, *last};
}

std::unique_ptr<SqliteExport::Cursor> SqliteExport::read(const ImportTable& table,
                                                         std::string& error) {
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db_, table.select, -1, &st, nullptr) != SQLITE_OK) {
    error = sqlite3_errmsg(db_);
    sqlite3_finalize(st);
    return nullptr;
  }
  return std::unique_ptr<Cursor>(new Cursor(db_, st));
}

SqliteExport::Cursor::~Cursor() { sqlite3_finalize(st_); }

bool SqliteExport::Cursor::next(size_t rows, std::string& out, std::string& error) {
  if (done_) return false;
  const int columns = sqlite3_column_count(st_);
  for (size_t n = 0; n < rows; ++n) {
    const int rc = sqlite3_step(st_);
    if (rc != SQLITE_ROW) {
      done_ = true;
      if (rc != SQLITE_DONE) error = sqlite3_errmsg(db_);
      return false;
    }
    for (int i = 0; i < columns; ++i) {
      if (i > 0) out += '\t';
      switch (sqlite3_column_type(st_, i)) {
        case SQLITE_INTEGER:
          append_copy_integer(out, sqlite3_column_int64(st_, i));
          break;
        case SQLITE_FLOAT:
          append_copy_real(out, sqlite3_column_double(st_, i));
          break;
        case SQLITE_TEXT:
          append_copy_text(
              out, std::string_view(reinterpret_cast<const char*>(sqlite3_column_text(st_, i)),
                                    static_cast<size_t>(sqlite3_column_bytes(st_, i))));
          break;
        case SQLITE_BLOB: {
          const void* blob = sqlite3_column_blob(st_, i);
          append_copy_bytea(out,
                            std::string_view(static_cast<const char*>(blob),
                                             static_cast<size_t>(sqlite3_column_bytes(st_, i))));
          break;
        }
        default:
          append_copy_null(out);
      }
    }
    out += '\n';
  }
  return true;
}

}  // namespace lookout
