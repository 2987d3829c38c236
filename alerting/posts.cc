#include "alerting/posts.h"

#include <fmt/format.h>

#include <algorithm>

namespace lookout {
namespace {

// An error for the API, or empty when the text may be shown.
std::string post_text_error(const std::string& what, const std::string& text, size_t max) {
  if (text.size() > max) return fmt::format("{} is longer than {} bytes", what, max);
  for (const unsigned char c : text) {
    if (c < 0x20 && c != '\n' && c != '\r' && c != '\t')
      return fmt::format("{} holds a control character", what);
  }
  return "";
}

PostChange post_invalid(std::string error) {
  PostChange c;
  c.code = PostChange::Code::kInvalid;
  c.error = std::move(error);
  return c;
}

}  // namespace

void PostBook::load(std::vector<PostRecord> posts) {
  posts_ = std::move(posts);
  std::sort(posts_.begin(), posts_.end(),
            [](const PostRecord& a, const PostRecord& b) { return a.id < b.id; });
  next_id_ = posts_.empty() ? 1 : posts_.back().id + 1;
}

PostChange new_post(const PostDraft& draft, WallTime now,
                    const std::function<bool(const std::string&)>& monitor_exists) {
  if (draft.title.find_first_not_of(" \t") == std::string::npos)
    return post_invalid("a post needs a title");
  if (auto e = post_text_error("title", draft.title, kPostTitleMax); !e.empty())
    return post_invalid(e);
  if (draft.title.find_first_of("\r\n") != std::string::npos)
    return post_invalid("title is one line");
  if (auto e = post_text_error("body", draft.body, kPostBodyMax); !e.empty())
    return post_invalid(e);
  const auto status = post_status_from_string(draft.status);
  if (!status) {
    return post_invalid(
        fmt::format("status \"{}\" is not one of investigating, identified, monitoring, resolved",
                    draft.status));
  }
  const auto impact = draft.impact.empty() ? std::optional<PostImpact>(PostImpact::kNone)
                                           : post_impact_from_string(draft.impact);
  if (!impact) {
    return post_invalid(
        fmt::format("impact \"{}\" is not one of none, minor, major, critical", draft.impact));
  }
  PostRecord p;
  for (const auto& name : draft.monitors) {
    if (!monitor_exists(name)) return post_invalid(fmt::format("no monitor named \"{}\"", name));
    if (std::find(p.monitors.begin(), p.monitors.end(), name) == p.monitors.end())
      p.monitors.push_back(name);
  }
  p.title = draft.title;
  p.impact = *impact;
  p.created_at = now;
  p.updates.push_back(PostUpdate{*status, draft.body, now});
  if (*status == PostStatus::kResolved) p.resolved_at = now;
  PostChange c;
  c.post = std::move(p);
  return c;
}

PostChange updated_post(PostRecord post, const std::string& status, const std::string& body,
                        WallTime now) {
  const auto st = post_status_from_string(status);
  if (!st) {
    return post_invalid(fmt::format(
        "status \"{}\" is not one of investigating, identified, monitoring, resolved", status));
  }
  if (auto e = post_text_error("body", body, kPostBodyMax); !e.empty()) return post_invalid(e);
  post.updates.push_back(PostUpdate{*st, body, now});
  if (*st == PostStatus::kResolved) {
    if (!post.resolved_at) post.resolved_at = now;
  } else {
    post.resolved_at.reset();
  }
  PostChange c;
  c.post = std::move(post);
  return c;
}

PostChange PostBook::create(const PostDraft& draft, WallTime now,
                            const std::function<bool(const std::string&)>& monitor_exists) {
  PostChange c = new_post(draft, now, monitor_exists);
  if (c.code != PostChange::Code::kDone) return c;
  c.post.id = next_id_++;
  posts_.push_back(c.post);
  return c;
}

PostChange PostBook::update(int64_t id, const std::string& status, const std::string& body,
                            WallTime now) {
  const auto it = std::lower_bound(posts_.begin(), posts_.end(), id,
                                   [](const PostRecord& p, int64_t v) { return p.id < v; });
  if (it == posts_.end() || it->id != id) {
    PostChange c;
    c.code = PostChange::Code::kUnknownPost;
    return c;
  }
  PostChange c = updated_post(*it, status, body, now);
  if (c.code == PostChange::Code::kDone) *it = c.post;
  return c;
}

void PostBook::put(PostRecord post) {
  const auto it = std::lower_bound(posts_.begin(), posts_.end(), post.id,
                                   [](const PostRecord& p, int64_t v) { return p.id < v; });
  next_id_ = std::max(next_id_, post.id + 1);
  if (it != posts_.end() && it->id == post.id) {
    *it = std::move(post);
  } else {
    posts_.insert(it, std::move(post));
  }
}

bool post_is_public(const PostRecord& post,
                    const std::function<bool(const std::string&)>& monitor_is_public) {
  if (post.monitors.empty()) return true;
  return std::any_of(post.monitors.begin(), post.monitors.end(), monitor_is_public);
}

}  // namespace lookout
