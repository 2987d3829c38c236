// A node of cluster mode, as `lookout run` keeps it on the loop: its connection to PostgreSQL,
// the schema brought up to date, its monitors checked against the live nodes', its row in the
// nodes table, its leases, its results writer and the local spool that keeps the results until
// PostgreSQL has them (docs/cluster.md).
//
// Start-up waits for the database: while it cannot be reached the node says so once per
// distinct reason and tries again, since a node started before its database (a host booting, a
// failover) should join once it answers rather than exit. What the database answers and that
// no retry changes ends start-up with an error for the operator: a schema newer than this
// lookout, a monitor configured differently from a live node's, a migration refused.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/clock.h"
#include "core/event_loop.h"
#include "store/lease_keeper.h"
#include "store/monitor_sets.h"
#include "store/node_presence.h"
#include "store/pg_connection.h"
#include "store/pg_result_writer.h"
#include "store/pg_schema.h"
#include "store/result_spool.h"

namespace lookout {

class ClusterNode {
 public:
  // `config` has a [cluster]; it is read in the constructor only, which opens the spool at
  // `[storage] path` (not on the loop: before it runs) and resumes the writer from what the last
  // process left there.
  ClusterNode(EventLoop& loop, const Clock& clock, const Config& config, std::string version);
  ~ClusterNode();
  ClusterNode(const ClusterNode&) = delete;
  ClusterNode& operator=(const ClusterNode&) = delete;

  // Connects, migrates, checks the monitors and reads the shared secrets, then joins, keeps its
  // leases and writes results. `ready` runs once, on the loop: with an empty string once the node
  // has joined, else with what the operator must fix.
  void start(std::function<void(const std::string& error)> ready);
  // At SIGTERM: the leases are handed over and the node marked gone at once, and the results
  // waiting are written (those the database does not take in time stay in the spool for the
  // next start). `done` runs once, on the loop, when all three are through (or failed: the
  // leases then run out on the server's clock).
  void stop(std::function<void()> done);

  const std::string& node() const { return node_; }
  const std::string& location() const { return location_; }
  bool joined() const { return joined_; }
  PgConnection& connection() { return pg_; }
  const PgConnection& connection() const { return pg_; }
  LeaseKeeper& leases() { return keeper_; }
  // The cluster's key for ack links (kept_secrets), read before joining; empty before.
  const std::string& ack_key() const { return ack_key_; }
  // The key heartbeats' ping tokens are derived from (kept_secrets), likewise.
  const std::string& heartbeat_key() const { return heartbeat_key_; }
  // Signs the links of the status page's subscribers' mails.
  const std::string& subscription_key() const { return subscription_key_; }
  PgResultWriter& results() { return writer_; }
  const PgResultWriter& results() const { return writer_; }
  // Result rows waiting in the spool: lookout_spool_rows.
  uint64_t spool_rows() const { return spool_ ? spool_->rows() : 0; }

 private:
  void migrate();
  // A start-up step failed: start-up ends with the database's answer, or waits for a database
  // that could not be reached and starts over.
  void step_failed(const std::string& error);
  void on_migrated(const PgMigration& m);
  void publish_set();
  void compare(std::vector<NodeRow> nodes);
  void compare_next(std::vector<NodeRow> differing, size_t i);
  void share_secrets();
  void join();
  void fail(const std::string& error);

  const Clock& clock_;
  std::string node_, location_;
  std::vector<MonitorDigest> monitors_;
  std::string hash_;
  Duration lease_;
  PgConnection pg_;
  NodePresence presence_;
  LeaseKeeper keeper_;
  ResultBacklog backlog_;  // what the spool kept, until the writer takes it
  std::string spool_error_;
  std::unique_ptr<ResultSpool> spool_;
  PgResultWriter writer_;
  Timer retry_, drain_;
  std::string ack_key_;
  std::string heartbeat_key_;
  std::string subscription_key_;
  std::string told_;             // the last reason for waiting the operator was told
  std::string told_live_nodes_;  // the last refusal of a migration by live nodes, as told
  std::function<void(const std::string&)> ready_;
  bool joined_ = false;
  bool stopping_ = false;
  // Tells an answer that arrives after destruction to do nothing.
  std::shared_ptr<ClusterNode*> self_;
};

}  // namespace lookout
