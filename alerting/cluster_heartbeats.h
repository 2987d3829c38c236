// The heartbeat monitors of the shards a node decides, in cluster mode
// (docs/cluster.md#heartbeats). A job's ping reaches any node, which records it in heartbeat_pings
// (store/pg_heartbeats.h). This node, deciding the monitor's shard, reads what the last decider
// kept of each of its heartbeats into a HeartbeatTracker, then every tick reads the waiting pings
// in the order they were taken and judges them, and judges a job late once its deadline passed, as
// a single node does on its timer. What a tick changed of a monitor is kept in one statement under
// the eval lease's fence: the tracker's memory, the monitor's state, the runs, and the pings judged
// deleted. Only once that committed does the change go on to the incidents, as a quorum's
// decision does; a write refused hands the shard back to the decider, which reads it again.
// Runs on the loop.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "alerting/quorum.h"
#include "config/config.h"
#include "core/clock.h"
#include "probes/heartbeat.h"
#include "store/lease_registry.h"
#include "store/pg_connection.h"
#include "store/pg_heartbeats.h"

namespace lookout {

class ClusterHeartbeats {
 public:
  struct Hooks {
    // The fence of a decision about `shard`, while its eval lease is held.
    std::function<std::optional<LeaseFence>(int shard)> fence_of;
    // Whether the monitors' states of `shard` are read under `epoch` (QuorumReader::restored).
    std::function<bool(int shard, int64_t epoch)> restored;
    // The state a run says, taken by the monitor's quorum (QuorumReader::judge_alone): the
    // decision, with the state's since; nullopt when the shard is not restored.
    std::function<std::optional<QuorumDecision>(const MonitorConfig&, State, WallTime at,
                                                std::string cause)>
        judge;
    // The monitor's state, since and cause as its quorum has them now (to be written).
    std::function<std::optional<StateRow>(const MonitorConfig&)> standing;
    // Whether a maintenance window covers the monitor at `at` (its runs are marked so).
    std::function<bool(const std::string& monitor, WallTime at)> in_maintenance;
    // A decision kept in the database, for the incidents.
    std::function<void(const MonitorConfig&, const QuorumDecision&)> decided;
    // A write about `shard` refused or failed: the decider reads the shard again.
    std::function<void(int shard, const std::string& why)> reset;
    std::function<void(const std::string& error)> failed;
  };

  // `config` outlives this and has a [cluster]; `node` and `location` are this node's, on the
  // runs it writes.
  ClusterHeartbeats(PgConnection& pg, const Clock& clock, const Config& config, std::string node,
                    std::string location, Hooks hooks);
  ~ClusterHeartbeats();
  ClusterHeartbeats(const ClusterHeartbeats&) = delete;
  ClusterHeartbeats& operator=(const ClusterHeartbeats&) = delete;

  // Every tick of the decider, with the eval shards whose incidents it holds (and their epochs):
  // a shard gained is read, one lost forgotten, the waiting pings read and judged, and then the
  // deadlines that passed before the read judged.
  void tick(const std::map<int, int64_t>& loaded);
  // Forgets `shard` (the decider drops it): read again once it is loaded again.
  void drop(int shard);
  // No more reads or writes (the decider stopped).
  void stop() { stopped_ = true; }

  // The tracker of `monitor` while this node decides it, else nullptr.
  const HeartbeatTracker* tracker(const std::string& monitor) const;

 private:
  struct Shard {
    int64_t epoch = 0;
    bool read = false;   // what was kept of its monitors is in the trackers
    uint64_t asked = 0;  // the read of what was kept whose answer counts (older ones do not)
  };
  // What a tick changed of one monitor, kept in one statement.
  struct Change {
    std::vector<ResultRow> runs;
    std::vector<int64_t> judged;
    std::vector<QuorumDecision> decisions;
    bool unjudged = false;  // the quorum had dropped the shard: nothing of it may be kept
  };
  void read_kept(int shard);
  void on_kept(const PgResult& answer, int shard, uint64_t asked);
  void read_pings();
  // `shards`: those read, whose deadlines are judged once their pings are; `sent_at`: when the
  // read was sent, which every ping taken before it precedes.
  void on_pings(const PgResult& answer, const std::vector<int>& shards, WallTime sent_at);
  // A run the tracker made: judged by the monitor's quorum, and added to `change`.
  void judged(const MonitorConfig& m, const ProbeResult& run, Change& change);
  // The jobs of `shards` late at `now`, judged after the pings taken before it.
  void deadlines(const std::vector<int>& shards, WallTime now,
                 std::map<std::string, Change>& changes);
  void keep(const MonitorConfig& m, Change change);
  bool ready(int shard) const;

  // At most this many pings a read: a backlog (a decider away for long) is judged in turns.
  static constexpr size_t kPingsPerRead = 1000;
  PgConnection& pg_;
  const Clock& clock_;
  const Config& config_;
  std::string node_;
  std::string location_;
  Hooks hooks_;
  std::map<std::string, const MonitorConfig*> monitors_;  // the heartbeats, by name
  std::map<int, Shard> shards_;                           // loaded, by the decider's tick
  std::map<std::string, HeartbeatTracker> trackers_;      // of read shards' heartbeats
  bool reading_ = false;
  uint64_t reads_ = 0;  // of what was kept, numbered
  bool stopped_ = false;
  // Tells an answer that arrives after destruction to do nothing.
  std::shared_ptr<ClusterHeartbeats*> self_;
};

}  // namespace lookout
