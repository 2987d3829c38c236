#include "daemon/cluster_subscribers.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <set>
#include <vector>

#include "core/random.h"
#include "daemon/cluster_changes.h"
#include "store/lease_plan.h"
#include "store/pg_subscribers.h"

namespace lookout {
namespace {

// A subscriber's confirmation mail is sent by the node holding the lease of the outbox shard
// its number falls in, as an incident's notifications are.
int subscriber_shard(int64_t id) { return shard_of(fmt::format("subscriber/{}", id)); }

}  // namespace

ClusterSubscribers::ClusterSubscribers(EventLoop& loop, const Clock& clock, PgConnection& pg,
                                       const ClusterNode& node,
                                       std::shared_ptr<const Config> config)
    : clock_(clock),
      pg_(pg),
      node_(node),
      config_(std::move(config)),
      read_timer_(loop),
      expire_timer_(loop),
      self_(std::make_shared<ClusterSubscribers*>(this)) {}

ClusterSubscribers::~ClusterSubscribers() { *self_ = nullptr; }

void ClusterSubscribers::start(std::function<void()> changed,
                               std::function<void(const std::string&)> erased) {
  if (!config_->subscriptions) return;
  changed_ = std::move(changed);
  erased_ = std::move(erased);
  read();
  read_timer_.start_repeating(kReadEvery, [this] { read(); });
  expire_timer_.start_repeating(kExpireEvery, [this] { expire(); });
}

void ClusterSubscribers::stop() {
  read_timer_.stop();
  expire_timer_.stop();
}

SubscriberMailing ClusterSubscribers::mailing() const {
  return SubscriberMailing{config_->subscriptions ? config_->subscriptions->channel : "",
                           config_->server.public_url, config_->server.title,
                           node_.subscription_key()};
}

bool ClusterSubscribers::is_public(const std::string& monitor) const {
  const MonitorConfig* m = config_->find(monitor);
  return m != nullptr && m->is_public;
}

void ClusterSubscribers::add_incident_mails(AlertChanges& changes) const {
  if (!config_->subscriptions) return;
  lookout::add_incident_mails(
      changes, book_, mailing(), [this](const std::string& m) { return is_public(m); },
      [] { return random_hex(16); });
}

void ClusterSubscribers::add_post_mails(AlertChanges& out, const PostRecord& post,
                                        const std::string& event, WallTime now) const {
  if (!config_->subscriptions) return;
  lookout::add_post_mails(
      out, post, event, now, book_, mailing(),
      [this](const std::string& m) { return is_public(m); }, [] { return random_hex(16); });
}

void ClusterSubscribers::read() {
  if (in_flight_) return;
  in_flight_ = true;
  const int64_t known = version_;
  const PgStatement s = PgSubscribers::list(known);
  pg_.query(s.sql, s.params, [self = self_, known](const PgResult& answer) {
    ClusterSubscribers* c = *self;
    if (c == nullptr) return;
    c->in_flight_ = false;
    auto read = PgSubscribers::read(answer, known);
    if (!read) {
      const std::string error = answer_failure(answer);
      if (error != c->read_error_) {
        c->read_error_ = error;
        spdlog::warn(
            "cluster: cannot read the status page's subscribers from PostgreSQL ({}); mails go "
            "to those last read, read again every {} s",
            error, kReadEvery.count() / 1000);
      }
      return;
    }
    c->read_error_.clear();
    if (!read->rows) return;
    c->version_ = read->version;
    // Addresses erased through another node: mail to them this node's dispatcher holds is not
    // sent.
    std::set<std::string> live;
    for (const SubscriberRecord& r : *read->rows) live.insert(r.email);
    std::vector<std::string> gone;
    c->book_.each_confirmed([&](const SubscriberRecord& r) {
      if (live.count(r.email) == 0) gone.push_back(r.email);
    });
    c->book_.load(std::move(*read->rows));
    if (c->erased_) {
      for (const std::string& address : gone) c->erased_(address);
    }
    if (c->changed_) c->changed_();
  });
}

void ClusterSubscribers::expire() {
  const PgStatement s =
      PgSubscribers::expire(clock_.wall(), std::chrono::seconds(kConfirmLifetimeS));
  pg_.query(s.sql, s.params, [self = self_](const PgResult& answer) {
    ClusterSubscribers* c = *self;
    if (c == nullptr) return;
    const auto n = PgSubscribers::expired(answer);
    if (!n) {
      spdlog::warn(
          "cluster: cannot erase the subscribers who never confirmed from PostgreSQL ({}); "
          "tried again in an hour",
          answer_failure(answer));
      return;
    }
    if (*n > 0) spdlog::info("{} subscribers never confirmed and were erased", *n);
  });
}

void ClusterSubscribers::handle(const SubscriptionCommand& c,
                                std::function<void(SubscriptionAnswer)> done) {
  if (!config_->subscriptions) {
    done(SubscriptionAnswer::kOff);
    return;
  }
  if (!node_.joined() || !pg_.connected()) {
    done(SubscriptionAnswer::kUnavailable);
    return;
  }
  switch (c.kind) {
    case SubscriptionCommand::Kind::kSubscribe:
      subscribe(c.email, std::move(done));
      return;
    case SubscriptionCommand::Kind::kConfirm: {
      const int64_t id = c.id;
      // A link of an id erased since (unsubscribed, expired) or never given is not known.
      const WallTime now = clock_.wall();
      send(
          PgSubscribers::confirm(id, now), "confirm",
          [this, id, now](bool live) {
            if (!live) return SubscriptionAnswer::kUnknown;
            bool known = false;
            if (book_.confirm(id, now, known)) spdlog::info("subscriber {} confirmed", id);
            return SubscriptionAnswer::kDone;
          },
          std::move(done));
      return;
    }
    case SubscriptionCommand::Kind::kUnsubscribe: {
      const int64_t id = c.id;
      send(
          PgSubscribers::erase(id), "unsubscribe",
          [this, id](bool erased) {
            // Idempotent: a second click, or one after the address expired, says the same.
            if (erased) spdlog::info("subscriber {} unsubscribed and was erased", id);
            std::string address;
            if (book_.unsubscribe(id, address) && erased_) erased_(address);
            return SubscriptionAnswer::kDone;
          },
          std::move(done));
      return;
    }
  }
}

void ClusterSubscribers::subscribe(const std::string& email,
                                   std::function<void(SubscriptionAnswer)> done) {
  const WallTime now = clock_.wall();
  const SubscriberRecord* known = book_.find(email);
  switch (subscribe_step(known, book_.pending_count(), now)) {
    case SubscribeStep::kNothing:
      done(SubscriptionAnswer::kDone);
      return;
    case SubscribeStep::kFull:
      if (!told_full_ || clock_.mono() - *told_full_ >= std::chrono::hours{1}) {
        told_full_ = clock_.mono();
        spdlog::warn(
            "subscriptions: {} addresses wait for confirmation, the most lookout keeps; new "
            "ones are not taken (the form still answers as usual) until some are confirmed or "
            "expire after 7 days. Someone may be filling the form with addresses: see "
            "/api/v1/subscribers and lower [subscriptions] rate_limit",
            book_.pending_count());
      }
      done(SubscriptionAnswer::kDone);
      return;
    case SubscribeStep::kMailAgain: {
      SubscriberRecord s = *known;
      s.mailed_at = now;
      const OutboxRow mail = confirmation_mail(s, mailing(), now, random_hex(16));
      const int64_t id = s.id;
      send(
          PgSubscribers::mail_again(id, now, kConfirmMailEvery, mail, subscriber_shard(id)),
          "subscribe",
          [this, s](bool mailed) {
            if (mailed) {
              book_.put(s);
              spdlog::info("subscriber {} asked to subscribe; confirmation mail through {}", s.id,
                           config_->subscriptions->channel);
            }
            return SubscriptionAnswer::kDone;
          },
          std::move(done));
      return;
    }
    case SubscribeStep::kNew:
      break;
  }
  const PgStatement reserve = PgSubscribers::reserve_id();
  pg_.query(reserve.sql, reserve.params,
            [self = self_, email, now, done = std::move(done)](const PgResult& answer) mutable {
              ClusterSubscribers* c = *self;
              if (c == nullptr) return;
              const auto id = PgSubscribers::reserved_id(answer);
              if (!id) {
                spdlog::warn(
                    "cluster: a subscription was not taken: PostgreSQL gave it no "
                    "number ({}); the form answered 503, try again",
                    answer_failure(answer));
                done(SubscriptionAnswer::kUnavailable);
                return;
              }
              SubscriberRecord s;
              s.id = *id;
              s.email = email;
              s.created = now;
              s.mailed_at = now;
              const OutboxRow mail = confirmation_mail(s, c->mailing(), now, random_hex(16));
              // Taken on another node meanwhile: that one's mail is the one sent.
              c->send(
                  PgSubscribers::add(s, mail, subscriber_shard(s.id)), "subscribe",
                  [c, s](bool added) {
                    if (added) {
                      c->book_.put(s);
                      spdlog::info("subscriber {} asked to subscribe; confirmation mail through {}",
                                   s.id, c->config_->subscriptions->channel);
                    }
                    return SubscriptionAnswer::kDone;
                  },
                  std::move(done));
            });
}

void ClusterSubscribers::send(const PgStatement& s, const char* what,
                              std::function<SubscriptionAnswer(bool)> outcome,
                              std::function<void(SubscriptionAnswer)> done) {
  pg_.query(s.sql, s.params,
            [self = self_, what, outcome = std::move(outcome),
             done = std::move(done)](const PgResult& answer) mutable {
              ClusterSubscribers* c = *self;
              if (c == nullptr) return;
              const auto changed = PgSubscribers::changed(answer);
              if (!changed) {
                spdlog::warn(
                    "cluster: a request to {} was not recorded in PostgreSQL ({}); the page "
                    "answered 503, try again",
                    what, answer_failure(answer));
                done(SubscriptionAnswer::kUnavailable);
                return;
              }
              // The book has the change before the answer: the admin's counts read right after
              // it are current. The next read brings the whole book (the version moved).
              const SubscriptionAnswer a = outcome(*changed);
              if (c->changed_) c->changed_();
              done(a);
            });
}

}  // namespace lookout
