// Cluster mode's sending (docs/cluster.md#sending): every `every`, and soon after poke(), a node
// claims the due outbox rows of the shards whose eval leases it holds (PgDecisions::claim), hands
// them to its Dispatcher, and reports each outcome under the claim it came with
// (PgDecisions::report_delivery): sent, failed, given up, or pending again until a retry is due,
// when it is claimed again, maybe by another node. Statements go one at a time, reports before
// claims.
//
// A claim lasts claim_time() of the channels' timeouts, at most half the lease. The node counts
// it on its monotonic clock from when the claim was handed to the connection (before the server
// set its end), less a tenth for the clocks' rates, and also no further than its lease's local
// life: an attempt starts only while the channel's timeout fits in that, so it ends before the
// claim does and before another node can claim the row. When the longest timeout does not fit
// in half the lease, an attempt starts only in the first half of its claim and may outlive it:
// after a takeover it may then be sent again, with the same id. A row whose turn comes later is
// dropped unsent; a report that cannot be written by then is dropped too: either way the claim runs
// out on the server and the row is claimed again, with the same id, and a notification whose report
// was lost is sent twice with one id.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "alerting/dispatcher.h"
#include "config/config.h"
#include "core/clock.h"
#include "core/event_loop.h"
#include "store/lease_keeper.h"
#include "store/pg_connection.h"
#include "store/pg_decisions.h"

namespace lookout {

struct SenderStats {
  uint64_t claimed = 0;   // rows claimed, each claim of a row once
  uint64_t reported = 0;  // outcomes written under their claims
  // Outcomes the database refused (the claim had run out and the row was claimed again) or that
  // could not be written before the claim ran out: their rows are claimed again.
  uint64_t not_reported = 0;
};

class ClusterSender {
 public:
  // What the sender reads of the node's eval leases.
  struct Leases {
    std::function<std::map<int, int64_t>()> deciding;  // shard -> epoch, held now
    std::function<Duration(int shard)> life;           // of the shard's lease, locally
  };
  static Leases leases_of(const LeaseKeeper& keeper);

  // How long a claim lasts: it leaves the longest channel timeout and a second to start the
  // attempt after the tenth taken off for the clocks' rates. A claim is made only from a lease
  // with more than this left, so it must stay under about four fifths of the lease.
  static Duration claim_time(const std::vector<ChannelConfig>& channels, Duration lease);

  ClusterSender(EventLoop& loop, CurlBridge& curl, PgConnection& pg, const Clock& clock,
                std::string node, Leases leases, Duration every = Duration{500});
  ~ClusterSender();
  ClusterSender(const ClusterSender&) = delete;
  ClusterSender& operator=(const ClusterSender&) = delete;

  // The dispatcher's channels and routes, and the claim's length from the channels' timeouts.
  // `ack_key` signs the ack links channels make themselves (Pushover's callback): the
  // cluster's, known once the node joined.
  void configure(const Config& config, const std::string& ack_key);
  void start();
  // Something was written to the outbox: claim now rather than at the next tick.
  void poke();
  // No more claims, and rows waiting for their turn are left to their claims' end; attempts
  // under way finish and are reported if the database takes it. `done` runs once, on the loop,
  // when nothing is in flight or waiting to be reported; not if the sender is destroyed first.
  void stop(std::function<void()> done);

  const Dispatcher& dispatcher() const { return dispatcher_; }
  // The mails to an address erased (unsubscribed) that this node holds and has not begun to
  // send are not sent: dropped, their claims left to run out (the row is cancelled already).
  void cancel_subscriber_mail(const std::string& address) {
    dispatcher_.cancel_subscriber_mail(address);
  }
  Duration claim_for() const { return claim_for_; }
  const SenderStats& stats() const { return stats_; }
  // Why the last claim or report failed; empty since one went through.
  const std::string& last_error() const { return last_error_; }

 private:
  struct Claim {
    int64_t epoch = 0;
    MonoTime until;  // the local end of the claim
  };
  struct Report {
    DeliveryUpdate update;
    Claim claim;
  };

  void tick();
  void next();
  void claim();
  void on_claimed(const PgResult& answer, MonoTime sent, size_t asked);
  void delivered(DeliveryUpdate u);
  void on_reported(const PgResult& answer);
  void failed(const PgResult& answer, const char* what);
  void settle();

  PgConnection& pg_;
  const Clock& clock_;
  std::string node_;
  Leases leases_;
  Duration every_;
  Duration claim_for_{0};
  Timer timer_, finish_;
  std::map<std::string, Claim> claims_;  // rows handed to the dispatcher, by id
  std::deque<Report> reports_;           // outcomes waiting, oldest first
  std::optional<Report> reporting_;      // the one whose statement is out
  bool busy_ = false;                    // a statement is out
  bool want_claim_ = false;
  bool hold_reports_ = false;  // the last report failed: the next goes at the next tick
  bool stopped_ = false;
  std::function<void()> done_;
  SenderStats stats_;
  std::string last_error_;
  // Tells an answer that arrives after destruction to do nothing.
  std::shared_ptr<ClusterSender*> self_;
  // Last: destroyed first, so that no outcome reaches a sender being destroyed.
  Dispatcher dispatcher_;
};

}  // namespace lookout
