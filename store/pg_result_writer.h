// A node's results written to PostgreSQL from the loop, many rows a round trip. Rows wait in
// memory between flushes (every kStorageFlushEvery, as the SQLite engine commits) and go as one
// COPY a batch, at most max_batch_rows, one batch at a time, in the order they were added.
//
// A batch that fails is kept and sent again: the same rows under the same number, with none
// added, so that the mark it leaves in result_batches tells a batch the database took before its
// answer was lost (a restart, a failover) from one it never took. So no row is lost and none is
// written twice. A batch refused for rows whose days have no partition (a node's clock off, rows
// kept through an outage) has those days made, and goes again at the next flush. Past max_rows
// waiting, the oldest are dropped and counted, as the SQLite engine drops past its backlog.
//
// Each row added gets a number, from 1 in the order added; the writer reports, after each batch
// it commits, the number up to which every row is in PostgreSQL or was dropped. The local spool
// (store/result_spool.h) keeps each row on disk until then, and knows each batch before it is
// sent: a writer of the next process resumes from what the spool kept, the batch in doubt sent
// first under this writer's id and its number, the row numbers going on.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/event_loop.h"
#include "store/pg_connection.h"
#include "store/pg_results.h"
#include "store/storage.h"

namespace lookout {

struct PgResultWriterOptions {
  Duration flush_every = kStorageFlushEvery;
  size_t max_batch_rows = 10'000;  // in one COPY: about 1 MB and a few ms of the loop to make
  size_t max_rows = 200'000;       // waiting in memory: [storage] max_backlog
};

// A row with the number its writer gave it.
struct NumberedResult {
  uint64_t number = 0;
  ResultRow row;
};

// A batch as it is formed, before it is first sent: under this writer id and number, the rows
// numbered from first to last (those of them still waiting when it goes).
struct FormedBatch {
  std::string writer;
  uint64_t batch = 0;
  uint64_t first = 0, last = 0;
};

// What a writer of an earlier process left, as the spool kept it: its id, the batch it may have
// sent last and not heard back about, and the rows not known to be in PostgreSQL.
struct ResultBacklog {
  std::string writer;  // empty: none (a new spool)
  uint64_t batch = 0;  // the batch in doubt, 0 when none is
  // In the order of their numbers: first the batch in doubt's, batch_rows of them.
  std::vector<NumberedResult> rows;
  size_t batch_rows = 0;
  // The number the next row added gets: past every row the spool ever kept.
  uint64_t next_number = 1;
};

class PgResultWriter {
 public:
  // With a backlog the writer goes on where the last process stopped: the batch in doubt first,
  // under the old writer's id with the same rows and number, so its mark tells whether the
  // database has it; then the other rows in order under a new id (a mark the old writer left
  // after the one the spool knows, while the spool could not write, must not meet a new batch),
  // and new rows numbered after them.
  PgResultWriter(EventLoop& loop, PgConnection& pg, ResultOrigin origin,
                 PgResultWriterOptions options = {}, ResultBacklog backlog = {});
  // Rows still waiting are not written.
  ~PgResultWriter();
  PgResultWriter(const PgResultWriter&) = delete;
  PgResultWriter& operator=(const PgResultWriter&) = delete;

  // Starts the flushes.
  void start();
  // Queues a row; returns its number.
  uint64_t add(ResultRow row);
  // Runs on the loop after each batch committed, with committed().
  void set_on_committed(std::function<void(uint64_t through)> f) { on_committed_ = std::move(f); }
  // Runs in add() with each row and its number, before it is queued.
  void set_on_added(std::function<void(uint64_t number, const ResultRow&)> f) {
    on_added_ = std::move(f);
  }
  // Runs on the loop when a batch is formed; the batch is sent only once `go` has been called (on
  // the loop, at once or later): a spool records the batch before it can reach the database.
  using BatchHook = std::function<void(const FormedBatch&, std::function<void()> go)>;
  void set_on_batch(BatchHook f) { on_batch_ = std::move(f); }

  // Every row numbered up to this is in PostgreSQL or was dropped.
  uint64_t committed() const;
  size_t waiting() const { return rows_.size(); }
  uint64_t written() const { return written_; }
  uint64_t dropped() const { return dropped_; }
  // Why the last batch failed; empty once one commits.
  const std::string& last_error() const { return last_error_; }
  // This writer's id in result_batches (32 hex digits), new for each writer.
  const std::string& id() const { return id_; }

 private:
  using Waiting = NumberedResult;

  void send();
  // The go of on_batch for `batch`.
  void release(uint64_t batch);
  void on_answer(PgResult answer);
  // `tell`: log that rows have no partition (once, not at each retry).
  void make_partitions(bool tell);
  void drop_oldest();

  PgConnection& pg_;
  ResultOrigin origin_;
  PgResultWriterOptions options_;
  std::string id_;
  Timer timer_;
  std::deque<Waiting> rows_;
  uint64_t next_number_ = 1;
  // The batch: the first batch_rows_ of rows_ (0: none formed yet), sent under batch_. It keeps
  // its rows and number until the database has it.
  uint64_t batch_ = 0;
  size_t batch_rows_ = 0;
  bool in_flight_ = false;
  bool held_ = false;  // the batch waits for on_batch's go
  // Sending the batch in doubt of an earlier process under its writer's id; the batches after
  // it go under a new id.
  bool resumed_ = false;
  uint64_t written_ = 0;
  uint64_t dropped_ = 0;
  std::string last_error_;
  std::string partitions_error_;  // why the last making of partitions failed
  std::function<void(uint64_t)> on_committed_;
  std::function<void(uint64_t, const ResultRow&)> on_added_;
  BatchHook on_batch_;
  // Tells an answer that arrives after destruction to do nothing.
  std::shared_ptr<PgResultWriter*> self_;
};

}  // namespace lookout
