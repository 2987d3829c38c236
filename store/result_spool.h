// The local spool of cluster mode: a node's results kept in a SQLite file until PostgreSQL has
// them, so that none is lost when the database is unreachable for long and the process is killed
// meanwhile. The loop hands it each row with its writer's number, the number up to which rows are
// in PostgreSQL, and each batch as it is formed; a thread of its own writes them in one
// transaction about every kStorageFlushEvery, and at once when a batch waits to be recorded.
// Nothing here blocks the loop beyond a short mutex.
//
// A batch goes to PostgreSQL only once the spool has it on disk (attach_spool() holds it until
// then): after a kill -9 the spool's batch is the last one that can have reached the database, so
// the next process sends it again under the same writer id and number first, and its mark in
// result_batches tells whether the database has it. A spool that cannot write (a full disk, a file
// made unwritable) says so once per distinct error and lets the writer go on: rows then live in
// memory only, as without a spool, and are written when the file takes them again.
#pragma once

#include <sqlite3.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/event_loop.h"
#include "store/pg_result_writer.h"

namespace lookout {

class ResultSpool {
 public:
  // Opens the file, or creates it with its folders, and its tables (spool_results and
  // spool_batch, beside any others the file holds); reads into `left` what the last process left.
  // Runs before the loop does; nullptr with `error` set, naming the file, when it cannot.
  static std::unique_ptr<ResultSpool> open(EventLoop& loop, const std::string& path,
                                           ResultBacklog& left, std::string& error);
  // Writes what is queued, as stop() does.
  ~ResultSpool();
  ResultSpool(const ResultSpool&) = delete;
  ResultSpool& operator=(const ResultSpool&) = delete;

  void start();
  // Writes what is queued (also when start() never ran) and ends the thread.
  void stop();

  // From the loop: queued for the next transaction.
  void add(uint64_t number, const ResultRow& row);
  // Rows numbered up to `through` are in PostgreSQL or were dropped: they leave the spool.
  void committed(uint64_t through);
  // The writer formed `batch`: kept as the batch in doubt. `recorded` runs on the loop once it is
  // on disk, or once writing it failed (the writer must not wait on a broken disk).
  void batch_formed(const FormedBatch& batch, std::function<void()> recorded);

  // From any thread.
  // Rows in the file: lookout_spool_rows.
  uint64_t rows() const { return rows_.load(); }
  // Why the last transaction failed; empty once one commits.
  std::string last_error() const;
  // Nothing queued and nothing being written: everything handed over is in the file, or failed.
  bool idle() const;
  const std::string& path() const { return path_; }

 private:
  struct Pending {
    std::vector<NumberedResult> rows;  // in the order of their numbers
    uint64_t through = 0;
    std::optional<FormedBatch> batch;
    std::vector<std::function<void()>> recorded;
    bool empty() const { return rows.empty() && through == 0 && !batch && recorded.empty(); }
  };

  ResultSpool(EventLoop& loop, sqlite3* db, std::string path, uint64_t rows);
  void run();
  bool write(const Pending& p, std::string& error);
  // A failed transaction's work goes back in front of what came since.
  void merge_back(Pending&& failed);
  void run_recorded();

  sqlite3* db_;
  std::string path_;
  std::atomic<uint64_t> rows_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  Pending pending_;
  bool writing_ = false;
  bool stopping_ = false;
  std::string error_;
  std::vector<std::function<void()>> ready_;  // recorded callbacks for the loop
  Async wake_;
  std::thread thread_;
};

// Ties a writer to its spool: each row added is spooled, rows committed leave it, and each batch
// waits until the spool has recorded it.
void attach_spool(PgResultWriter& writer, ResultSpool& spool);

}  // namespace lookout
