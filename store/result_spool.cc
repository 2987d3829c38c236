#include "store/result_spool.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "core/units.h"
#include "store/aggregate.h"
#include "store/rollup.h"
#include "store/schema.h"
#include "store/statement.h"

namespace lookout {
namespace {

// Tables of their own, so the spool can share a file with a single-node database: a node moved
// to cluster mode keeps its [storage] path and the history in it. Text is kept as blobs, byte
// for byte, NUL bytes included; PostgreSQL's rules apply when a row is sent.
constexpr const char* kSpoolSchema =
    "CREATE TABLE IF NOT EXISTS spool_results (number INTEGER PRIMARY KEY, monitor BLOB NOT NULL, "
    "t_ms INTEGER NOT NULL, outcome INTEGER NOT NULL, http_status INTEGER NOT NULL, "
    "dns_us INTEGER, connect_us INTEGER, tls_us INTEGER, first_byte_us INTEGER, total_us INTEGER, "
    "kind INTEGER NOT NULL, cause BLOB NOT NULL, maintenance INTEGER NOT NULL, "
    "detail BLOB NOT NULL, samples BLOB NOT NULL);"
    "CREATE TABLE IF NOT EXISTS spool_batch (id INTEGER PRIMARY KEY CHECK (id = 1), "
    "writer TEXT NOT NULL, batch INTEGER NOT NULL, first_number INTEGER NOT NULL, "
    "last_number INTEGER NOT NULL);";

std::string column_bytes(sqlite3_stmt* st, int i) {
  const void* p = sqlite3_column_blob(st, i);
  return p != nullptr ? std::string(static_cast<const char*>(p),
                                    static_cast<size_t>(sqlite3_column_bytes(st, i)))
                      : std::string();
}

// pack_samples' little-endian 64-bit microseconds, back.
std::vector<int64_t> unpack_spooled_samples(const std::string& packed) {
  std::vector<int64_t> out;
  out.reserve(packed.size() / 8);
  for (size_t at = 0; at + 8 <= packed.size(); at += 8) {
    uint64_t v = 0;
    for (int b = 7; b >= 0; --b) v = (v << 8) | static_cast<unsigned char>(packed[at + b]);
    out.push_back(static_cast<int64_t>(v));
  }
  return out;
}

bool read_left(sqlite3* db, ResultBacklog& left, std::string& error) {
  Stmt batch(db, "SELECT writer, batch, first_number, last_number FROM spool_batch");
  uint64_t first = 0, last = 0;
  if (!batch.ok()) {
    error = sqlite3_errmsg(db);
    return false;
  }
  if (batch.step() == SQLITE_ROW) {
    left.writer = column_text(batch.get(), 0);
    // The id goes into SQL text: only what a writer makes (32 hex digits) is taken.
    if (left.writer.size() != 32 ||
        !std::all_of(left.writer.begin(), left.writer.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); })) {
      error =
          "its batch in doubt names no writer lookout made (the file was changed by hand); move "
          "it away to start with an empty spool";
      return false;
    }
    left.batch = static_cast<uint64_t>(sqlite3_column_int64(batch.get(), 1));
    first = static_cast<uint64_t>(sqlite3_column_int64(batch.get(), 2));
    last = static_cast<uint64_t>(sqlite3_column_int64(batch.get(), 3));
    left.next_number = last + 1;
  }
  Stmt rows(db,
            "SELECT number, monitor, t_ms, outcome, http_status, dns_us, connect_us, tls_us, "
            "first_byte_us, total_us, kind, cause, maintenance, detail, samples "
            "FROM spool_results ORDER BY number");
  if (!rows.ok()) {
    error = sqlite3_errmsg(db);
    return false;
  }
  int rc = SQLITE_ROW;
  while ((rc = rows.step()) == SQLITE_ROW) {
    sqlite3_stmt* st = rows.get();
    NumberedResult n;
    n.number = static_cast<uint64_t>(sqlite3_column_int64(st, 0));
    ResultRow& r = n.row;
    r.monitor = column_bytes(st, 1);
    r.t_ms = sqlite3_column_int64(st, 2);
    r.outcome = static_cast<Outcome>(sqlite3_column_int(st, 3));
    r.http_status = sqlite3_column_int(st, 4);
    r.timings = {column_opt(st, 5), column_opt(st, 6), column_opt(st, 7), column_opt(st, 8),
                 column_opt(st, 9)};
    r.kind = static_cast<ErrorKind>(sqlite3_column_int(st, 10));
    r.cause = column_bytes(st, 11);
    r.maintenance = sqlite3_column_int(st, 12) != 0;
    r.detail = column_bytes(st, 13);
    r.samples_us = unpack_spooled_samples(column_bytes(st, 14));
    left.rows.push_back(std::move(n));
  }
  if (rc != SQLITE_DONE) {
    error = sqlite3_errmsg(db);
    return false;
  }
  // Rows before the batch were written or dropped before it was formed (a batch takes the oldest
  // rows waiting), though their leaving may not have reached the file.
  if (left.batch > 0) {
    std::erase_if(left.rows, [&](const NumberedResult& n) { return n.number < first; });
  }
  // The batch's rows are the oldest left.
  while (left.batch_rows < left.rows.size() && left.rows[left.batch_rows].number >= first &&
         left.rows[left.batch_rows].number <= last) {
    ++left.batch_rows;
  }
  if (!left.rows.empty())
    left.next_number = std::max(left.next_number, left.rows.back().number + 1);
  return true;
}

}  // namespace

