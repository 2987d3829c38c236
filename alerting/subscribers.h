// Stakeholders who subscribe to the status page by email, as pure logic: who is subscribed
// (the loop is the one owner of the book; storage only keeps what it decides), the signed
// links of their mails, and the outbox rows that carry their mails. Double opt-in: an address
// gets mail about the service only after following the link of a confirmation mail, and an
// address that never does is erased after kConfirmLifetimeS. Every subscriber mail is its own
// outbox row with the address as recipient (Audience::kSubscriber): durable and retried like
// any notification, never grouped, and sent behind on-call notifications (alerting/dispatcher.h).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "alerting/subscriber_links.h"
#include "core/clock.h"
#include "store/records.h"

namespace lookout {

// One pending address gets at most one confirmation mail this often, however often it is
// subscribed (someone else may be typing it in).
inline constexpr Duration kConfirmMailEvery{3'600'000};
// Addresses waiting for confirmation at most; beyond, new ones are not taken (and not mailed).
inline constexpr size_t kMaxPendingSubscribers = 10'000;

// What a subscription of an address does, from the row the address has (nullptr: none live)
// and how many addresses wait for confirmation: nothing (confirmed already, or mailed within
// kConfirmMailEvery), a new confirmation mail to its row, a new row with its first mail, or
// nothing because kMaxPendingSubscribers already wait.
enum class SubscribeStep { kNothing, kMailAgain, kNew, kFull };
SubscribeStep subscribe_step(const SubscriberRecord* known, size_t pending, WallTime now);

class SubscriberBook {
 public:
  // At start-up: what storage kept, tombstones too (their ids are never given again).
  void load(std::vector<SubscriberRecord> rows);

  // What a subscription changed: the row to store (none when nothing changed) and whether a
  // confirmation mail goes to it. The answer to the person asking is the same either way.
  struct Subscribed {
    std::optional<SubscriberRecord> changed;
    bool mail_confirmation = false;
    bool full = false;  // a new address not taken: kMaxPendingSubscribers already wait
  };
  // `email` as normalized_email() gives it.
  Subscribed subscribe(const std::string& email, WallTime now);
  // The row to store when this confirmed a pending address; nullopt when the id is unknown or
  // erased, or already confirmed (then `known` says which).
  std::optional<SubscriberRecord> confirm(int64_t id, WallTime now, bool& known);
  // The erased row to store, or nullopt when there was nothing to erase; `address` is set to
  // the address it had (its mails still waiting are dropped).
  std::optional<SubscriberRecord> unsubscribe(int64_t id, std::string& address);
  // Pending addresses whose confirmation link has expired, erased: the rows to store.
  std::vector<SubscriberRecord> expire(WallTime now);

  // A live row as a cluster's database has it now (it numbers the rows): added, or put in place
  // of the row with its id.
  void put(SubscriberRecord s);
  // The live row of `email` (as normalized_email() gives it), or nullptr.
  const SubscriberRecord* find(const std::string& email) const;

  size_t confirmed_count() const { return confirmed_; }
  size_t pending_count() const { return by_email_.size() - confirmed_; }
  // Every confirmed subscriber, by id.
  template <typename F>
  void each_confirmed(F&& f) const {
    for (const auto& [id, s] : rows_)
      if (s.confirmed()) f(s);
  }

 private:
  void erase(SubscriberRecord& s);
  std::map<int64_t, SubscriberRecord> rows_;
  std::unordered_map<std::string, int64_t> by_email_;  // lower case -> id, live rows only
  size_t confirmed_ = 0;
  int64_t next_id_ = 1;
};

// What a web thread asks of the loop, the book's one owner: a subscription of a normalized
// address, or the confirmation or unsubscribing that a verified link names.
struct SubscriptionCommand {
  enum class Kind { kSubscribe, kConfirm, kUnsubscribe } kind = Kind::kSubscribe;
  std::string email;
  int64_t id = 0;
};
// kUnknown: a confirmation link of an address erased since (unsubscribed, or expired); kOff: the
// config has no [subscriptions]; kUnavailable: a cluster's database did not record it (503).
enum class SubscriptionAnswer { kDone, kUnknown, kOff, kUnavailable };

// What subscriber mails need beyond the book: the channel that sends them, the page's address
// and title, and the key that signs their links.
struct SubscriberMailing {
  std::string channel;
  std::string public_url;
  std::string title;
  std::string key;
};

// A subscriber row's payload names what the mail is about: {"kind": "confirm" | "incident" |
// "post", "title", "page_url", "confirm_url" (confirm) or "unsubscribe_url", "incident" or
// "post"}; alerting/channels/subscriber_mail.h writes the mail from it.
OutboxRow confirmation_mail(const SubscriberRecord& s, const SubscriberMailing& m, WallTime now,
                            std::string id);

// One mail per confirmed subscriber about each opening and resolution in `changes` of a
// monitor that `is_public` says is public, added to that event's notifications (stored and
// sent with it).
void add_incident_mails(AlertChanges& changes, const SubscriberBook& book,
                        const SubscriberMailing& m,
                        const std::function<bool(const std::string&)>& is_public,
                        const std::function<std::string()>& ids);

// One mail per confirmed subscriber about a post's opening or update (`event`) when the post
// is public (alerting/posts.h), naming only its public monitors; added to `out`: to the event of
// that name the post's routes made, else to a new one.
void add_post_mails(AlertChanges& out, const PostRecord& post, const std::string& event,
                    WallTime now, const SubscriberBook& book, const SubscriberMailing& m,
                    const std::function<bool(const std::string&)>& is_public,
                    const std::function<std::string()>& ids);

}  // namespace lookout
