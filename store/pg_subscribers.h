// The status page's email subscribers in a cluster's PostgreSQL (schema version 12): each
// subscription, confirmation and unsubscribing taken by any node is one statement, with the
// confirmation mail it sends; every node reads the live rows when subscriber_version moved.
// Pure, like PgPosts: the caller runs the statements on its connection.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "store/pg_connection.h"
#include "store/records.h"

namespace lookout {

// What list() read.
struct SubscribersRead {
  int64_t version = 0;  // subscriber_version of the rows read
  // Every live row (not erased), by id; nullopt when the version is the one the reader knew.
  std::optional<std::vector<SubscriberRecord>> rows;
};

class PgSubscribers {
 public:
  // Every live row, unless subscriber_version is still `known` (-1, which it never is, reads
  // them).
  static PgStatement list(int64_t known);
  static std::optional<SubscribersRead> read(const PgResult& answer, int64_t known);

  // A number for a new subscriber: its confirmation link carries it.
  static PgStatement reserve_id();
  static std::optional<int64_t> reserved_id(const PgResult& answer);

  // `s` (numbered, mailed_at set) as a new row with its confirmation `mail`, due at once in the
  // outbox's `shard`; nothing when the address has a live row already (taken on another node
  // meanwhile). The answer: whether it was written.
  static PgStatement add(const SubscriberRecord& s, const OutboxRow& mail, int shard);
  // Another confirmation `mail` to the pending row `id`, its mailed_at set to `now`: only while
  // it is live, unconfirmed and was not mailed within `every` before `now`. The answer: whether
  // it was written.
  static PgStatement mail_again(int64_t id, WallTime now, Duration every, const OutboxRow& mail,
                                int shard);
  // The row `id` confirmed at `now` unless it is already. The answer: whether the row is live
  // (confirmed now or before); false for an id erased or never given.
  static PgStatement confirm(int64_t id, WallTime now);
  // The row `id` erased, and its address taken out of the outbox, its mails not sent yet
  // cancelled. The answer: whether a live row was erased.
  static PgStatement erase(int64_t id);
  // The answer of add(), mail_again(), confirm() and erase(); nullopt for a failure or another
  // shape.
  static std::optional<bool> changed(const PgResult& answer);

  // Pending rows whose newest confirmation link expired `lifetime` after it was mailed, by
  // `now`, erased as erase() does. The answer: how many.
  static PgStatement expire(WallTime now, Duration lifetime);
  static std::optional<int64_t> expired(const PgResult& answer);
};

}  // namespace lookout
