// Storage on one SQLite file: the one owner of its write connection. The loop hands it rows;
// its own thread writes them in one transaction per batch, at most about kStorageFlushEvery
// apart, so a crash loses at most the last fraction of a second. Nothing here blocks the
// caller beyond a short mutex. Web threads read through their own read-only connections.
#pragma once

#include <sqlite3.h>

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "store/history.h"
#include "store/storage.h"

namespace lookout {

class SqliteStore final : public Storage {
 public:
  // Opens (creating folders and schema as needed) and proves the file writable. Runs before
  // the loop starts; nullptr with `error` set on failure.
  static std::unique_ptr<SqliteStore> open(const std::string& path, const Clock& clock,
                                           std::string& error);
  ~SqliteStore() override;

  // Storage; see storage.h. SQLite specifics: housekeep() also vacuums incrementally and
  // checkpoints the WAL; on_commit runs on the writer thread.
  std::map<std::string, StateRow> load_states() override;
  std::map<std::string, Baseline> load_baselines() override;
  std::map<std::string, HeartbeatMemory> load_heartbeats() override;
  std::vector<IncidentRecord> load_open_incidents() override;
  int64_t next_incident_id() override;
  std::vector<PendingOutbox> load_pending_outbox() override;
  std::vector<OutboxRow> load_open_deliveries() override;
  std::vector<PostRecord> load_posts() override;
  std::vector<MaintenanceRecord> load_maintenance() override;
  std::vector<SubscriberRecord> load_subscribers() override;
  std::string kept_secret(const std::string& name) override;
  void set_max_backlog(size_t rows) override { max_backlog_ = rows; }
  void start() override;
  void stop() override;
  void add_result(ResultRow row) override;
  void put_state(StateRow row) override;
  void put_baseline(const std::string& monitor, Baseline baseline) override;
  void put_heartbeat(const std::string& monitor, HeartbeatMemory memory) override;
  void put_post(PostRecord post) override;
  void put_maintenance(int64_t id, std::optional<MaintenanceRecord> window) override;
  void put_subscriber(SubscriberRecord subscriber) override;
  uint64_t add_alerts(AlertChanges changes) override;
  uint64_t mark() override;
  void update_delivery(DeliveryUpdate u) override;
  void set_on_commit(std::function<void(uint64_t)> f) override;
  void housekeep(HousekeepingJob job) override;
  const SummaryCache& summaries() const override { return summaries_; }
  StoreHealth health() const override;
  const std::string& where() const override { return path_; }
  std::unique_ptr<StorageReads> reads() override;

 private:
  SqliteStore(sqlite3* db, std::string path, const Clock& clock);
  struct Batch {
    std::vector<ResultRow> results;
    std::unordered_map<std::string, StateRow> states;
    std::unordered_map<std::string, Baseline> baselines;
    std::map<int64_t, PostRecord> posts;
    std::map<int64_t, std::optional<MaintenanceRecord>> maintenance;  // nullopt: deleted
    std::map<std::string, HeartbeatMemory> heartbeats;
    std::map<int64_t, SubscriberRecord> subscribers;
    // Addresses erased before the row that had them was written: their mail is cancelled by
    // address, since the file never knew them.
    std::set<std::string> forgotten;
    std::vector<AlertChanges> alerts;
    std::vector<DeliveryUpdate> deliveries;
    uint64_t seq = 0;  // the newest add_alerts() or mark() sequence number in this batch
    std::optional<HousekeepingJob> housekeeping;
    bool empty() const {
      return results.empty() && states.empty() && baselines.empty() && posts.empty() &&
             maintenance.empty() && heartbeats.empty() && subscribers.empty() && alerts.empty() &&
             deliveries.empty() && !housekeeping && seq == 0;
    }
  };
  void run();
  bool write(Batch& batch, std::string& error);
  bool write_alerts(const Batch& batch, std::string& error);
  void run_housekeeping(const HousekeepingJob& job);
  void publish_summaries();
  int64_t monitor_id(const std::string& name);
  void merge_back(Batch&& failed);
  // The connection for the start-up calls: once start() ran it is the writer thread's, and a
  // second thread on it (opened without SQLite's mutex) corrupts the file.
  sqlite3* startup_db() const;

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
  ReadPool read_pool_;  // the web threads' read-only connections
};

}  // namespace lookout
