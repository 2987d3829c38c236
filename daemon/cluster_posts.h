// The status page's posts in cluster mode (docs/cluster.md#posts): they live in PostgreSQL,
// shared by the nodes, so a post made through any node's admin API is on every node's page,
// feed and API within a second, and its notifications are sent once, by whichever node holds
// their outbox shard's lease. Every kReadEvery this node reads the posts when post_version
// moved and hands the whole list on. A post made or updated here is written with its
// notifications in one statement (store/pg_posts.h), and is in the list handed on before the
// request is answered. This node's changes go one at a time, in the order taken, so only
// another node's change can come between an update's read and its write.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "alerting/posts.h"
#include "core/clock.h"
#include "core/event_loop.h"
#include "daemon/cluster_node.h"
#include "store/pg_connection.h"

namespace lookout {

class ClusterPosts {
 public:
  static constexpr Duration kReadEvery{1000};
  // How many times an update is read and written again when another node updated the post in
  // between, before the API is told to try again. Each try waits a little longer than the last,
  // by a random part too, so that two nodes updating one post at once stop meeting.
  static constexpr int kUpdateAttempts = 8;
  static constexpr Duration kRetryStep{20};

  // The notifications of a post's opening (`created`) or update, as the caller's alert engine
  // makes them for the routes that ask for posts.
  using Notifications = std::function<std::vector<OutboxRow>(const PostRecord& post, bool created)>;
  using Done = std::function<void(PostChange)>;

  // Reads and writes on `pg`, one statement at a time in order: a read sent before a change made
  // here answers before it, and one sent after sees it.
  ClusterPosts(EventLoop& loop, PgConnection& pg, const ClusterNode& node);
  ~ClusterPosts();
  ClusterPosts(const ClusterPosts&) = delete;
  ClusterPosts& operator=(const ClusterPosts&) = delete;

  // Reads now, then every kReadEvery; `posts` gets the whole list, oldest first, on the loop
  // whenever it changed.
  void start(std::function<void(const std::vector<PostRecord>&)> posts);
  void stop();

  // A post that passed new_post(), numbered by the database and written. `done` runs once, on
  // the loop: kDone with the post once written, or kUnavailable saying what failed.
  void create(PostRecord post, Notifications notifications, Done done);
  // updated_post() of the post `id` as the database has it now, written; kUnknownPost when there
  // is none, kInvalid for a bad status or body, else as create().
  void update(int64_t id, std::string status, std::string body, WallTime now,
              Notifications notifications, Done done);

 private:
  void read();
  // Runs `change` once the changes taken before it are done.
  void in_turn(std::function<void(Done)> change, Done done);
  void next_change();
  void create_now(PostRecord post, Notifications notifications, Done done);
  void update_attempt(int64_t id, std::string status, std::string body, WallTime now,
                      Notifications notifications, Done done, int attempts_left);
  // Writes `post`'s newest update; `conflict` runs instead of `done` when another node wrote an
  // update of the post first.
  void write(PostRecord post, bool created, const Notifications& notifications, Done done,
             std::function<void()> conflict);
  // `post` as written here, in the list handed on.
  void keep(const PostRecord& post);
  PostChange unavailable(std::string error) const;

  PgConnection& pg_;
  const ClusterNode& node_;
  Timer timer_;
  Timer retry_timer_;  // one change at a time, so one retry at a time
  std::function<void(const std::vector<PostRecord>&)> on_posts_;
  bool in_flight_ = false;
  int64_t version_ = -1;    // post_version of the list last read; -1 before the first
  PostBook posts_;          // as last read, with the changes made here since
  std::string read_error_;  // the last read failure told
  std::deque<std::function<void()>> changes_;  // waiting for their turn
  bool changing_ = false;
  // Tells an answer that arrives after destruction to do nothing.
  std::shared_ptr<ClusterPosts*> self_;
};

}  // namespace lookout
