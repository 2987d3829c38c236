// The leases table of cluster mode as statements and answers: a node takes and renews the
// leases of its share in one statement, releases them when it stops or when they belong to
// another node now, and makes each decision under one of them (fencing). Pure, like
// NodeRegistry: the caller runs the statements on its connection.
//
// A lease is held while holder is set and expires_at is later than the server's
// clock_timestamp(); it is free when holder is NULL or expires_at has passed. Every time is the
// server's: no node's clock decides whether a lease holds. The epoch grows by one each time a
// lease changes hands: taken after a release, or once it ran out, by a node that does not hold
// it under that epoch (another node, or one restarted under the same name). Its holder renews it
// under the same epoch, also just after it ran out when nobody took it meanwhile (nobody
// decided under it in between: the fence refuses a lease that ran out). A decision carries the
// lease, holder and epoch it was taken under and writes nothing once they no longer hold, so a
// node that was paused or cut off past its lease cannot write over the node that took its work.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "store/node_registry.h"

namespace lookout {

// A lease as the server sees it now.
struct LeaseRow {
  std::string name;
  std::string holder;
  int64_t epoch = 0;
  int64_t remaining_ms = 0;  // expires_at less the server's clock_timestamp()
  bool operator==(const LeaseRow&) const = default;
};

// What a decision is taken under: it writes only while `holder` holds `lease` at `epoch`.
struct LeaseFence {
  std::string lease;
  std::string holder;
  int64_t epoch = 0;
};

// The answer to a fenced decision.
struct FenceOutcome {
  bool held = false;    // the lease still held: false means the decision wrote nothing
  int64_t written = 0;  // rows the decision returned (it writes nothing when not held)
};

class LeaseRegistry {
 public:
  LeaseRegistry(std::string node, Duration lease) : node_(std::move(node)), lease_(lease) {}

  const std::string& node() const { return node_; }

  // One statement for every lease of a renewal: those in `held` (as acquire() last answered)
  // are renewed under their epoch, the others taken when free, each for `lease` from the
  // server's clock. A lease another node holds is never taken, nor one this node's name holds
  // under an epoch it does not know (a node restarted under the name of a dead one waits until
  // that one's leases run out). The answer, read with rows(), lists the leases this node holds
  // afterwards among `names`, with their epochs: an epoch that differs from the one in `held`
  // is a new tenure. Rows are locked in name order, so concurrent renewals queue and never
  // deadlock. A node counts a lease from when it sent the statement, not from the answer.
  PgStatement acquire(const std::vector<std::string>& names,
                      const std::vector<LeaseRow>& held) const;

  // Hands `held` over at once (holder NULL, expires_at -infinity, epoch kept so that the next
  // tenure is a new epoch): at stop, and for leases in another node's share. A lease this node
  // no longer holds under that epoch is left alone. Read the answer with released().
  PgStatement release(const std::vector<LeaseRow>& held) const;
  // The names of the leases release() released; nullopt as for rows().
  static std::optional<std::vector<std::string>> released(const PgResult& answer);

  // Every lease held now, by name, whoever holds it.
  static PgStatement list();

  // The answer to acquire() or list(); nullopt when the statement failed or the answer is not
  // in the shape asked for.
  static std::optional<std::vector<LeaseRow>> rows(const PgResult& answer);

  // `decision` run only while `fence` holds, in one statement that first locks the lease's row
  // FOR SHARE: a takeover by another node (which updates that row) waits until the decision
  // has committed, and a decision that arrives after the takeover finds the row changed and
  // writes nothing.
  //
  // `decision` is one INSERT, UPDATE or DELETE with a RETURNING clause that must write only
  // through the CTE `fence`, which has one row (`epoch`) while the lease holds and none
  // otherwise: `INSERT ... SELECT ... FROM fence`, `UPDATE ... WHERE ... AND EXISTS (SELECT
  // FROM fence)`. A decision that does not read `fence` is not fenced. Its parameters are
  // $1..$N; the fence's come after them. Read the answer with fence_outcome().
  static PgStatement fenced(const LeaseFence& fence, const PgStatement& decision);
  // The CTE `fence AS MATERIALIZED (...)` of fenced(), its parameters appended to `params`: for
  // a decision of several data-modifying CTEs, which PostgreSQL takes only at the top level of a
  // statement and so not inside fenced()'s `decision`. Such a statement writes only through
  // `fence` as fenced() does, and should answer whether it held.
  // `first`: a CTE written before the fence, read by it before it locks the lease's row (a
  // lock the statement must hold first, in the order others take both).
  static std::string fence_cte(const LeaseFence& fence, PgParams& params,
                               std::string_view first = "");
  static std::optional<FenceOutcome> fence_outcome(const PgResult& answer);

 private:
  std::string node_;
  Duration lease_;
};

}  // namespace lookout
