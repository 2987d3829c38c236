// Email subscribers of the status page, on the loop: the book (alerting/subscribers.h) decides,
// storage keeps each change, and their mails join the outbox with the event they are about.
#include <spdlog/spdlog.h>

#include "core/random.h"
#include "daemon/daemon.h"

namespace lookout {

std::optional<SubscriptionAnswer> Daemon::request_subscription(SubscriptionCommand command) {
  return subscription_requests_.ask(std::move(command), *ack_async_);
}

SubscriberMailing Daemon::mailing() const {
  return SubscriberMailing{config_->subscriptions ? config_->subscriptions->channel : "",
                           config_->server.public_url, config_->server.title, subscription_key_};
}

bool Daemon::is_public(const std::string& monitor) const {
  const MonitorConfig* m = config_->find(monitor);
  return m != nullptr && m->is_public;
}

void Daemon::drain_subscription_requests() {
  auto requests = subscription_requests_.take();
  if (requests.empty()) return;
  if (cluster_) {
    // The cluster's subscribers are in PostgreSQL (daemon/cluster_subscribers.h); each request
    // is answered once the node's book has its change.
    for (auto& req : requests) {
      auto held = std::make_shared<LoopRequests<SubscriptionCommand, SubscriptionAnswer>::Request>(
          std::move(req));
      cluster_->subscribers().handle(held->command, [this, held](SubscriptionAnswer a) {
        if (a == SubscriptionAnswer::kDone) publish_snapshot();
        held->answer.set_value(a);
      });
    }
    return;
  }
  const WallTime now = clock_.wall();
  AlertChanges mails;
  std::vector<SubscriptionAnswer> answers;
  bool changed = false;
  for (auto& req : requests) {
    const SubscriptionCommand& c = req.command;
    if (!config_->subscriptions) {
      answers.push_back(SubscriptionAnswer::kOff);
      continue;
    }
    SubscriptionAnswer answer = SubscriptionAnswer::kDone;
    switch (c.kind) {
      case SubscriptionCommand::Kind::kSubscribe: {
        auto s = subscribers_.subscribe(c.email, now);
        if (s.full && (!told_subscribers_full_ ||
                       clock_.mono() - *told_subscribers_full_ >= std::chrono::hours{1})) {
          told_subscribers_full_ = clock_.mono();
          spdlog::warn(
              "subscriptions: {} addresses wait for confirmation, the most lookout keeps; new "
              "ones are not taken (the form still answers as usual) until some are confirmed or "
              "expire after 7 days. Someone may be filling the form with addresses: see "
              "/api/v1/subscribers and lower [subscriptions] rate_limit",
              subscribers_.pending_count());
        }
        if (s.changed) {
          store_->put_subscriber(*s.changed);
          changed = true;
        }
        if (s.mail_confirmation) {
          spdlog::info("subscriber {} asked to subscribe; confirmation mail through {}",
                       s.changed->id, config_->subscriptions->channel);
          mails.events.push_back(
              EventRecord{0,
                          "subscription.confirm",
                          now,
                          {confirmation_mail(*s.changed, mailing(), now, random_hex(16))}});
        }
        break;
      }
      case SubscriptionCommand::Kind::kConfirm: {
        bool known = false;
        if (auto s = subscribers_.confirm(c.id, now, known)) {
          spdlog::info("subscriber {} confirmed; {} subscribers", c.id,
                       subscribers_.confirmed_count());
          store_->put_subscriber(*s);
          changed = true;
        }
        if (!known) answer = SubscriptionAnswer::kUnknown;
        break;
      }
      case SubscriptionCommand::Kind::kUnsubscribe: {
        std::string address;
        if (auto s = subscribers_.unsubscribe(c.id, address)) {
          spdlog::info("subscriber {} unsubscribed and was erased", c.id);
          store_->put_subscriber(*s);
          dispatcher_->cancel_subscriber_mail(address);
          changed = true;
        }
        break;
      }
    }
    answers.push_back(answer);
  }
  record(std::move(mails));
  // The admin's counts are shown before the answer: a count read right after it is current.
  if (changed) {
    dirty_ = true;
    publish_snapshot();
  }
  answer_once_committed(
      decltype(subscription_requests_)::answering(std::move(requests), std::move(answers)));
}

void Daemon::expire_subscriptions() {
  for (const auto& s : subscribers_.expire(clock_.wall())) {
    spdlog::info("subscriber {} never confirmed and was erased", s.id);
    store_->put_subscriber(s);
  }
}

}  // namespace lookout
