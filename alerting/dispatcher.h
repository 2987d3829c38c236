// Sends outbox rows, on the loop. A row becomes sendable only once the transaction that wrote
// it has committed (the store reports commits by sequence number), and once its group's time
// has come (alerting/grouping.h): the rows of one group that are due go as one message.
// Failures are retried with exponential backoff and jitter until the channel's give_up_after;
// permanent failures stop at once (alerting/backoff.h). Every outcome is written back to each
// outbox row.
//
// In cluster mode the outbox table owns the rows (alerting/cluster_sender.h): the dispatcher is
// handed rows claimed for a while, tries each at most once, and hands every outcome (a retry
// too, with its due time) to its sink, which reports it under the claim; a retry is claimed
// again when due, maybe by another node.
//
// Mail to status-page subscribers (Audience::kSubscriber) takes its own lane: each row alone,
// never grouped, at most kSubscriberMailsInFlight at once per channel and only beside the
// on-call notifications that channel has due, which always go first; so 10,000 subscribers
// neither delay a page nor cost the loop a scan of them per send.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "alerting/channels/channel.h"
#include "alerting/grouping.h"
#include "core/event_loop.h"
#include "store/storage.h"

namespace lookout {

struct DispatchStats {
  std::map<std::pair<std::string, std::string>, uint64_t> outcomes;  // (channel, outcome) -> count
  // On-call notifications not yet delivered; the oldest times below are theirs.
  size_t pending = 0;
  size_t subscriber_mail_pending = 0;
  std::optional<WallTime> oldest_pending;
  // The notification still undelivered that has been due the longest (since its group's time
  // came): what says a channel is stuck, not just busy or gathering.
  std::optional<WallTime> oldest_due;
  std::string oldest_due_channel;
  // Claimed rows dropped unsent: their claim no longer left the channel's timeout at their turn.
  uint64_t claims_run_out = 0;
};

// Where the dispatcher's word on each row goes: the store on a single node, the sender that
// claimed the row in cluster mode.
using DeliverySink = std::function<void(DeliveryUpdate)>;

// A row claimed from the cluster's outbox, to be sent by `send_by` or not at all: an attempt
// starts only while the channel's timeout fits before it, so it ends within the claim.
struct ClaimedRow {
  PendingOutbox pending;
  MonoTime send_by;
};

class Dispatcher {
 public:
  // `ack_key` signs the ack links a channel makes itself (alerting/ack_token.h).
  Dispatcher(EventLoop& loop, CurlBridge& curl, const Clock& clock, Storage& store,
             std::string ack_key = "");
  Dispatcher(EventLoop& loop, CurlBridge& curl, const Clock& clock, DeliverySink sink,
             std::string ack_key = "");
  ~Dispatcher();
  // Before configure(): a key known only after the dispatcher was made (a cluster node's).
  void sign_acks_with(std::string ack_key) { ack_key_ = std::move(ack_key); }

  // `delivered`: at start, the notifications delivered for incidents still open (see
  // Channel::resume); on a reload, each channel takes them over from the one it replaces.
  void configure(const Config& config, const std::vector<OutboxRow>& delivered = {});
  void add(AlertChanges changes, uint64_t seq);
  void add_loaded(std::vector<PendingOutbox> rows);
  void committed(uint64_t seq);
  // Rows owned by the outbox table, each tried at most once and then forgotten. A row never
  // tried joins its group (its time from when it was made); one whose group goes later than its
  // claim allows is handed back at once, pending until then, so that it is claimed again when
  // due. A retry is due at once (the table kept it until its time). A row whose claim no longer
  // leaves the channel's timeout when its turn comes is dropped without an outcome: its claim
  // runs out and it is claimed again, with the same id. A row this dispatcher still holds takes
  // the newer claim's send_by, unless it is being sent.
  void add_claimed(std::vector<ClaimedRow> rows);
  // An address that unsubscribed: its mails not yet sent are dropped (storage cancels them).
  void cancel_subscriber_mail(const std::string& address);
  void stop();
  const DispatchStats& stats() const { return stats_; }
  // Attempts under way.
  size_t in_flight() const;
  // Cluster mode, when a claim is shorter than a channel's timeout: a claimed row's attempt
  // starts while at least min(timeout, `most`) of its claim is left, so a slow attempt may
  // outlive its claim (and, after a takeover, be sent again with the same id).
  void fit_attempts_within(Duration most) { fit_most_ = most; }

 private:
  struct Item {
    OutboxRow row;
    int attempts = 0;
    int64_t due_ms = 0;
    int64_t first_due_ms = 0;  // when it was first due; retries move due_ms, not this
    uint64_t seq = 0;
    bool in_flight = false;
    bool scheduled = false;  // due_ms is set: committed and admitted to its group, or a retry
    std::string key;         // group_key(row)
    std::optional<MonoTime> send_by;  // a claimed row's (add_claimed)
  };
  void admit(OutboxRow row, int attempts, std::optional<int64_t> retry_due_ms, uint64_t seq);
  void admit_subscriber_mail(OutboxRow row, int attempts, std::optional<int64_t> retry_due_ms,
                             uint64_t seq);
  void schedule(Item& it);
  void pump();
  // Subscriber mail that is due, one row a message, in the room the on-call rows left; the
  // earliest time one of them is due later.
  std::optional<int64_t> pump_subscriber_mail(int64_t now);
  Item* find(const std::string& id);
  // Whether a claimed row's claim still leaves its channel's timeout (at most fit_most_) after
  // `wait`; always for other rows.
  bool in_time(const Item& it, Duration wait = Duration{0}) const;
  void forget(const std::string& id);
  void send(std::string key, std::vector<std::string> ids, int64_t now_ms);
  void finish(const std::string& key, const std::vector<std::string>& ids, DeliveryOutcome o);
  void refresh_stats();

  EventLoop& loop_;
  CurlBridge& curl_;
  const Clock& clock_;
  DeliverySink sink_;
  std::string ack_key_;
  Timer timer_;
  std::map<std::string, std::unique_ptr<Channel>> channels_;
  std::vector<std::unique_ptr<Channel>> retired_;  // replaced by a reload while sending
  std::map<std::string, Duration> give_up_;
  std::map<std::string, GroupTiming> timing_;  // by route
  GroupSchedule groups_;
  Duration fit_most_ = Duration::max();
  std::map<std::string, Item> items_;  // on-call rows, by outbox id
  std::map<std::string, Item> mail_;   // subscriber rows, by outbox id
  std::map<std::string, std::set<std::pair<int64_t, std::string>>>
      mail_due_;                                                   // channel -> (due, id)
  std::deque<std::pair<uint64_t, std::string>> mail_uncommitted_;  // (seq, id), oldest first
  std::map<std::string, size_t> mail_busy_;                        // by channel
  std::map<std::string, int64_t> mail_warned_ms_;  // by channel: failures are told once a minute
  std::map<std::string, size_t> busy_;             // batches in flight, by channel
  std::set<std::string> keys_in_flight_;           // a group sends one batch at a time, in order
  uint64_t committed_ = 0;
  bool stopped_ = false;
  std::mt19937_64 rng_{std::random_device{}()};
  DispatchStats stats_;
};

}  // namespace lookout
