// A probing node's location reports written to PostgreSQL from the loop: the newest report of
// each monitor waits until the next flush (every kStorageFlushEvery, as results go), and all
// that wait go in one statement (PgDecisions::report_locations), one statement at a time. A
// report is sent under the epoch of its shard's probe lease as the keeper holds it at the
// flush; one whose lease this node no longer holds is dropped, since the node that took the
// monitor over reports it now. A flush that fails keeps its reports, unless newer ones came
// meanwhile, and they go at the next flush: a report is a state, so only the newest matters.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "core/event_loop.h"
#include "store/pg_connection.h"
#include "store/pg_decisions.h"
#include "store/storage.h"

namespace lookout {

class LocationReporter {
 public:
  // `epoch_of(shard)`: the epoch under which this node holds the probe lease of `shard` in its
  // location now, nullopt when it does not (LeaseKeeper::probing()).
  using EpochOf = std::function<std::optional<int64_t>(int shard)>;
  LocationReporter(EventLoop& loop, PgConnection& pg, std::string node, std::string location,
                   EpochOf epoch_of, Duration flush_every = kStorageFlushEvery);
  ~LocationReporter();
  LocationReporter(const LocationReporter&) = delete;
  LocationReporter& operator=(const LocationReporter&) = delete;

  void start();
  // At SIGTERM, before the node's leases go: the reports waiting are sent at once, and `done`
  // runs on the loop once they are answered (or failed). No flush after.
  void stop(std::function<void()> done);
  // The monitor's report now; replaces one still waiting.
  void report(LocationReportRow row);

  size_t waiting() const { return waiting_.size(); }
  uint64_t written() const { return written_; }
  // Reports not written: their lease was not held at the flush, or no longer when the
  // statement ran, or the database had a report of a newer run.
  uint64_t not_written() const { return not_written_; }
  // Why the last flush failed; empty once one went in.
  const std::string& last_error() const { return last_error_; }

 private:
  void flush();
  void on_answer(const std::map<std::string, LocationReportRow>& sent, const PgResult& answer);
  void take_answer(const std::map<std::string, LocationReportRow>& sent, const PgResult& answer);

  PgConnection& pg_;
  std::string node_, location_;
  EpochOf epoch_of_;
  Duration flush_every_;
  Timer timer_;
  std::map<std::string, LocationReportRow> waiting_;  // by monitor
  bool in_flight_ = false;
  uint64_t written_ = 0;
  uint64_t not_written_ = 0;
  std::string last_error_;
  std::function<void()> stopped_;
  Timer finish_;
  // Tells an answer that arrives after destruction to do nothing.
  std::shared_ptr<LocationReporter*> self_;
};

}  // namespace lookout
