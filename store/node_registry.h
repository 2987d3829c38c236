// The nodes table of cluster mode as statements and answers: a node joins at start, renews its
// row every lease/5 while its loop turns and leaves when it stops. Every time is the server's
// clock_timestamp(), never a node's clock: a node is alive while it has not left and its
// last_seen is within `lease` of the server's clock. Pure: NodePresence runs these statements
// on the loop's connection, `lookout cluster status` reads the list.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "store/pg_connection.h"

namespace lookout {

// What a node says about itself.
struct NodeIdentity {
  std::string node, location, version;
  std::string monitors_hash;  // of its monitors' config
};

// A row of the nodes table as the server's clock sees it.
struct NodeRow {
  std::string node, location, version;
  bool alive = false;
  int64_t last_seen_ago_ms = 0;  // the server's clock_timestamp() less last_seen
  std::string monitors_hash;
};

class NodeRegistry {
 public:
  NodeRegistry(NodeIdentity self, Duration lease) : self_(std::move(self)), lease_(lease) {}

  const NodeIdentity& self() const { return self_; }
  // Five renewals a lease: a node stays alive through four lost ones.
  Duration renew_every() const { return lease_ / 5; }

  // At start: the row as this node is now, started now.
  PgStatement join() const;
  // While running: last_seen now. An upsert, so that a row lost with a restored database comes
  // back; started_at stays.
  PgStatement renew() const;
  // At stop: no longer alive, at once, without waiting for the lease to run out.
  PgStatement leave() const;

  // Every node, by location and name; alive judged with `lease`.
  static PgStatement list(Duration lease);
  // The answer to list(); nullopt when it is not in the shape list() asks for.
  static std::optional<std::vector<NodeRow>> nodes(const PgResult& answer);

 private:
  NodeIdentity self_;
  Duration lease_;
};

}  // namespace lookout
