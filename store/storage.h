// The storage layer as the rest of lookout sees it: the loop writes results, states,
// incidents and outbox rows and reads them back at start-up; web threads read history and
// incidents through a short lease. Engine-neutral: SqliteStore implements it on one SQLite
// file, and a second engine (PostgreSQL for the cluster mode) implements the same two classes
// without touching a caller (docs/architecture.md).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "probes/heartbeat.h"
#include "probes/probe.h"
#include "store/aggregate.h"
#include "store/history.h"
#include "store/incident_queries.h"
#include "store/records.h"
#include "store/rollup.h"

namespace lookout {

// Every engine commits what it is handed at most about this far apart.
inline constexpr Duration kStorageFlushEvery{250};

struct ResultRow {
  std::string monitor;
  int64_t t_ms = 0;
  Outcome outcome = Outcome::kDown;
  int http_status = 0;
  PhaseTimings timings;
  ErrorKind kind = ErrorKind::kNone;
  std::string cause;
  bool maintenance = false;
  std::string detail;               // JSON, or empty
  std::vector<int64_t> samples_us;  // stored when there are several
};

// A dns monitor's accepted answers, and the question they answer.
struct Baseline {
  std::string question;  // "A portal.acme.example"
  std::vector<std::string> answers;
  bool operator==(const Baseline&) const = default;
};

struct StateRow {
  std::string monitor;
  std::string state;
  int64_t since_ms = 0;
  std::string recent;
  std::optional<int64_t> last_check_ms;
  std::optional<Outcome> last_outcome;
  std::optional<int64_t> last_latency_us;
  std::string last_cause;
};

// The dispatcher's word on one outbox row.
struct DeliveryUpdate {
  std::string id;
  std::string status;  // pending (retry later) | sent | failed | gave_up
  int attempts = 0;
  int64_t due_ms = 0;
  std::string last_error;
  std::optional<int64_t> sent_ms;
};

// An outbox row still to send, as loaded at start-up.
struct PendingOutbox {
  OutboxRow row;
  int attempts = 0;
  int64_t due_ms = 0;
};

// The housekeeping tick's storage work, done on the store thread between batches.
struct HousekeepingJob {
  int64_t now_ms = 0;
  int64_t grace_ms = 0;  // runs may still be in flight this long after they started
  RetentionPolicy retention{};
};

struct StoreHealth {
  bool ok = true;
  std::string error;  // the last failure, while failing
  std::optional<MonoTime> last_commit;
  uint64_t rows_written = 0;
  uint64_t rows_dropped = 0;  // given up after storage stayed down past the buffer
  size_t backlog = 0;
  double housekeeping_seconds = 0;      // wall time of the last rollup, retention and summary
  double housekeeping_cpu_seconds = 0;  // CPU time the store thread spent on it
};

// One read lease, for one request on a web thread: history and incidents as committed.
// Not shared between threads; cheap to take and give back.
class StorageReads {
 public:
  virtual ~StorageReads() = default;
  // Buckets of `step_ms` aligned in UTC from the one holding `from_ms` to the one holding
  // `to_ms`; empty buckets for a monitor that has no stored runs.
  virtual std::vector<SeriesPoint> series(const std::string& monitor, int64_t from_ms,
                                          int64_t to_ms, int64_t step_ms) = 0;
  // Incidents resolved at or after `resolved_since_ms`, newest first.
  virtual std::vector<IncidentRecord> resolved_incidents(int64_t resolved_since_ms, int limit) = 0;
  // The events of these incidents, oldest first.
  virtual std::vector<IncidentEventRow> incident_events(const std::vector<int64_t>& ids) = 0;
  // Incidents newest first (by start), those `keep` accepts, at most `limit`.
  virtual std::vector<IncidentRecord> list_incidents(
      IncidentFilter which, const std::function<bool(const IncidentRecord&)>& keep,
      size_t limit) = 0;
  // Events and their notifications of the incidents with ids in [first_id, last_id].
  virtual std::vector<IncidentNotification> incident_notifications(int64_t first_id,
                                                                   int64_t last_id) = 0;
  // One monitor's incidents, newest first.
  virtual std::vector<IncidentRecord> monitor_incidents(const std::string& monitor, int limit) = 0;
};

// What the web threads read, from any thread: the history summaries, the storage's health and
// read leases. Storage is one; a cluster node, whose writes go through its own pieces, is
// another.
class StorageReader {
 public:
  virtual ~StorageReader() = default;
  virtual const SummaryCache& summaries() const = 0;
  virtual StoreHealth health() const = 0;
  // Where the data lives, for messages ("/var/lib/lookout/lookout.db").
  virtual const std::string& where() const = 0;
  // A read lease for a web thread; nullptr when storage cannot be read right now.
  virtual std::unique_ptr<StorageReads> reads() = 0;
};

class Storage : public StorageReader {
 public:
  // Start-up only (before start()): what was stored.
  virtual std::map<std::string, StateRow> load_states() = 0;
  virtual std::map<std::string, Baseline> load_baselines() = 0;  // dns answer sets by monitor
  virtual std::vector<IncidentRecord> load_open_incidents() = 0;
  virtual int64_t next_incident_id() = 0;
  virtual std::vector<PendingOutbox> load_pending_outbox() = 0;
  // The notifications delivered for incidents still open, oldest first (Channel::resume).
  virtual std::vector<OutboxRow> load_open_deliveries() = 0;
  // Every post people wrote on the status page, oldest first.
  virtual std::vector<PostRecord> load_posts() = 0;
  // The maintenance windows made through the API, ended ones too.
  virtual std::vector<MaintenanceRecord> load_maintenance() = 0;
  // What each heartbeat monitor's tracker knew, by monitor name.
  virtual std::map<std::string, HeartbeatMemory> load_heartbeats() = 0;
  // The status page's email subscribers, erased ones too, by id.
  virtual std::vector<SubscriberRecord> load_subscribers() = 0;
  // A random value made at its first use and kept in storage under `name` (64 hex digits): the
  // key that signs ack links ("ack_key"), the key heartbeat ping tokens are derived from when
  // the config sets none ("heartbeat_key"). Start-up only, like the loads above.
  virtual std::string kept_secret(const std::string& name) = 0;
  // Result rows held while storage fails (storage.max_backlog); older ones are then dropped.
  virtual void set_max_backlog(size_t rows) = 0;

