// Posts on the loop: the admin API's new posts and updates are numbered, validated and kept
// here (the loop is their one owner), then stored, told to the routes that ask for posts, and
// shown in the next snapshot. In cluster mode the cluster's PostgreSQL numbers and keeps them
// (daemon/cluster_posts.h).
#include <spdlog/spdlog.h>

#include "core/random.h"
#include "daemon/daemon.h"

namespace lookout {

std::optional<PostChange> Daemon::request_post(PostCommand command) {
  return post_requests_.ask(std::move(command), *ack_async_);
}

void Daemon::drain_post_requests() {
  auto requests = post_requests_.take();
  if (requests.empty()) return;
  if (cluster_) {
    drain_cluster_posts(std::move(requests));
    return;
  }
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
      // The routes that ask for posts hear of it as of any incident's event: stored in the
      // outbox, then sent once committed.
      AlertChanges notices;
      alerts_->on_post(change.post, c.id == 0, now, notices);
      spdlog::info("post {} \"{}\": {}; {} notifications", change.post.id, change.post.title,
                   to_string(change.post.status()), notices.events.front().notifications.size());
      // Subscribers' mails go in the same event, stored and committed with it.
      if (config_->subscriptions) {
        add_post_mails(
            notices, change.post, c.id == 0 ? "incident.posted" : "incident.post_updated", now,
            subscribers_, mailing(), [this](const std::string& m) { return is_public(m); },
            [] { return random_hex(16); });
      }
      store_->put_post(change.post);
      record(std::move(notices));
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
  answer_once_committed(
      decltype(post_requests_)::answering(std::move(requests), std::move(answers)));
}

// Each request is answered once its statement committed and ClusterPosts' list, which this
// node's snapshot shows, has the change.
void Daemon::drain_cluster_posts(
    std::deque<LoopRequests<PostCommand, PostChange>::Request> requests) {
  const auto notifications = [this](const PostRecord& post, bool created) {
    AlertChanges notices;
    const WallTime now = clock_.wall();
    alerts_->on_post(post, created, now, notices);
    // Subscribers' mails go in the same event, written with it.
    cluster_->subscribers().add_post_mails(
        notices, post, created ? "incident.posted" : "incident.post_updated", now);
    return std::move(notices.events.front().notifications);
  };
  for (auto& req : requests) {
    auto held = std::make_shared<LoopRequests<PostCommand, PostChange>::Request>(std::move(req));
    const PostCommand& c = held->command;
    auto answer = [this, held](PostChange change) {
      if (change.code == PostChange::Code::kDone) {
        spdlog::info("post {} \"{}\": {}", change.post.id, change.post.title,
                     to_string(change.post.status()));
        publish_snapshot();
      }
      held->answer.set_value(std::move(change));
    };
    if (c.id != 0) {
      cluster_->posts().update(c.id, c.draft.status, c.draft.body, clock_.wall(), notifications,
                               std::move(answer));
      continue;
    }
    PostChange checked = new_post(c.draft, clock_.wall(), [this](const std::string& name) {
      return config_->find(name) != nullptr;
    });
    if (checked.code != PostChange::Code::kDone) {
      answer(std::move(checked));
      continue;
    }
    cluster_->posts().create(std::move(checked.post), notifications, std::move(answer));
  }
}

}  // namespace lookout
