// Posts on the loop: the admin API's new posts and updates are numbered, validated and kept
// here (the loop is their one owner), then stored and shown in the next snapshot.
#include <spdlog/spdlog.h>

#include "daemon/daemon.h"

namespace lookout {

std::optional<PostChange> Daemon::request_post(PostCommand command) {
  std::future<std::optional<PostChange>> answer;
  {
    std::lock_guard lock(ack_mu_);
    post_queue_.push_back(PostRequest{std::move(command), {}});
    answer = post_queue_.back().result.get_future();
  }
  ack_async_->send();
  if (answer.wait_for(std::chrono::seconds(5)) != std::future_status::ready) return std::nullopt;
  return answer.get();
}

void Daemon::drain_post_requests() {
  std::deque<PostRequest> requests;
  {
    std::lock_guard lock(ack_mu_);
    requests.swap(post_queue_);
  }
  if (requests.empty()) return;
  std::vector<PostChange> answers;
  bool changed = false;
  for (auto& req : requests) {
    const PostCommand& c = req.command;
    const WallTime now = clock_.wall();
    PostChange change = c.id == 0 ? posts_.create(c.draft, now,
                                                  [this](const std::string& name) {
                                                    return config_->find(name) != nullptr;
                                                  })
                                  : posts_.update(c.id, c.draft.status, c.draft.body, now);
    if (change.code == PostChange::Code::kDone) {
      spdlog::info("post {} \"{}\": {}", change.post.id, change.post.title,
                   to_string(change.post.status()));
      store_->put_post(change.post);
      changed = true;
    }
    answers.push_back(std::move(change));
  }
  // Shown before answered: a reader right after the answer sees the post.
  if (changed) {
    published_posts_ = std::make_shared<const std::vector<PostRecord>>(posts_.all());
    dirty_ = true;
    publish_snapshot();
  }
  for (size_t i = 0; i < requests.size(); ++i) requests[i].result.set_value(std::move(answers[i]));
}

}  // namespace lookout
