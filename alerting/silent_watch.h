// The meta-incidents of silent locations in cluster mode (docs/cluster.md#quorum, silent
// locations). Each location's is decided by the holder of the eval lease of its shard
// (location_incident_shard), under that lease's fence like every decision: a node paused or cut
// off past its lease writes nothing. It is told of every read of the cluster's status
// (ClusterStatusReader, once a second), which has each location's newest report already: no
// read of its own but, when it gains a location's shard, that shard's open incidents, so that a
// takeover carries an open meta-incident on rather than opening a second. A location is watched
// when a monitor's `locations` names it or it has reported a monitor it runs; it is silent when
// silent_locations says so, counting from its newest report or from when this node began to
// watch it (it took the lease, or its reads of the status came back), whichever is later. An
// open one resolves only on a report within the bound, or once the location is watched no more
// (it runs no monitor, or no monitor names it and its reports are gone): how long this node has
// watched says nothing of a location found silent before. Runs on the loop.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "alerting/cluster_status.h"
#include "alerting/incident_ids.h"
#include "config/config.h"
#include "core/clock.h"
#include "store/lease_registry.h"
#include "store/pg_connection.h"
#include "store/records.h"

namespace lookout {

class SilentLocationWatch {
 public:
  // The eval shards held now with their epochs, and the fence of one (as for ClusterDecider).
  using Held = std::function<std::map<int, int64_t>()>;
  using FenceOf = std::function<std::optional<LeaseFence>(int shard)>;

  // `config` has a [cluster]. `notified` runs after a write put notifications in the outbox.
  SilentLocationWatch(PgConnection& pg, const Clock& clock, std::shared_ptr<const Config> config,
                      Held held, FenceOf fence_of, std::function<void()> notified);
  ~SilentLocationWatch();
  SilentLocationWatch(const SilentLocationWatch&) = delete;
  SilentLocationWatch& operator=(const SilentLocationWatch&) = delete;

  // Decides from one read of the cluster's status: opens the meta-incident of each location
  // gone silent, resolves that of each one heard from again.
  void observe(const ClusterStatus& status);
  // Nothing more is decided (at SIGTERM); a write still out is told when it answers.
  void stop();

  // The open meta-incidents of the locations this node decides, by location.
  std::map<std::string, IncidentRecord> open() const;

 private:
  struct Watched {
    int64_t epoch = 0;     // of the eval lease of the location's shard
    WallTime since;        // watched from
    bool loaded = false;   // its open meta-incident (or none) read under this epoch
    bool writing = false;  // a write about it is out
    bool refused = false;  // a write was refused under this epoch (told once)
    std::optional<IncidentRecord> incident;  // open
  };

  void load();
  void on_loaded(const PgResult& answer, const std::map<std::string, int64_t>& asked);
  // `known`: a monitor's `locations` names it, or it has reported; else it is watched no more.
  void decide(const std::string& location, Watched& w, const ClusterStatus& status, bool known,
              WallTime now);
  // Opens or resolves (incident.resolved_at set) the location's meta-incident with `event`;
  // `told` is the log line once it is written.
  void write(const std::string& location, const IncidentRecord& incident, const EventRecord& event,
             std::string told);
  void written(const std::string& location, int64_t epoch, const IncidentRecord& incident,
               const std::string& told, const PgResult& answer);
  std::optional<Duration> bound_of(const std::string& location);
  void failed(const std::string& error);

  PgConnection& pg_;
  const Clock& clock_;
  std::shared_ptr<const Config> config_;
  Held held_;
  FenceOf fence_of_;
  std::function<void()> notified_;
  bool stopped_ = false;
  bool reading_ok_ = false;  // the last status read answered
  bool loading_ = false;
  std::map<std::string, Watched> watched_;  // the locations whose shard this node holds
  std::map<std::string, std::optional<Duration>> bounds_;  // silence_bound of each location
  IncidentIds ids_;
  std::string last_error_;
  // Tells an answer that arrives after destruction to do nothing.
  std::shared_ptr<SilentLocationWatch*> self_;
};

}  // namespace lookout
