#include "store/node_presence.h"

#include <spdlog/spdlog.h>

namespace lookout {

NodePresence::NodePresence(EventLoop& loop, PgConnection& pg, NodeRegistry registry)
    : pg_(pg),
      registry_(std::move(registry)),
      timer_(loop),
      self_(std::make_shared<NodePresence*>(this)) {}

NodePresence::~NodePresence() { *self_ = nullptr; }

void NodePresence::start() {
  tick();
  timer_.start_repeating(registry_.renew_every(), [this] { tick(); });
}

void NodePresence::tick() {
  // One statement at a time: while the database is slow, renewals do not pile up behind it.
  if (in_flight_) return;
  in_flight_ = true;
  const PgStatement s = joined_ ? registry_.renew() : registry_.join();
  pg_.query(s.sql, s.params, [self = self_](PgResult r) {
    NodePresence* p = *self;
    if (p == nullptr) return;
    p->in_flight_ = false;
    if (r.ok()) {
      if (!p->joined_) {
        spdlog::info("node {} joined the cluster in location {}", p->registry_.self().node,
                     p->registry_.self().location);
      }
      p->joined_ = true;
      p->present_ = true;
      p->last_error_.clear();
    } else {
      // The connection logs its own failures; a failure of the statement itself is logged here.
      if (!r.sqlstate.empty() && r.error != p->last_error_) {
        spdlog::error("node {} cannot renew its row: {}", p->registry_.self().node, r.error);
      }
      p->present_ = false;
      p->last_error_ = std::move(r.error);
    }
  });
}

void NodePresence::stop(std::function<void(bool)> done) {
  timer_.stop();
  const PgStatement s = registry_.leave();
  pg_.query(s.sql, s.params, [self = self_, done = std::move(done)](PgResult r) {
    if (NodePresence* p = *self; p != nullptr) {
      p->present_ = false;
      if (!r.ok()) p->last_error_ = r.error;
    }
    if (!r.ok()) spdlog::warn("cannot mark this node as left: {}", r.error);
    done(r.ok());
  });
}

}  // namespace lookout
