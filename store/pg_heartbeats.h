// Heartbeat monitors in cluster mode, as statements and answers (docs/cluster.md#heartbeats).
// A job's ping reaches any node, which records it in heartbeat_pings in one statement and answers
// the job once it committed. The node deciding the monitor's shard reads the waiting pings in
// the order they were taken, judges them with the monitor's HeartbeatTracker, and then, in one
// statement under the eval lease's fence, keeps what the tracker knows (heartbeats), the
// monitor's state, the runs the pings and deadlines made (results), and deletes the pings it
// judged. A ping taken while no node decides waits for the next decider: none is lost. Pure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "probes/heartbeat.h"
#include "store/lease_registry.h"
#include "store/pg_connection.h"
#include "store/storage.h"

namespace lookout {

// A ping waiting for the node that decides its monitor. Its time is the server's: `age_ms` is how
// long ago the server took it, which the reader turns into a time on its own clock.
struct PingRow {
  int64_t id = 0;
  std::string monitor;
  Ping ping;  // `at` unset
  int64_t age_ms = 0;
};

// What one write keeps of a monitor: its tracker's memory, its state as judged, the runs made
// since the last write, and the pings judged.
struct HeartbeatKeep {
  std::string monitor;
  HeartbeatMemory memory;
  StateRow state;
  std::vector<ResultRow> runs;  // a success, a failure, a deadline passed
  std::vector<int64_t> judged;  // the ids of the pings judged since the last write
  std::string location;         // the deciding node's, on its runs
  std::string node;
};

class PgHeartbeats {
 public:
  // Records `ping` of `monitor` (a heartbeat), taken on `node`, by the server's clock. Read
  // with taken(): the ping's number.
  static PgStatement take(const std::string& monitor, const Ping& ping, const std::string& node);
  static std::optional<int64_t> taken(const PgResult& answer);

  // The pings of the monitors of `shards`, oldest first, at most `limit`. Read with pings().
  static PgStatement waiting(const std::vector<int>& shards, size_t limit);
  static std::optional<std::vector<PingRow>> pings(const PgResult& answer);

  // What was kept of `monitors` (each one that has a row). Read with memories().
  static PgStatement kept(const std::vector<std::string>& monitors);
  static std::optional<std::vector<std::pair<std::string, HeartbeatMemory>>> memories(
      const PgResult& answer);

  // `keep` written only while `fence` holds: nothing of it otherwise. Read with
  // LeaseRegistry::fence_outcome().
  static PgStatement keep(const LeaseFence& fence, const HeartbeatKeep& keep);
};

}  // namespace lookout
