// What every node of a cluster shows on its page and API, read from PostgreSQL: each monitor's
// state as the node deciding it wrote it (monitor_states), each location's report, the open
// incidents, and which node holds each shard's eval lease now. Every `every` the reader sends
// its statements together and, once all have answered, hands the whole picture to a callback
// on the loop; one read at a time, so a slow database does not pile reads up. A location's
// report counts as fresh by its age on the server's clock, never by its run times: one older
// than freshness_bound shows `unknown`. While PostgreSQL is unreachable the callback gets the
// last picture read, with `ok` false and why.
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
#include "core/event_loop.h"
#include "store/lease_registry.h"
#include "store/pg_connection.h"
#include "store/pg_decisions.h"
#include "store/records.h"

namespace lookout {

// One monitor as the cluster decided it.
struct ClusterMonitorStatus {
  State state = State::kUnknown;
  std::optional<WallTime> since;  // unset while unknown
  std::optional<WallTime> last_check;
  std::optional<Outcome> last_outcome;
  std::optional<int64_t> latency_us;
  std::string cause;
  std::optional<std::string> decided_by;  // the holder of its shard's eval lease now
  std::vector<LocationView> locations;    // every location that reported, alphabetical
};

struct ClusterStatus {
  bool ok = false;    // the last read answered whole
  std::string error;  // why it did not; empty when ok
  // Every configured monitor, by name, also one that nobody decided yet (unknown).
  std::map<std::string, ClusterMonitorStatus> monitors;
  std::vector<IncidentRecord> open_incidents;  // of configured monitors, by id
};

// The answers of one read, parsed.
struct ClusterRead {
  std::vector<StateRow> states;
  std::vector<LocationReportRow> reports;  // with their age by the server's clock
  std::vector<IncidentRecord> open_incidents;
  std::vector<LeaseRow> eval_leases;  // held now
};

// The picture from one read, at `now` on this node's clock. Pure. Rows of monitors not in
// `monitors` are left out; so are reports from locations a monitor's `locations` does not name.
ClusterStatus cluster_status_of(const ClusterRead& read, const std::vector<MonitorConfig>& monitors,
                                Duration lease, WallTime now);

class ClusterStatusReader {
 public:
  using OnRead = std::function<void(const ClusterStatus&)>;

  // `config` outlives the reader and has a [cluster]. `on_read` gets each read's picture on the
  // loop, also after a failed read (the last one read, with ok false).
  ClusterStatusReader(EventLoop& loop, PgConnection& pg, const Clock& clock, const Config& config,
                      OnRead on_read, Duration every = Duration{1000});
  ~ClusterStatusReader();
  ClusterStatusReader(const ClusterStatusReader&) = delete;
  ClusterStatusReader& operator=(const ClusterStatusReader&) = delete;

  // Reads at once, then every `every`.
  void start();
  // No more reads.
  void stop() { timer_.stop(); }
  // The last picture handed to on_read; not ok before the first read answered.
  const ClusterStatus& status() const { return status_; }

  // The statements of one read: the monitors' states, the locations' reports, the open
  // incidents and the eval leases held now, all shards' of each.
  static std::vector<PgStatement> statements();

 private:
  void tick();
  void on_answer(size_t part, const PgResult& answer);

  PgConnection& pg_;
  const Clock& clock_;
  const Config& config_;
  OnRead on_read_;
  Duration every_;
  Timer timer_;
  size_t waiting_ = 0;  // answers still to come of the read out
  std::vector<PgResult> answers_;
  ClusterStatus status_;
  // Tells an answer that arrives after destruction to do nothing.
  std::shared_ptr<ClusterStatusReader*> self_;
};

}  // namespace lookout
