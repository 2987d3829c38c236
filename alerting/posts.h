// The posts people write on the status page ("investigating", "identified", "monitoring",
// "resolved"): validated, numbered and kept here, pure, so that the loop is their one owner
// and storage only persists what this decides.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "store/records.h"

namespace lookout {

// What the admin API hands in for a new post, as given (strings are checked here).
struct PostDraft {
  std::string title;
  std::string status;
  std::string impact;  // empty: none
  std::string body;
  std::vector<std::string> monitors;
};

// A change asked for through the admin API: a new post (id 0), or an update of post `id` with
// the draft's status and body.
struct PostCommand {
  int64_t id = 0;
  PostDraft draft;
};

// The outcome of a change: the post as it now is, or why not.
struct PostChange {
  // kUnavailable: a cluster's database could not record it (the API's 503).
  enum class Code { kDone, kInvalid, kUnknownPost, kUnavailable } code = Code::kDone;
  std::string error;  // for kInvalid: what to fix, for the API's 400; for kUnavailable: why
  PostRecord post;
};

inline constexpr size_t kPostTitleMax = 200;
inline constexpr size_t kPostBodyMax = 10 * 1024;

// A new post as `draft` asks for it, not numbered yet (id 0). `monitor_exists` says whether a
// name is a configured monitor's.
PostChange new_post(const PostDraft& draft, WallTime now,
                    const std::function<bool(const std::string&)>& monitor_exists);
// `post` with a status change and its text. `resolved` sets resolved_at; any other status on a
// resolved post opens it again (it was resolved too early).
PostChange updated_post(PostRecord post, const std::string& status, const std::string& body,
                        WallTime now);

class PostBook {
 public:
  // What storage kept, in any order: at start-up, and in cluster mode whenever the database's
  // posts changed.
  void load(std::vector<PostRecord> posts);
  // new_post, numbered here.
  PostChange create(const PostDraft& draft, WallTime now,
                    const std::function<bool(const std::string&)>& monitor_exists);
  // updated_post of the post `id`, kept here.
  PostChange update(int64_t id, const std::string& status, const std::string& body, WallTime now);
  // `post` as it now is, numbered elsewhere (a cluster's database): added, or put in place of
  // the one with its id.
  void put(PostRecord post);
  // Oldest first.
  const std::vector<PostRecord>& all() const { return posts_; }

 private:
  std::vector<PostRecord> posts_;
  int64_t next_id_ = 1;
};

// Whether a reader without the admin token may see the post: one about no monitor is about
// the whole service; one that names monitors is public when any of them is.
bool post_is_public(const PostRecord& post,
                    const std::function<bool(const std::string&)>& monitor_is_public);

}  // namespace lookout