  virtual void start() = 0;
  // Writes what is queued and stops.
  virtual void stop() = 0;

  // From the loop; none of these waits for the engine.
  virtual void add_result(ResultRow row) = 0;
  virtual void put_state(StateRow row) = 0;
  virtual void put_baseline(const std::string& monitor, Baseline baseline) = 0;
  // A post as it now is, with all its updates: written in the next commit.
  virtual void put_post(PostRecord post) = 0;
  // A window made through the API, or its deletion (nullopt): written in the next commit.
  virtual void put_maintenance(int64_t id, std::optional<MaintenanceRecord> window) = 0;
  // A heartbeat monitor's tracker as it now is: written in the next commit.
  virtual void put_heartbeat(const std::string& monitor, HeartbeatMemory memory) = 0;
  // A subscriber as the book now has it, written in the next commit; an erased one also
  // cancels the mails still waiting for its address and empties their recipient.
  virtual void put_subscriber(SubscriberRecord subscriber) = 0;
  // Incident rows, events and their outbox rows, all in one transaction. Returns the batch
  // sequence number: its notifications may be sent once on_commit has reported it.
  virtual uint64_t add_alerts(AlertChanges changes) = 0;
  // A sequence number that on_commit reports once everything put before it is committed: for
  // an answer that must not promise what a kill -9 could still lose.
  virtual uint64_t mark() = 0;
  virtual void update_delivery(DeliveryUpdate u) = 0;
  // Runs on the engine's thread after each commit, with the newest sequence number (of
  // add_alerts or mark) it covered.
  virtual void set_on_commit(std::function<void(uint64_t)> f) = 0;
  // Rollups, retention and compaction, then history summaries read anew.
  virtual void housekeep(HousekeepingJob job) = 0;
};

// The engine the config asks for, opened and proven writable; nullptr with `error` set.
std::unique_ptr<Storage> open_storage(const std::string& path, const Clock& clock,
                                      std::string& error);

}  // namespace lookout
