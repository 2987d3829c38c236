// The deciding node's side of the quorum (docs/cluster.md#quorum): every `every` it reads the
// location reports of the monitors whose eval leases it holds and decides each of them with its
// MonitorQuorum. A read takes the reports written since the last one: those of transactions
// whose id is at least the xmin of the snapshots of the reads before (a report whose
// transaction committed after a later one was read is still read, docs/decisions.md); a shard
// just gained, and every shard after a read failed, is read whole, every report within the
// longest freshness bound, after its monitors' states as the node that decided them before left
// them (monitor_states), which its quorums carry on from: a takeover changes no state by itself. A
// report counts from when the database wrote it, by the server's clock: its age, as the server
// gives it, is taken from this node's clock at the answer, and every decision is judged on this
// node's clock, so no two clocks are compared. A monitor's quorum is dropped with its shard's
// lease, and made anew from the database when it comes back. Runs on the loop; one read at a time,
// so a slow database does not pile reads up.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "alerting/location_judge.h"
#include "alerting/quorum.h"
#include "config/config.h"
#include "core/clock.h"
#include "core/event_loop.h"
#include "store/pg_connection.h"
#include "store/pg_decisions.h"

namespace lookout {

// A location's report as the database keeps it and as a judge or a quorum takes it.
LocationReport report_of(const LocationReportRow& row);
LocationReportRow report_row(const std::string& monitor, const std::string& location,
                             const LocationReport& report);

class QuorumReader {
 public:
  // The eval shards held now, each with its epoch (LeaseKeeper::deciding()).
  using Held = std::function<std::map<int, int64_t>()>;
  // A monitor whose state the quorum changed, with the decision.
  using OnChange = std::function<void(const MonitorConfig&, const QuorumDecision&)>;

  // `config` outlives the reader and has a [cluster].
  QuorumReader(EventLoop& loop, PgConnection& pg, const Clock& clock, const Config& config,
               Held held, OnChange on_change, Duration every = Duration{1000});
  ~QuorumReader();
  QuorumReader(const QuorumReader&) = delete;
  QuorumReader& operator=(const QuorumReader&) = delete;

  void start();
  // No more reads (at SIGTERM: the node's leases go next).
  void stop() { timer_.stop(); }
  // The monitor's quorum while this node decides it, else nullptr.
  const MonitorQuorum* quorum(const std::string& monitor) const;
  // Whether the stored states of `shard`'s monitors are read since it was gained under `epoch`:
  // the decisions about them carry on from those.
  bool restored(int shard, int64_t epoch) const {
    const auto it = restored_.find(shard);
    return it != restored_.end() && it->second == epoch;
  }
  // A monitor without locations (a heartbeat) judged by the deciding node: its quorum takes
  // the state as the run says it (MonitorQuorum::set), which put_state and the level-triggered
  // look then read as for any monitor. nullopt when the monitor's shard is not restored.
  std::optional<QuorumDecision> judge_alone(const std::string& monitor, State state, WallTime at,
                                            std::string cause);
  // Forgets what it read of `shard`, which is read again at the next tick as if just gained:
  // after a decision about it could not be written, the database says what stands.
  void reread(int shard);
  // Why the last read failed; empty since one succeeded.
  const std::string& last_error() const { return last_error_; }

 private:
  void tick();
  void read_states(const std::vector<int>& shards);
  void on_states(const PgResult& answer, const std::vector<int>& shards);
  // The reports of `shards` written by transactions from `since` on ("0": all that count).
  void read(const std::vector<int>& shards, const std::string& since);
  void on_reports(const PgResult& answer);
  void failed(const PgResult& answer, const char* what);
  void decide();

  PgConnection& pg_;
  const Clock& clock_;
  const Config& config_;
  Held held_;
  OnChange on_change_;
  Duration every_;
  Duration whole_;  // the longest freshness bound: a gained shard's reports that still count
  Timer timer_;
  std::map<std::string, const MonitorConfig*> monitors_;  // by name
  std::map<int, int64_t> shards_;                         // held at the last tick, with epochs
  std::map<std::string, MonitorQuorum> quorums_;          // of the monitors of shards_
  std::map<int, int64_t> restored_;  // of shards_: their states are read, under these epochs
  int in_flight_ = 0;
  // Where the next read of the shards kept starts; unset after a failed read: read whole.
  std::optional<std::string> since_;
  uint64_t since_connects_ = 0;  // the connection's connects() when since_ was read
  // Of the reads of this tick: the smallest xmin, and whether one failed.
  std::optional<uint64_t> tick_xmin_;
  bool tick_failed_ = false;
  std::string last_error_;
  // Tells an answer that arrives after destruction to do nothing.
  std::shared_ptr<QuorumReader*> self_;
};

}  // namespace lookout
