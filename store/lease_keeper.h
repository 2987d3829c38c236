// A node's leases kept on the loop: every lease/5, from a timer of the loop, it reads the live
// nodes, plans its share of its location's probe leases and of the cluster's eval leases
// (plan_leases), takes and renews that share in one statement and releases the rest in another,
// and keeps what the answers say it holds: each lease's epoch and a local deadline on the
// monotonic clock.
//
// The local deadline is what makes a node stop in time without hearing from the database: it
// is the life the server gave the lease, counted from when the statement was handed to the
// connection (no later than the server set expires_at), less a margin. From that moment on the
// keeper treats the lease as lost, whether its loop was paused, its link cut or its renewals
// failing; another node can take the lease only once it ran out by the server's clock, which is
// later. A failed renewal keeps the local view until the deadline; the connection reconnects by
// itself. Decisions are fenced in the database as well (LeaseRegistry::fenced): the deadline
// keeps a node from doing work it no longer owns, the fence keeps it from writing any.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/event_loop.h"
#include "store/lease_plan.h"
#include "store/lease_registry.h"
#include "store/pg_connection.h"

namespace lookout {

enum class LeaseWork { kProbe, kEval };

// A lease this node holds, or held until a change.
struct KeptLease {
  std::string name;  // probe/<location>/<shard> or eval/<shard>
  LeaseWork work = LeaseWork::kProbe;
  int shard = 0;
  int64_t epoch = 0;
  bool operator==(const KeptLease&) const = default;
};

// What one step changed; `lost` applies before `gained`. A lease is gained when
// an answer gives it (taken, or renewed after its local deadline had passed) and lost when its
// local deadline passes, when an answer no longer gives it, or when this node releases it. A
// lease that changed epoch is lost under the old one and gained under the new one.
struct LeaseChanges {
  std::vector<KeptLease> gained;
  std::vector<KeptLease> lost;
  bool empty() const { return gained.empty() && lost.empty(); }
};

class LeaseKeeper {
 public:
  // `node` and `location` as in the nodes table, whose row NodePresence keeps (started before
  // this on the same connection, so that the first plan sees this node live).
  LeaseKeeper(EventLoop& loop, PgConnection& pg, const Clock& clock, std::string node,
              std::string location, Duration lease);
  // Sends nothing, like a node that is killed: its leases run out on the server.
  ~LeaseKeeper();
  LeaseKeeper(const LeaseKeeper&) = delete;
  LeaseKeeper& operator=(const LeaseKeeper&) = delete;

  // Hears of every change, on the loop. Set before start(); not to destroy the keeper from.
  void on_change(std::function<void(const LeaseChanges&)> f) { on_change_ = std::move(f); }
  void start();
  // At SIGTERM: renewals end and every lease is dropped at once (on_change hears of it before
  // stop() returns), then released in the database, after the renewal in flight if there is
  // one, so that the other nodes take them at their next renewal. `done` runs once, on the
  // loop, with true when the database has them released (or nothing was held) and false when it
  // could not be told (the leases then run out on the server's clock); not at all if the keeper
  // is destroyed first.
  void stop(std::function<void(bool)> done);

  // The shards held now, each with its epoch, for probing from this location and for deciding.
  // Judged against the local deadlines at the time of the call, so a node whose loop was
  // stalled past them reads nothing before any answer or timer has run.
  std::map<int, int64_t> probing() const;
  std::map<int, int64_t> deciding() const;
  // What a decision about a monitor of `shard` is written under; nullopt unless held now.
  std::optional<LeaseFence> decision_fence(int shard) const;
  // The life `lease` has left by the local deadline; zero unless held.
  Duration life(const std::string& lease) const;
  // Whether `lease` has at least `need` of life left locally: a node sends a row under a lease
  // only while the lease outlives the send's timeout.
  bool fits(const std::string& lease, Duration need) const;

  Duration renew_every() const { return lease_ / 5; }
  // Taken off the server's remaining life: a tenth of the lease (1 s of the default 10 s).
  Duration margin() const { return lease_ / 10; }
  // Why the last renewal did not reach the database; empty since one did.
  const std::string& last_error() const { return last_error_; }

 private:
  // A lease the server may count as this node's: the epoch its last answer gave, and the local
  // deadline while it is held (none once lost, while the epoch is still worth naming to renew it
  // or to release it).
  struct Known {
    int64_t epoch = 0;
    std::optional<MonoTime> deadline;
  };

  void tick();
  void on_nodes(const PgResult& answer);
  void send_acquire(std::vector<std::string> names);
  void on_acquired(MonoTime sent, const std::vector<std::string>& asked, const PgResult& answer);
  void send_release(const std::vector<std::string>& names, bool final);
  void on_released(const std::vector<LeaseRow>& sent, const PgResult& answer, bool final);
  void step_done();
  void release_everything();
  void finish_stop(bool released);
  LeaseChanges lapse(MonoTime now);
  LeaseChanges drop(const std::vector<std::string>& names);
  void renewal_failed(const PgResult& answer, const char* statement);
  void report(const LeaseChanges& changes);
  void arm_expiry();
  std::map<int, int64_t> held_in(const LeaseSpace& space) const;
  KeptLease kept(const std::string& name, int64_t epoch) const;

  PgConnection& pg_;
  const Clock& clock_;
  std::string node_, location_;
  Duration lease_;
  LeaseRegistry registry_;
  LeaseSpace probe_space_, eval_space_;
  std::map<std::string, Known> known_;
  Timer renewal_, expiry_, finish_;
  std::function<void(const LeaseChanges&)> on_change_;
  // A renewal runs one step at a time (list, then acquire and release): while the database is
  // slow, renewals do not pile up behind it.
  bool in_flight_ = false;
  int pending_ = 0;  // statements of this step still unanswered
  bool stopping_ = false;
  std::function<void(bool)> stopped_;
  std::string last_error_;
  // Tells an answer that arrives after destruction to do nothing.
  std::shared_ptr<LeaseKeeper*> self_;
};

}  // namespace lookout
