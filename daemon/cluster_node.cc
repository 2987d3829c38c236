#include "daemon/cluster_node.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/random.h"
#include "store/pg_secrets.h"

namespace lookout {
namespace {

constexpr Duration kRetryEvery{1000};

PgResultWriterOptions writer_options(const Config& config) {
  PgResultWriterOptions o;
  o.max_rows = config.storage.max_backlog;
  return o;
}

}  // namespace

ClusterNode::ClusterNode(EventLoop& loop, const Clock& clock, const Config& config,
                         std::string version)
    : clock_(clock),
      node_(config.cluster->node),
      location_(config.cluster->location),
      monitors_(monitor_digests(config)),
      hash_(monitors_hash(monitors_)),
      lease_(config.cluster->lease),
      pg_(loop, config.cluster->dsn, config.redactor),
      presence_(loop, pg_, NodeRegistry({node_, location_, std::move(version), hash_}, lease_)),
      keeper_(loop, pg_, clock, node_, location_, lease_),
      spool_(ResultSpool::open(loop, config.storage.path, backlog_, spool_error_)),
      writer_(loop, pg_, ResultOrigin{node_, location_}, writer_options(config),
              std::move(backlog_)),
      retry_(loop),
      drain_(loop),
      self_(std::make_shared<ClusterNode*>(this)) {
  if (spool_) attach_spool(writer_, *spool_);
}

ClusterNode::~ClusterNode() { *self_ = nullptr; }

void ClusterNode::start(std::function<void(const std::string&)> ready) {
  ready_ = std::move(ready);
  if (!spool_) {
    // As a single node that cannot open its database: the operator fixes the path or its rights.
    retry_.start(Duration{0}, [this] {
      fail(
          fmt::format("{}; [storage] path is this node's spool of results while PostgreSQL "
                      "cannot be reached: give it a file lookout can write",
                      spool_error_));
    });
    return;
  }
  spool_->start();
  pg_.start();
  migrate();
}

void ClusterNode::migrate() {
  migrate_pg_schema(pg_, {node_, lease_}, [self = self_](const PgMigration& m) {
    if (ClusterNode* n = *self; n != nullptr) n->on_migrated(m);
  });
}

void ClusterNode::step_failed(const std::string& error) {
  if (stopping_) return;
  // Only an error that came over a connection is the database's answer, which no retry changes;
  // the rest is about reaching it, which a later attempt may change.
  if (pg_.connected()) {
    fail(error);
    return;
  }
  if (error != told_) {
    spdlog::warn(
        "cluster: waiting for PostgreSQL: {}; node {} joins once it answers (tried again "
        "every {}s)",
        error, node_, kRetryEvery.count() / 1000);
    told_ = error;
  }
  retry_.start(kRetryEvery, [this] { migrate(); });
}

void ClusterNode::on_migrated(const PgMigration& m) {
  if (m.refused_by_live_nodes) {
    // An upgraded node among older live ones: it joins once the last of them stops.
    if (m.error != told_live_nodes_) {
      spdlog::warn("cluster: node {} waits to start: {}; tried again every {}s", node_, m.error,
                   kRetryEvery.count() / 1000);
      told_live_nodes_ = m.error;
    }
    retry_.start(kRetryEvery, [this] { migrate(); });
    return;
  }
  if (!m.ok()) {
    step_failed(m.error);
    return;
  }
  if (!told_live_nodes_.empty()) {
    spdlog::info("cluster: no node of the older schema is live any more; node {} starts", node_);
    told_live_nodes_.clear();
  }
  if (!m.applied.empty()) {
    spdlog::info("cluster: migrated the schema in PostgreSQL at {} from version {} to {}",
                 pg_.server(), m.found, m.now);
  }
  publish_set();
}

void ClusterNode::publish_set() {
  const PgStatement s = publish_monitor_set(hash_, monitors_);
  pg_.query(s.sql, s.params, [self = self_](const PgResult& r) {
    ClusterNode* n = *self;
    if (n == nullptr) return;
    if (!r.ok()) {
      n->step_failed(r.error);
      return;
    }
    const PgStatement list = NodeRegistry::list(n->lease_);
    n->pg_.query(list.sql, list.params, [self](const PgResult& answer) {
      ClusterNode* n = *self;
      if (n == nullptr) return;
      auto nodes = NodeRegistry::nodes(answer);
      if (!nodes) {
        n->step_failed(answer.ok() ? "the nodes table answered in a shape this lookout does "
                                     "not know"
                                   : answer.error);
        return;
      }
      n->compare(std::move(*nodes));
    });
  });
}

void ClusterNode::compare(std::vector<NodeRow> nodes) {
  std::vector<NodeRow> differing;
  for (auto& row : nodes) {
    // Its own row is from before this start, perhaps with the config this start replaces.
    if (row.alive && row.node != node_ && row.monitors_hash != hash_) {
      differing.push_back(std::move(row));
    }
  }
  compare_next(std::move(differing), 0);
}

void ClusterNode::compare_next(std::vector<NodeRow> differing, size_t i) {
  if (i == differing.size()) {
    share_secrets();
    return;
  }
  const PgStatement s = read_monitor_set(differing[i].monitors_hash);
  pg_.query(s.sql, s.params,
            [self = self_, differing = std::move(differing), i](const PgResult& r) mutable {
              ClusterNode* n = *self;
              if (n == nullptr) return;
              if (!r.ok()) {
                n->step_failed(r.error);
                return;
              }
              const std::string& other = differing[i].node;
              const auto theirs = monitor_set(r);
              // A node of a version before sets were kept has none: its hash alone differs.
              const auto difference =
                  theirs ? first_difference(n->monitors_, *theirs, other)
                         : std::optional<std::string>(fmt::format(
                               "the monitors of node {} are not known to this node", other));
              if (difference) {
                n->fail(fmt::format(
                    "{}; every node of a cluster runs the same monitors: give node {} the same "
                    "[[monitor]] entries and [defaults] as the live nodes, or stop them all "
                    "and start them with the new config",
                    *difference, n->node_));
                return;
              }
              n->compare_next(std::move(differing), i + 1);
            });
}

void ClusterNode::share_secrets() {
  // Made here if no node has made it yet; a node that loses that race reads the winner's.
  const PgStatement keep = keep_secrets({{"ack_key", random_hex(32)},
                                         {"heartbeat_key", random_hex(32)},
                                         {"subscription_key", random_hex(32)}});
  pg_.query(keep.sql, keep.params, [self = self_](const PgResult& r) {
    ClusterNode* n = *self;
    if (n == nullptr) return;
    if (!r.ok()) {
      n->step_failed(r.error);
      return;
    }
    const std::vector<std::string> names{"ack_key", "heartbeat_key", "subscription_key"};
    const PgStatement read = read_secrets(names);
    n->pg_.query(read.sql, read.params, [self, names](const PgResult& answer) {
      ClusterNode* n = *self;
      if (n == nullptr) return;
      const auto kept = secrets(answer, names);
      if (!kept) {
        n->step_failed(answer.ok() ? "kept_secrets answered without the ack, heartbeat and "
                                     "subscription keys"
                                   : answer.error);
        return;
      }
      n->ack_key_ = kept->at("ack_key");
      n->heartbeat_key_ = kept->at("heartbeat_key");
      n->subscription_key_ = kept->at("subscription_key");
      n->join();
    });
  });
}

void ClusterNode::join() {
  retry_.stop();
  if (!told_.empty()) spdlog::info("cluster: PostgreSQL at {} answers", pg_.server());
  told_.clear();
  presence_.start();
  keeper_.start();
  writer_.start();
  joined_ = true;
  if (auto ready = std::move(ready_)) ready("");
}

void ClusterNode::fail(const std::string& error) {
  retry_.stop();
  if (auto ready = std::move(ready_)) ready(error);
}

void ClusterNode::stop(std::function<void()> done) {
  stopping_ = true;
  retry_.stop();
  if (!joined_) {
    pg_.stop();
    if (spool_) spool_->stop();
    retry_.start(Duration{0}, std::move(done));
    return;
  }
  auto remaining = std::make_shared<int>(3);
  auto one_done = [this, remaining, done = std::move(done)](bool) {
    if (--*remaining > 0) return;
    // What the database took leaves the spool, what it did not stays for the next start. This
    // joins the spool's thread on the loop, once, at exit: its last transaction is short.
    spool_->stop();
    done();
  };
  keeper_.stop(one_done);
  presence_.stop(one_done);
  // The writer flushes on its own timer; the rows waiting are given a lease's time to go, which
  // a database that answers needs a fraction of, and the shutdown is not held past it.
  const MonoTime until = clock_.mono() + lease_;
  drain_.start_repeating(Duration{50}, [this, until, one_done] {
    if (writer_.waiting() > 0 && clock_.mono() < until) return;
    if (writer_.waiting() > 0) {
      spdlog::warn(
          "cluster: {} results not written to PostgreSQL at {} before stopping ({}); they stay in "
          "the spool {} and are written at the next start",
          writer_.waiting(), pg_.server(), writer_.last_error(), spool_->path());
    }
    drain_.stop();
    one_done(true);
  });
}

}  // namespace lookout
