// The dns monitors' baselines in cluster mode (docs/cluster.md#dns-baselines): one per monitor
// and location in PostgreSQL (store/pg_baselines.h), so that whichever node of a location
// probes a monitor holds its runs to what the location saw, and an accept made through any node
// takes at every location. Every kReadEvery this node reads its location's baselines when
// baseline_version moved and hands them on, for the probes. A run's answers are written only
// when they are new to the location: a first answer set, or answers other than those it saw
// last.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/event_loop.h"
#include "daemon/cluster_node.h"
#include "store/pg_baselines.h"
#include "store/pg_connection.h"
#include "web/server.h"

namespace lookout {

class ClusterBaselines {
 public:
  static constexpr Duration kReadEvery{1000};

  ClusterBaselines(EventLoop& loop, PgConnection& pg, const ClusterNode& node);
  ~ClusterBaselines();
  ClusterBaselines(const ClusterBaselines&) = delete;
  ClusterBaselines& operator=(const ClusterBaselines&) = delete;

  // Reads now, then every kReadEvery; `baselines` gets every baseline of this location by
  // monitor, on the loop, whenever they changed.
  void start(std::function<void(const std::map<std::string, LocationBaseline>&)> baselines);
  void stop();
  // A read sent from now on, asked for when this node takes a monitor over: a number that
  // read_since() is true for once such a read answered. Until then a run would hold the
  // monitor to what this node read before, not to what the location has now.
  uint64_t ask_fresh();
  bool read_since(uint64_t asked) const { return answered_ >= asked; }

  // A run of `monitor` here that had answers to `question`; `first` when they became its
  // probe's baseline, the probe having none. Written when new to the location (a report at a
  // time per monitor: a run while one is in flight is left to the next run). A first baseline
  // that could not be written goes with the monitor's next run.
  void ran(const std::string& monitor, const std::string& question,
           const std::vector<std::string>& answers, bool first);

  // Every location's last answers to `question` become its baseline. `done` runs once, on the
  // loop: kDone with each location's accepted answers (in `locations`, their union in
  // `answers`), kNoAnswers when no location has seen any, kUnavailable saying what failed.
  void accept(const std::string& monitor, const std::string& question,
              std::function<void(AcceptResult)> done);

 private:
  void read();
  void report(const std::string& monitor, const Baseline& baseline,
              const std::vector<std::string>& seen);
  void accepted(const std::string& monitor, const std::string& question, const PgResult& answer,
                const std::function<void(AcceptResult)>& done);

  PgConnection& pg_;
  const ClusterNode& node_;
  Timer timer_;
  std::function<void(const std::map<std::string, LocationBaseline>&)> on_baselines_;
  bool started_ = false;
  bool in_flight_ = false;
  int64_t version_ = -1;   // baseline_version of the rows last read; -1 before the first read
  uint64_t asked_ = 1;     // the number of the reads sent from now on (the first read's is 1)
  uint64_t answered_ = 0;  // the highest number of a read that answered
  std::map<std::string, LocationBaseline> rows_;  // as last read, with the reports made since
  std::map<std::string, Baseline> unwritten_;     // first baselines whose report failed
  std::set<std::string> reporting_;               // monitors with a report in flight
  std::string read_error_;                        // the last read failure told
  std::string report_error_;                      // the last report failure told
  // Tells an answer that arrives after destruction to do nothing.
  std::shared_ptr<ClusterBaselines*> self_;
};

}  // namespace lookout
