// A prepared SQLite statement that finalizes itself, and reading a text column: what every
// query of the store is written with.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <string>

namespace lookout {

class Stmt {
 public:
  // `flags` as sqlite3_prepare_v3 takes them, SQLITE_PREPARE_PERSISTENT for a statement kept and
  // stepped again and again; without any it prepares as sqlite3_prepare_v2 does.
  Stmt(sqlite3* db, const char* sql, unsigned flags = 0) {
    rc_ = sqlite3_prepare_v3(db, sql, -1, flags, &st_, nullptr);
  }
  Stmt(sqlite3* db, const std::string& sql, unsigned flags = 0) : Stmt(db, sql.c_str(), flags) {}
  ~Stmt() { sqlite3_finalize(st_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  bool ok() const { return rc_ == SQLITE_OK; }
  sqlite3_stmt* get() { return st_; }
  void bind(int i, int64_t v) { sqlite3_bind_int64(st_, i, v); }
  void bind(int i, const std::string& v) {
    sqlite3_bind_text(st_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  }
  void bind(int i, std::optional<int64_t> v) {
    if (v) {
      sqlite3_bind_int64(st_, i, *v);
    } else {
      sqlite3_bind_null(st_, i);
    }
  }
  // Not copied, so `v` must outlive the statement: for constants, such as a meta key.
  void bind_static(int i, const char* v) { sqlite3_bind_text(st_, i, v, -1, SQLITE_STATIC); }
  void bind_blob(int i, const std::string& v) {
    sqlite3_bind_blob(st_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  }
  void bind_null(int i) { sqlite3_bind_null(st_, i); }
  void bind_text_or_null(int i, const std::string& v) {
    if (v.empty()) {
      sqlite3_bind_null(st_, i);
    } else {
      bind(i, v);
    }
  }
  int step() { return sqlite3_step(st_); }
  void reset() {
    sqlite3_reset(st_);
    sqlite3_clear_bindings(st_);
  }

 private:
  sqlite3_stmt* st_ = nullptr;
  int rc_;
};

// A text column; NULL reads as "".
inline std::string column_text(sqlite3_stmt* st, int i) {
  const auto* t = sqlite3_column_text(st, i);
  return t != nullptr ? std::string(reinterpret_cast<const char*>(t)) : std::string();
}

}  // namespace lookout