std::unique_ptr<ResultSpool> ResultSpool::open(EventLoop& loop, const std::string& path,
                                               ResultBacklog& left, std::string& error) {
  // The spool is its file's only writer; a lock held longer than a second is a fault to report,
  // and a batch waits for the spool's transaction, so it must not wait long.
  sqlite3* db = open_sqlite_file(path, "the result spool", 1000, error);
  if (db == nullptr) return nullptr;
  std::string why;
  // As the SQLite engine: WAL, and NORMAL sync keeps every commit across a process kill without
  // an fsync per transaction. Creating the tables also proves the file writable.
  left = ResultBacklog{};
  if (!exec_sql(db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;", why) ||
      !exec_sql(db, kSpoolSchema, why) || !read_left(db, left, why)) {
    error = fmt::format("the result spool {} is not usable: {}", path, why);
    sqlite3_close(db);
    return nullptr;
  }
  return std::unique_ptr<ResultSpool>(new ResultSpool(loop, db, path, left.rows.size()));
}

ResultSpool::ResultSpool(EventLoop& loop, sqlite3* db, std::string path, uint64_t rows)
    : db_(db), path_(std::move(path)), rows_(rows), wake_(loop, [this] { run_recorded(); }) {}

ResultSpool::~ResultSpool() {
  stop();
  sqlite3_close(db_);
}

void ResultSpool::start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { run(); });
}

void ResultSpool::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  // A spool stopped before it started still writes what it was handed, in one last round.
  if (!thread_.joinable()) thread_ = std::thread([this] { run(); });
  thread_.join();
}

void ResultSpool::add(uint64_t number, const ResultRow& row) {
  std::lock_guard lock(mu_);
  pending_.rows.push_back(NumberedResult{number, row});
}

void ResultSpool::committed(uint64_t through) {
  std::lock_guard lock(mu_);
  pending_.through = std::max(pending_.through, through);
  // Rows that reached PostgreSQL before they reached the file need not reach it.
  auto& rows = pending_.rows;
  size_t n = 0;
  while (n < rows.size() && rows[n].number <= through) ++n;
  rows.erase(rows.begin(), rows.begin() + static_cast<long>(n));
}

void ResultSpool::batch_formed(const FormedBatch& batch, std::function<void()> recorded) {
  {
    std::lock_guard lock(mu_);
    pending_.batch = batch;
    pending_.recorded.push_back(std::move(recorded));
  }
  cv_.notify_all();
}

std::string ResultSpool::last_error() const {
  std::lock_guard lock(mu_);
  return error_;
}

bool ResultSpool::idle() const {
  std::lock_guard lock(mu_);
  return pending_.empty() && !writing_;
}

void ResultSpool::run_recorded() {
  std::vector<std::function<void()>> ready;
  {
    std::lock_guard lock(mu_);
    ready.swap(ready_);
  }
  for (auto& f : ready) f();
}

void ResultSpool::merge_back(Pending&& failed) {
  std::lock_guard lock(mu_);
  const uint64_t through = std::max(failed.through, pending_.through);
  size_t n = 0;
  while (n < failed.rows.size() && failed.rows[n].number <= through) ++n;
  failed.rows.erase(failed.rows.begin(), failed.rows.begin() + static_cast<long>(n));
  failed.rows.insert(failed.rows.end(), std::make_move_iterator(pending_.rows.begin()),
                     std::make_move_iterator(pending_.rows.end()));
  pending_.rows = std::move(failed.rows);
  pending_.through = through;
  if (!pending_.batch) pending_.batch = std::move(failed.batch);
}

