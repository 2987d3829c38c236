// The one owner of the SQLite write connection. The loop hands it rows; its own thread writes
// them in one transaction per batch, at most about kFlushEvery apart, so a crash loses at most
// the last fraction of a second. Nothing here blocks the caller beyond a short mutex.
#pragma once

#include <sqlite3.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/clock.h"
#include "probes/probe.h"
#include "store/history.h"
#include "store/records.h"
#include "store/rollup.h"

namespace lookout {

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

class Store {
 public:
  static constexpr Duration kFlushEvery{250};

  // Opens (creating folders and schema as needed) and proves the file writable. Runs before
  // the loop starts; nullptr with `error` set on failure.
  static std::unique_ptr<Store> open(const std::string& path, const Clock& clock,
                                     std::string& error);
  ~Store();

  // Start-up only (before start()): the stored state of every monitor.
  std::map<std::string, StateRow> load_states();
  // Accepted dns answer sets by monitor name.
  std::map<std::string, Baseline> load_baselines();

  // Start-up only (before start()): result rows held while storage fails (storage.max_backlog).
  void set_max_backlog(size_t rows) { max_backlog_ = rows; }
  void start();
  // Writes what is queued and stops the thread.
  void stop();

  void add_result(ResultRow row);
  void put_state(StateRow row);
  void put_baseline(const std::string& monitor, Baseline baseline);
  // Incident rows, events and their outbox rows, all in one transaction. Returns the batch
  // sequence number: its notifications may be sent once on_commit has reported it.
  uint64_t add_alerts(AlertChanges changes);
  void update_delivery(DeliveryUpdate u);
  // Runs on the store thread after each commit, with the newest sequence number it covered.
  void set_on_commit(std::function<void(uint64_t)> f);

  // Start-up only (before start()).
  std::vector<IncidentRecord> load_open_incidents();
  int64_t next_incident_id();
  std::vector<PendingOutbox> load_pending_outbox();
  // The key that signs ack links: made at first start, kept in storage.
  std::string ack_key();
  // Rollups, retention, vacuum, a WAL checkpoint, then history summaries read anew (between
  // two of these, each commit brings them up to date).
  void housekeep(HousekeepingJob job);
  const SummaryCache& summaries() const { return summaries_; }

  StoreHealth health() const;
  const std::string& path() const { return path_; }

 private:
  Store(sqlite3* db, std::string path, const Clock& clock);
  struct Batch {
    std::vector<ResultRow> results;
    std::unordered_map<std::string, StateRow> states;
    std::unordered_map<std::string, Baseline> baselines;
    std::vector<AlertChanges> alerts;
    std::vector<DeliveryUpdate> deliveries;
    uint64_t seq = 0;  // the newest add_alerts() sequence number in this batch
    std::optional<HousekeepingJob> housekeeping;
    bool empty() const {
      return results.empty() && states.empty() && baselines.empty() && alerts.empty() &&
             deliveries.empty() && !housekeeping;
    }
  };
  void run();
  bool write(Batch& batch, std::string& error);
  bool write_alerts(const Batch& batch, std::string& error);
  void run_housekeeping(const HousekeepingJob& job);
  void publish_summaries();
  int64_t monitor_id(const std::string& name);
  void merge_back(Batch&& failed);

  sqlite3* db_;
  std::string path_;
  size_t max_backlog_ = 200'000;
  const Clock& clock_;
  std::unordered_map<std::string, int64_t> ids_;  // writer thread only

  mutable std::mutex mu_;
  std::condition_variable cv_;
  Batch pending_;
  bool stopping_ = false;
  StoreHealth health_;
  SummaryCache summaries_;
  SummaryBuilder summary_builder_;  // writer thread only
  uint64_t next_seq_ = 1;
  std::function<void(uint64_t)> on_commit_;
  int64_t last_optimize_ms_ = 0;
  std::thread thread_;
};

}  // namespace lookout
