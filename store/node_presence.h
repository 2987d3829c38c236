// A node's row in the nodes table, kept on the loop: joined at start(), renewed every
// renew_every() by a timer of the loop (so a node whose loop is stuck stops renewing and is
// seen dead once its lease runs out), left at stop(). A failed join or renewal is tried again
// at the next tick; the connection reconnects by itself.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "core/event_loop.h"
#include "store/node_registry.h"
#include "store/pg_connection.h"

namespace lookout {

class NodePresence {
 public:
  NodePresence(EventLoop& loop, PgConnection& pg, NodeRegistry registry);
  ~NodePresence();
  NodePresence(const NodePresence&) = delete;
  NodePresence& operator=(const NodePresence&) = delete;

  void start();
  // Renewals end; `done` runs once, on the loop, when the database has the node as left (true)
  // or could not be told (false: the node is seen dead once its lease runs out).
  void stop(std::function<void(bool)> done);
  // The last join or renewal reached the database.
  bool present() const { return present_; }
  // Why the last one did not; empty while present.
  const std::string& last_error() const { return last_error_; }

 private:
  void tick();

  PgConnection& pg_;
  NodeRegistry registry_;
  Timer timer_;
  bool joined_ = false;
  bool in_flight_ = false;
  bool present_ = false;
  std::string last_error_;
  // Tells an answer that arrives after destruction to do nothing.
  std::shared_ptr<NodePresence*> self_;
};

}  // namespace lookout