void ResultSpool::run() {
  bool last_round = false;
  while (!last_round) {
    Pending p;
    {
      std::unique_lock lock(mu_);
      // At once for a batch waiting to be recorded: the writer holds it until then.
      cv_.wait_for(lock, kStorageFlushEvery,
                   [this] { return stopping_ || !pending_.recorded.empty(); });
      last_round = stopping_;
      if (pending_.empty()) continue;
      std::swap(p, pending_);
      writing_ = true;
    }
    std::string error;
    const bool ok = write(p, error);
    {
      std::lock_guard lock(mu_);
      writing_ = false;
      if (ok && !error_.empty()) {
        spdlog::info("the result spool {} is written again ({} results in it)", path_,
                     rows_.load());
        error_.clear();
      } else if (!ok && error != error_) {
        spdlog::error(
            "cannot write the result spool {}: {}; results waiting for PostgreSQL are kept in "
            "memory only, and a kill now loses them; free space or make the file writable: "
            "writing is tried again every {}",
            path_, error, format_duration(kStorageFlushEvery));
        error_ = error;
      }
      // A writer must not wait on a broken disk: its batch goes either way.
      for (auto& f : p.recorded) ready_.push_back(std::move(f));
    }
    if (!p.recorded.empty()) wake_.send();
    p.recorded.clear();
    if (!ok) {
      merge_back(std::move(p));
      if (last_round) {
        spdlog::error("stopping with results not written to the result spool {}: {}", path_, error);
      }
    }
  }
}

bool ResultSpool::write(const Pending& p, std::string& error) {
  if (!exec_sql(db_, "BEGIN IMMEDIATE", error)) return false;
  bool ok = true;
  int64_t change = 0;
  auto fail = [&] {
    error = sqlite3_errmsg(db_);
    ok = false;
  };
  if (!p.rows.empty()) {
    Stmt ins(db_,
             "INSERT OR REPLACE INTO spool_results (number, monitor, t_ms, outcome, http_status, "
             "dns_us, connect_us, tls_us, first_byte_us, total_us, kind, cause, maintenance, "
             "detail, samples) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    for (const auto& [number, r] : p.rows) {
      if (number <= p.through) continue;
      ins.bind(1, static_cast<int64_t>(number));
      ins.bind_blob(2, r.monitor);
      ins.bind(3, r.t_ms);
      ins.bind(4, static_cast<int64_t>(r.outcome));
      ins.bind(5, static_cast<int64_t>(r.http_status));
      ins.bind(6, r.timings.dns_us);
      ins.bind(7, r.timings.connect_us);
      ins.bind(8, r.timings.tls_us);
      ins.bind(9, r.timings.first_byte_us);
      ins.bind(10, r.timings.total_us);
      ins.bind(11, static_cast<int64_t>(r.kind));
      ins.bind_blob(12, r.cause);
      ins.bind(13, static_cast<int64_t>(r.maintenance));
      ins.bind_blob(14, r.detail);
      ins.bind_blob(15, pack_samples(r.samples_us));
      if (ins.step() != SQLITE_DONE) {
        fail();
        break;
      }
      change += sqlite3_changes(db_);
      ins.reset();
    }
  }
  if (ok && p.through > 0) {
    Stmt del(db_, "DELETE FROM spool_results WHERE number <= ?");
    del.bind(1, static_cast<int64_t>(p.through));
    if (del.step() != SQLITE_DONE) {
      fail();
    } else {
      change -= sqlite3_changes(db_);
    }
  }
  if (ok && p.batch) {
    Stmt mark(db_,
              "INSERT OR REPLACE INTO spool_batch (id, writer, batch, first_number, last_number) "
              "VALUES (1, ?, ?, ?, ?)");
    mark.bind(1, p.batch->writer);
    mark.bind(2, static_cast<int64_t>(p.batch->batch));
    mark.bind(3, static_cast<int64_t>(p.batch->first));
    mark.bind(4, static_cast<int64_t>(p.batch->last));
    if (mark.step() != SQLITE_DONE) fail();
  }
  if (ok && !exec_sql(db_, "COMMIT", error)) ok = false;
  if (!ok) {
    std::string ignored;
    exec_sql(db_, "ROLLBACK", ignored);
    return false;
  }
  rows_ += static_cast<uint64_t>(change);
  return true;
}

void attach_spool(PgResultWriter& writer, ResultSpool& spool) {
  writer.set_on_added([&spool](uint64_t number, const ResultRow& row) { spool.add(number, row); });
  writer.set_on_committed([&spool](uint64_t through) { spool.committed(through); });
  writer.set_on_batch([&spool](const FormedBatch& batch, std::function<void()> go) {
    spool.batch_formed(batch, std::move(go));
  });
}

}  // namespace lookout
