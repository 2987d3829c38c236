// The status page's summaries (uptime over 24 h, 30 d, 90 d and the 90 daily bars) of every
// monitor, read from the cluster's PostgreSQL by every node on the loop's connection for the
// page's reads, and published for the web threads as SqliteStore publishes its own. What is
// read and how the pieces make the summaries: store/summary_pieces.h.
//
// Every second the marks of the next kShardsPerTick shards are read, then in one statement what
// SummaryPieces plans for them: so each shard is read again every 256 / kShardsPerTick seconds
// (kLag), and the page may lag that much behind the results. A failed read is tried again with
// the next shards' turn; the summaries stay as last read meanwhile.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/event_loop.h"
#include "store/history.h"
#include "store/pg_connection.h"
#include "store/summary_pieces.h"

namespace lookout {

class PgSummaries {
 public:
  static constexpr int kShardsPerTick = 16;
  static constexpr Duration kTick{1000};
  static constexpr Duration kLag{kTick.count() * 256 / kShardsPerTick};

  // Publishes into `out`, which must outlive it.
  PgSummaries(EventLoop& loop, PgConnection& pg, const Clock& clock,
              const std::vector<std::string>& monitors, SummaryCache& out);
  ~PgSummaries();
  PgSummaries(const PgSummaries&) = delete;
  PgSummaries& operator=(const PgSummaries&) = delete;

  void start();
  // Answers still to come are dropped.
  void stop();

  // Reads answered and applied; every shard has been read once `ready()`.
  uint64_t reads() const { return reads_; }
  bool ready() const;
  // Rows read in all, for the benchmark and the tests.
  uint64_t rows() const { return rows_; }

 private:
  void tick();
  void read(std::vector<int> shards);
  void tell(const std::string& error);

  const Clock& clock_;
  PgConnection& pg_;
  SummaryCache& out_;
  SummaryPieces pieces_;
  std::vector<int> shards_;  // those with monitors
  size_t next_ = 0;          // into shards_
  bool in_flight_ = false;
  uint64_t reads_ = 0, rows_ = 0;
  std::string told_;  // the last error logged
  Timer timer_;
  // Tells an answer that arrives after stop() or destruction to do nothing.
  std::shared_ptr<PgSummaries*> self_;
};

}  // namespace lookout
