#include "daemon/cluster_posts.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/random.h"
#include "daemon/cluster_changes.h"
#include "store/lease_plan.h"
#include "store/pg_posts.h"

namespace lookout {
namespace {

constexpr const char* kUniqueViolation = "23505";

std::string check_posts() {
  return fmt::format("GET /api/v1/posts shows which within {} s",
                     ClusterPosts::kReadEvery.count() / 1000);
}

// A post's notifications are sent by the node holding their shard's lease, as a monitor's are;
// spread over the shards by the post's number.
int post_shard(int64_t id) { return shard_of(fmt::format("post/{}", id)); }

}  // namespace

ClusterPosts::ClusterPosts(EventLoop& loop, PgConnection& pg, const ClusterNode& node)
    : pg_(pg),
      node_(node),
      timer_(loop),
      retry_timer_(loop),
      self_(std::make_shared<ClusterPosts*>(this)) {}

ClusterPosts::~ClusterPosts() { *self_ = nullptr; }

void ClusterPosts::start(std::function<void(const std::vector<PostRecord>&)> posts) {
  on_posts_ = std::move(posts);
  read();
  timer_.start_repeating(kReadEvery, [this] { read(); });
}

void ClusterPosts::stop() {
  timer_.stop();
  retry_timer_.stop();
}

void ClusterPosts::read() {
  if (in_flight_) return;
  in_flight_ = true;
  const int64_t known = version_;
  const PgStatement s = PgPosts::list(known);
  pg_.query(s.sql, s.params, [self = self_, known](const PgResult& answer) {
    ClusterPosts* p = *self;
    if (p == nullptr) return;
    p->in_flight_ = false;
    auto read = PgPosts::read(answer, known);
    if (!read) {
      // The posts last read stay on the page; /healthz says when the database is away.
      const std::string error = answer_failure(answer);
      if (error != p->read_error_) {
        p->read_error_ = error;
        spdlog::warn(
            "cluster: cannot read the status page's posts from PostgreSQL ({}); those last read "
            "stay on the page, read again every {} s",
            error, kReadEvery.count() / 1000);
      }
      return;
    }
    p->read_error_.clear();
    if (!read->posts) return;
    p->version_ = read->version;
    p->posts_.load(std::move(*read->posts));
    if (p->on_posts_) p->on_posts_(p->posts_.all());
  });
}

PostChange ClusterPosts::unavailable(std::string error) const {
  PostChange c;
  c.code = PostChange::Code::kUnavailable;
  c.error = std::move(error);
  return c;
}

void ClusterPosts::in_turn(std::function<void(Done)> change, Done done) {
  changes_.emplace_back([this, change = std::move(change), done = std::move(done)]() mutable {
    change([self = self_, done = std::move(done)](PostChange c) {
      done(std::move(c));
      ClusterPosts* p = *self;
      if (p == nullptr) return;
      p->changing_ = false;
      p->next_change();
    });
  });
  next_change();
}

void ClusterPosts::next_change() {
  if (changing_ || changes_.empty()) return;
  changing_ = true;
  auto change = std::move(changes_.front());
  changes_.pop_front();
  change();
}

void ClusterPosts::create(PostRecord post, Notifications notifications, Done done) {
  in_turn(
      [this, post = std::move(post), notifications = std::move(notifications)](Done d) mutable {
        create_now(std::move(post), std::move(notifications), std::move(d));
      },
      std::move(done));
}

void ClusterPosts::create_now(PostRecord post, Notifications notifications, Done done) {
  if (auto why = change_unsendable(node_, pg_, "the post", "made")) {
    done(unavailable(std::move(*why)));
    return;
  }
  const PgStatement s = PgPosts::reserve_id();
  pg_.query(s.sql, s.params,
            [self = self_, post = std::move(post), notifications = std::move(notifications),
             done = std::move(done)](const PgResult& answer) mutable {
              ClusterPosts* p = *self;
              if (p == nullptr) return;
              const auto id = PgPosts::reserved_id(answer);
              if (!id) {
                // Only a number was asked for: nothing was written.
                done(p->unavailable(fmt::format(
                    "PostgreSQL did not give the post a number ({}): the post was not made; try "
                    "again",
                    answer_failure(answer))));
                return;
              }
              post.id = *id;
              // A fresh number is never written twice.
              p->write(std::move(post), true, notifications, std::move(done), [] {});
            });
}

void ClusterPosts::update(int64_t id, std::string status, std::string body, WallTime now,
                          Notifications notifications, Done done) {
  in_turn(
      [this, id, status = std::move(status), body = std::move(body), now,
       notifications = std::move(notifications)](Done d) mutable {
        update_attempt(id, std::move(status), std::move(body), now, std::move(notifications),
                       std::move(d), kUpdateAttempts);
      },
      std::move(done));
}

void ClusterPosts::update_attempt(int64_t id, std::string status, std::string body, WallTime now,
                                  Notifications notifications, Done done, int attempts_left) {
  if (auto why = change_unsendable(node_, pg_, "the update", "made")) {
    done(unavailable(std::move(*why)));
    return;
  }
  const PgStatement s = PgPosts::one(id);
  pg_.query(
      s.sql, s.params,
      [self = self_, id, status = std::move(status), body = std::move(body), now,
       notifications = std::move(notifications), done = std::move(done),
       attempts_left](const PgResult& answer) mutable {
        ClusterPosts* p = *self;
        if (p == nullptr) return;
        auto read = PgPosts::post(answer);
        if (!read) {
          done(p->unavailable(fmt::format(
              "PostgreSQL could not read the post ({}): the update was not made; try again",
              answer_failure(answer))));
          return;
        }
        if (!*read) {
          PostChange c;
          c.code = PostChange::Code::kUnknownPost;
          done(std::move(c));
          return;
        }
        PostChange change = updated_post(std::move(**read), status, body, now);
        if (change.code != PostChange::Code::kDone) {
          done(std::move(change));
          return;
        }
        auto again = [self, id, status, body, now, notifications, done, attempts_left]() mutable {
          ClusterPosts* q = *self;
          if (q == nullptr) return;
          if (attempts_left <= 1) {
            done(q->unavailable(fmt::format(
                "other nodes updated the post each time it was read ({} times): the update "
                "was not made; try again",
                kUpdateAttempts)));
            return;
          }
          const int tried = kUpdateAttempts - attempts_left + 1;
          const Duration wait =
              kRetryStep * tried + Duration{std::stoul(random_hex(1), nullptr, 16) % 50};
          q->retry_timer_.start(wait, [self, id, status = std::move(status), body = std::move(body),
                                       now, notifications = std::move(notifications),
                                       done = std::move(done), attempts_left]() mutable {
            ClusterPosts* r = *self;
            if (r == nullptr) return;
            r->update_attempt(id, std::move(status), std::move(body), now, std::move(notifications),
                              std::move(done), attempts_left - 1);
          });
        };
        p->write(std::move(change.post), false, notifications, done, std::move(again));
      });
}

void ClusterPosts::write(PostRecord post, bool created, const Notifications& notifications,
                         Done done, std::function<void()> conflict) {
  const PgStatement s =
      PgPosts::write(post, node_.node(), notifications(post, created), post_shard(post.id));
  pg_.query(s.sql, s.params,
            [self = self_, post = std::move(post), created, done = std::move(done),
             conflict = std::move(conflict)](const PgResult& answer) {
              ClusterPosts* p = *self;
              if (p == nullptr) return;
              if (!created && answer.sqlstate == kUniqueViolation) {
                conflict();
                return;
              }
              if (!PgPosts::written(answer)) {
                done(p->unavailable(change_failed(
                    answer, p->pg_, created ? "the post" : "the update", "made", check_posts())));
                return;
              }
              p->keep(post);
              PostChange c;
              c.post = post;
              done(std::move(c));
            });
}

void ClusterPosts::keep(const PostRecord& post) {
  posts_.put(post);
  if (on_posts_) on_posts_(posts_.all());
}

}  // namespace lookout
