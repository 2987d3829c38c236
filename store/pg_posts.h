// The status page's posts in a cluster's PostgreSQL (schema version 11): made and updated
// through any node's admin API, each change written with its notifications in one statement,
// and read by every node for its page, feed and API. Pure, like PgMaintenance: the caller runs
// the statements on its connection.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "store/pg_connection.h"
#include "store/records.h"

namespace lookout {

// What list() read.
struct PostsRead {
  int64_t version = 0;  // of the posts read: post_version, moved by every change
  // Every post, by id, each with its updates oldest first; nullopt when the version is the one
  // the reader knew, and nothing was read.
  std::optional<std::vector<PostRecord>> posts;
};

class PgPosts {
 public:
  // Every post, unless post_version is still `known` (-1, which it never is, reads them).
  static PgStatement list(int64_t known);
  // list()'s answer; nullopt for a failure or an answer of another shape.
  static std::optional<PostsRead> read(const PgResult& answer, int64_t known);

  // The post `id` as it is now.
  static PgStatement one(int64_t id);
  // one()'s answer: the post, or nullopt inside when there is none; nullopt for a failure or
  // another shape.
  static std::optional<std::optional<PostRecord>> post(const PgResult& answer);

  // A number for a new post, from the posts' identity: the post's notifications carry it, so it
  // is known before the post is written. A number never used leaves a gap, nothing else.
  static PgStatement reserve_id();
  static std::optional<int64_t> reserved_id(const PgResult& answer);

  // `post` (numbered) as it now is, and its newest update, numbered after the others (0 for a
  // new post), taken by `node`, with `notifications` due at once in the outbox's `shard`; and
  // post_version moved. When another node wrote that update's number first (the post changed
  // since it was read), the statement fails with a unique violation and writes nothing.
  static PgStatement write(const PostRecord& post, const std::string& node,
                           const std::vector<OutboxRow>& notifications, int shard);
  // write()'s answer: the notifications written; nullopt for a failure or another shape.
  static std::optional<int64_t> written(const PgResult& answer);
};

}  // namespace lookout
