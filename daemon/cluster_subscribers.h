// The status page's email subscribers in cluster mode (docs/cluster.md#subscribers): they live
// in PostgreSQL, shared by the nodes, so an address subscribed through one node's form is
// confirmed through a link any node serves, and gets one mail about each public post and each
// opening and resolution of a public monitor's incident, whichever node makes it. Every
// kReadEvery this node reads the live rows into its book (alerting/subscribers.h) when
// subscriber_version moved; that book is what its mails and the admin's counts are made from.
// Each subscription, confirmation and unsubscribing taken here is one statement
// (store/pg_subscribers.h), with the confirmation mail it sends, and is answered once this
// node's book has the change. Pending addresses expire on every node's hourly turn.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "alerting/subscribers.h"
#include "config/config.h"
#include "core/clock.h"
#include "core/event_loop.h"
#include "daemon/cluster_node.h"
#include "store/pg_connection.h"

namespace lookout {

class ClusterSubscribers {
 public:
  static constexpr Duration kReadEvery{1000};
  static constexpr Duration kExpireEvery{3'600'000};

  // Reads and writes on `pg`, in order: a read sent after a change sees it.
  ClusterSubscribers(EventLoop& loop, const Clock& clock, PgConnection& pg, const ClusterNode& node,
                     std::shared_ptr<const Config> config);
  ~ClusterSubscribers();
  ClusterSubscribers(const ClusterSubscribers&) = delete;
  ClusterSubscribers& operator=(const ClusterSubscribers&) = delete;

  // Reads now, then every kReadEvery, and expires every kExpireEvery; `changed` runs on the
  // loop whenever the book changed, `erased` with each address erased here or through another
  // node (its mails held for sending are not to be sent). Without [subscriptions] it does
  // nothing.
  void start(std::function<void()> changed, std::function<void(const std::string&)> erased);
  void stop();

  // The subscribers as last read.
  const SubscriberBook& book() const { return book_; }
  // What their mails need: the config's channel, page and title, and the cluster's key.
  SubscriberMailing mailing() const;

  // A web thread's subscription, confirmation or unsubscribing. `done` runs once, on the loop:
  // kDone or kUnknown as on one node, or kUnavailable when the database could not be asked or
  // did not confirm.
  void handle(const SubscriptionCommand& command, std::function<void(SubscriptionAnswer)> done);

  // One mail per confirmed subscriber about each opening and resolution of a public monitor's
  // incident in `changes`, as on one node.
  void add_incident_mails(AlertChanges& changes) const;
  // One mail per confirmed subscriber about a public post's opening or update.
  void add_post_mails(AlertChanges& out, const PostRecord& post, const std::string& event,
                      WallTime now) const;

 private:
  void read();
  void expire();
  void subscribe(const std::string& email, std::function<void(SubscriptionAnswer)> done);
  // Sends `s`'s statement; once it answered, `outcome` changes the book as it did and says what
  // the answer means, which `done` gets; kUnavailable when the statement failed.
  void send(const PgStatement& s, const char* what, std::function<SubscriptionAnswer(bool)> outcome,
            std::function<void(SubscriptionAnswer)> done);
  bool is_public(const std::string& monitor) const;

  const Clock& clock_;
  PgConnection& pg_;
  const ClusterNode& node_;
  std::shared_ptr<const Config> config_;
  Timer read_timer_;
  Timer expire_timer_;
  std::function<void()> changed_;
  std::function<void(const std::string&)> erased_;
  bool in_flight_ = false;
  int64_t version_ = -1;  // subscriber_version of the book; -1 before the first read
  SubscriberBook book_;
  std::string read_error_;             // the last read failure told
  std::optional<MonoTime> told_full_;  // the operator is told once an hour
  std::shared_ptr<ClusterSubscribers*> self_;
};

}  // namespace lookout
