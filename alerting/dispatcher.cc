#include "alerting/dispatcher.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "alerting/backoff.h"
#include "alerting/channels/registry.h"
#include "alerting/message.h"
#include "core/curl_bridge.h"
#include "core/units.h"

namespace lookout {
namespace {
constexpr size_t kMaxInFlightPerChannel = 8;
// Subscriber mail uses at most this many of a channel's kMaxInFlightPerChannel.
constexpr size_t kSubscriberMailsInFlight = 4;
// A failing subscriber mail is told at most this often per channel (there may be thousands).
constexpr int64_t kSubscriberMailWarnEveryMs = 60'000;
// One message carries at most this many notifications; a bigger storm goes as several.
constexpr size_t kMaxBatch = 1000;

// "of incident 42", "of post 7" or "test", for log lines.
std::string what_it_is_about(const OutboxRow& row) {
  // A subscriber's mail wraps what it is about (alerting/subscribers.h); its event says enough.
  if (row.audience == Audience::kSubscriber) return "";
  if (is_post_event(row.event)) return fmt::format("of post {}", post_notice(post_of(row)).id);
  return row.incident_id == 0 ? "test" : fmt::format("of incident {}", row.incident_id);
}

}  // namespace

Dispatcher::Dispatcher(EventLoop& loop, CurlBridge& curl, const Clock& clock, Storage& store,
                       std::string ack_key)
    : Dispatcher(
          loop, curl, clock, [&store](DeliveryUpdate u) { store.update_delivery(std::move(u)); },
          std::move(ack_key)) {}

Dispatcher::Dispatcher(EventLoop& loop, CurlBridge& curl, const Clock& clock, DeliverySink sink,
                       std::string ack_key)
    : loop_(loop),
      curl_(curl),
      clock_(clock),
      sink_(std::move(sink)),
      ack_key_(std::move(ack_key)),
      timer_(loop) {}

Dispatcher::~Dispatcher() = default;

void Dispatcher::configure(const Config& config, const std::vector<OutboxRow>& delivered) {
  // Transfers in flight finish on the old channel objects' callbacks, so keep channels whose
  // settings are unchanged and let replaced ones go only when idle.
  std::map<std::string, std::unique_ptr<Channel>> next;
  give_up_.clear();
  for (const auto& c : config.channels) {
    auto channel = make_channel(c, curl_, clock_, config.server.public_url, config.redactor);
    channel->sign_acks_with(ack_key_);
    if (const auto old = channels_.find(c.name); old != channels_.end()) {
      if (old->second->config().type == c.type) channel->resume(old->second->resumable());
    } else {
      std::vector<OutboxRow> mine;
      for (const auto& row : delivered)
        if (row.channel == c.name) mine.push_back(row);
      if (!mine.empty()) channel->resume(mine);
    }
    next[c.name] = std::move(channel);
    give_up_[c.name] = c.give_up_after;
  }
  timing_.clear();
  for (const auto& r : config.routes)
    timing_[r.name] = GroupTiming{r.group_wait, r.group_interval, r.group_mode};
  for (auto& [name, ch] : channels_) {
    if (busy_.count(name) != 0 && busy_.at(name) > 0) retired_.push_back(std::move(ch));
  }
  channels_ = std::move(next);
  pump();
}

void Dispatcher::admit(OutboxRow row, int attempts, std::optional<int64_t> retry_due_ms,
                       uint64_t seq) {
  if (row.audience == Audience::kSubscriber) {
    admit_subscriber_mail(std::move(row), attempts, retry_due_ms, seq);
    return;
  }
  std::string key = group_key(row);
  const std::string id = row.id;
  Item& it = items_[id] =
      Item{std::move(row), attempts, 0, 0, seq, false, false, std::move(key), std::nullopt};
  if (retry_due_ms) {
    it.due_ms = *retry_due_ms;
    // A retry loaded at start has been due since before the restart; its creation is as
    // close as the outbox knows.
    it.first_due_ms = to_unix_ms(it.row.created);
    it.scheduled = true;
  } else if (seq <= committed_) {
    schedule(it);
  }
}

void Dispatcher::admit_subscriber_mail(OutboxRow row, int attempts,
                                       std::optional<int64_t> retry_due_ms, uint64_t seq) {
  const std::string id = row.id;
  Item& it = mail_[id] = Item{std::move(row), attempts, 0, 0, seq, false, false, "", std::nullopt};
  if (retry_due_ms || seq <= committed_) {
    it.due_ms = retry_due_ms.value_or(to_unix_ms(it.row.created));
    it.scheduled = true;
    mail_due_[it.row.channel].emplace(it.due_ms, id);
  } else {
    mail_uncommitted_.emplace_back(seq, id);
  }
}

Dispatcher::Item* Dispatcher::find(const std::string& id) {
  if (auto it = items_.find(id); it != items_.end()) return &it->second;
  if (auto it = mail_.find(id); it != mail_.end()) return &it->second;
  return nullptr;
}

bool Dispatcher::in_time(const Item& it, Duration wait) const {
  if (!it.send_by) return true;
  const auto ch = channels_.find(it.row.channel);
  // A channel no longer in the config fails the row at once.
  const Duration timeout = ch != channels_.end() ? ch->second->config().timeout : Duration{0};
  return clock_.mono() + wait + std::min(timeout, fit_most_) <= *it.send_by;
}

void Dispatcher::forget(const std::string& id) {
  if (const auto it = mail_.find(id); it != mail_.end()) {
    if (it->second.scheduled) mail_due_[it->second.row.channel].erase({it->second.due_ms, id});
    mail_.erase(it);
    return;
  }
  items_.erase(id);
}

void Dispatcher::add_claimed(std::vector<ClaimedRow> rows) {
  const int64_t now = to_unix_ms(clock_.wall());
  for (ClaimedRow& c : rows) {
    const std::string id = c.pending.row.id;
    if (Item* held = find(id)) {
      if (!held->in_flight) held->send_by = c.send_by;
      continue;
    }
    const int attempts = c.pending.attempts;
    admit(std::move(c.pending.row), attempts,
          attempts > 0 ? std::optional<int64_t>(now) : std::nullopt, 0);
    Item& it = *find(id);
    it.send_by = c.send_by;
    if (it.due_ms <= now || in_time(it, Duration{it.due_ms - now})) continue;
    // Its group goes after the claim: the table keeps it until then, and the claim that takes
    // it again finds the group due.
    sink_(DeliveryUpdate{id, to_string(DeliveryStatus::kPending), attempts, it.due_ms, "",
                         std::nullopt});
    forget(id);
  }
  refresh_stats();
  pump();
}

void Dispatcher::cancel_subscriber_mail(const std::string& address) {
  for (auto it = mail_.begin(); it != mail_.end();) {
    Item& item = it->second;
    if (item.row.recipient != address || item.in_flight) {
      ++it;
      continue;
    }
    if (item.scheduled) mail_due_[item.row.channel].erase({item.due_ms, item.row.id});
    it = mail_.erase(it);
  }
  refresh_stats();
}

void Dispatcher::schedule(Item& it) {
  // A route that left the config no longer gathers: its rows go as they come.
  const auto t = timing_.find(it.row.route);
  it.due_ms = groups_.admit(it.key, to_unix_ms(it.row.created),
                            t != timing_.end() ? t->second : GroupTiming{});
  if (it.first_due_ms == 0) it.first_due_ms = it.due_ms;
  it.scheduled = true;
}

void Dispatcher::add(AlertChanges changes, uint64_t seq) {
  for (auto& e : changes.events) {
    for (auto& n : e.notifications) admit(std::move(n), 0, std::nullopt, seq);
  }
  refresh_stats();
}

void Dispatcher::add_loaded(std::vector<PendingOutbox> rows) {
  // Rows never tried gather again as if they had just been made; retries keep their time.
  for (auto& p : rows) {
    admit(std::move(p.row), p.attempts,
          p.attempts > 0 ? std::optional<int64_t>(p.due_ms) : std::nullopt, 0);
  }
  refresh_stats();
  pump();
}

void Dispatcher::committed(uint64_t seq) {
  committed_ = std::max(committed_, seq);
  // Rows join their group only once committed: a row still waiting for its transaction must
  // not hold a place in a message that leaves without it (it would then go alone).
  // Oldest first: the first row scheduled sets its group's time (a backlog committed at once
  // after storage was away must not wait from its newest row).
  std::vector<Item*> ready;
  for (auto& [id, it] : items_) {
    if (!it.scheduled && it.seq <= committed_) ready.push_back(&it);
  }
  std::sort(ready.begin(), ready.end(), [](const Item* a, const Item* b) {
    return a->row.created != b->row.created ? a->row.created < b->row.created : a->seq < b->seq;
  });
  for (Item* it : ready) schedule(*it);
  // Subscriber mail is committed in the order it was added.
  while (!mail_uncommitted_.empty() && mail_uncommitted_.front().first <= committed_) {
    if (auto found = mail_.find(mail_uncommitted_.front().second);
        found != mail_.end() && !found->second.scheduled) {
      Item& it = found->second;
      it.due_ms = to_unix_ms(it.row.created);
      it.scheduled = true;
      mail_due_[it.row.channel].emplace(it.due_ms, it.row.id);
    }
    mail_uncommitted_.pop_front();
  }
  if (!ready.empty()) refresh_stats();
  pump();
}

size_t Dispatcher::in_flight() const {
  size_t n = 0;
  for (const auto& channel_busy : busy_) n += channel_busy.second;
  return n;
}

void Dispatcher::stop() {
  stopped_ = true;
  timer_.stop();
}

void Dispatcher::pump() {
  if (stopped_) return;
  const int64_t now = to_unix_ms(clock_.wall());
  const uint64_t run_out = stats_.claims_run_out;
  std::optional<int64_t> next_due;
  // The due rows of each group, oldest first; a row of no group is a group of its own.
  std::map<std::string, std::vector<std::pair<int64_t, std::string>>> ready;
  std::vector<std::string> late;
  for (const auto& [id, it] : items_) {
    if (it.in_flight || !it.scheduled) continue;
    if (it.due_ms > now) {
      next_due = next_due ? std::min(*next_due, it.due_ms) : it.due_ms;
      continue;
    }
    if (keys_in_flight_.count(it.key) != 0) continue;
    if (!in_time(it)) {
      late.push_back(id);
      continue;
    }
    ready[it.key.empty() ? "\x1e" + id : it.key].emplace_back(to_unix_ms(it.row.created), id);
  }
  for (const std::string& id : late) items_.erase(id);
  stats_.claims_run_out += late.size();
  for (auto& [key, due] : ready) {
    const std::string& channel = items_.at(due.front().second).row.channel;
    if (busy_[channel] >= kMaxInFlightPerChannel) continue;
    std::sort(due.begin(), due.end());
    if (due.size() > kMaxBatch) due.resize(kMaxBatch);
    std::vector<std::string> ids;
    ids.reserve(due.size());
    for (auto& [created, id] : due) ids.push_back(std::move(id));
    std::string group = items_.at(ids.front()).key;
    send(std::move(group), std::move(ids), now);
  }
  if (const auto mail_due = pump_subscriber_mail(now))
    next_due = next_due ? std::min(*next_due, *mail_due) : *mail_due;
  if (stats_.claims_run_out != run_out) refresh_stats();
  if (next_due) {
    timer_.start(Duration{std::max<int64_t>(0, *next_due - now)}, [this] { pump(); });
  }
}

std::optional<int64_t> Dispatcher::pump_subscriber_mail(int64_t now) {
  std::optional<int64_t> next;
  for (auto& [channel, due] : mail_due_) {
    while (!due.empty()) {
      const int64_t at = due.begin()->first;
      if (at > now) {
        next = next ? std::min(*next, at) : at;
        break;
      }
      if (mail_busy_[channel] >= kSubscriberMailsInFlight ||
          busy_[channel] >= kMaxInFlightPerChannel) {
        break;  // a send that finishes pumps again
      }
      std::string id = due.begin()->second;
      due.erase(due.begin());
      if (!in_time(mail_.at(id))) {
        mail_.erase(id);
        ++stats_.claims_run_out;
        continue;
      }
      ++mail_busy_[channel];
      send("", {std::move(id)}, now);
    }
  }
  return next;
}

void Dispatcher::send(std::string key, std::vector<std::string> ids, int64_t now_ms) {
  std::vector<OutboxRow> rows;
  rows.reserve(ids.size());
  for (const auto& id : ids) {
    Item& it = *find(id);
    it.in_flight = true;
    ++it.attempts;
    rows.push_back(it.row);
  }
  order_worst_first(rows);
  groups_.sent(key, now_ms);
  const std::string channel = rows.front().channel;
  ++busy_[channel];
  if (!key.empty()) keys_in_flight_.insert(key);
  auto done = [this, key = std::move(key), ids = std::move(ids)](DeliveryOutcome o) {
    finish(key, ids, std::move(o));
  };
  auto ch = channels_.find(channel);
  if (ch == channels_.end()) {
    curl_.defer([done = std::move(done), channel] {
      done({DeliveryOutcome::Kind::kPermanent,
            fmt::format("channel {} is no longer in the config", channel)});
    });
    return;
  }
  ch->second->send(rows, std::move(done));
}

void Dispatcher::finish(const std::string& key, const std::vector<std::string>& ids,
                        DeliveryOutcome o) {
  keys_in_flight_.erase(key);
  std::vector<Item*> batch;
  for (const auto& id : ids) {
    if (Item* found = find(id)) batch.push_back(found);
  }
  if (batch.empty()) return;
  const std::string channel = batch.front()->row.channel;
  const bool subscriber = batch.front()->row.audience == Audience::kSubscriber;
  if (busy_[channel] > 0) --busy_[channel];
  if (subscriber && mail_busy_[channel] > 0) --mail_busy_[channel];
  const int64_t now_ms = to_unix_ms(clock_.wall());
  const WallTime now = from_unix_ms(now_ms);
  const auto give_up = give_up_.count(channel) != 0 ? give_up_.at(channel) : Duration{86'400'000};
  int attempts = 0;
  for (const Item* it : batch) attempts = std::max(attempts, it->attempts);
  // One backoff for the whole batch, so it is retried as one message.
  const Duration wait =
      retry_delay(attempts, std::uniform_real_distribution<double>(0, 1)(rng_), o.retry_after);

  const OutboxRow& first = batch.front()->row;
  const std::string what = batch.size() == 1
                               ? fmt::format("{} {}", first.event, what_it_is_about(first))
                               : fmt::format("a group of {} notifications", batch.size());
  // A subscriber's address is theirs: it appears in no log.
  const std::string where = subscriber ? fmt::format("through {} to a subscriber", channel)
                            : first.recipient.empty()
                                ? fmt::format("through {}", channel)
                                : fmt::format("through {} to {}", channel, first.recipient);
  size_t gave_up = 0;
  for (Item* it : batch) {
    it->in_flight = false;
    const DeliveryStatus status = status_after_attempt(o.kind, it->row.created, now, give_up);
    DeliveryUpdate u{it->row.id, to_string(status), it->attempts, now_ms, o.detail, std::nullopt};
    std::string outcome = to_string(o.kind);
    if (status == DeliveryStatus::kSent) {
      u.sent_ms = now_ms;
    } else if (status == DeliveryStatus::kGaveUp) {
      outcome = "gave_up";
      ++gave_up;
    } else if (status == DeliveryStatus::kPending) {
      u.due_ms = now_ms + wait.count();
      it->due_ms = u.due_ms;
    }
    ++stats_.outcomes[{channel, outcome}];
    sink_(std::move(u));
    if (it->send_by) {
      // The outbox table keeps a retry until it is due, and it is claimed again then.
      forget(it->row.id);
    } else if (!subscriber) {
      if (outcome != "retry") items_.erase(it->row.id);
    } else if (outcome != "retry") {
      mail_.erase(it->row.id);
    } else {
      mail_due_[channel].emplace(it->due_ms, it->row.id);
    }
  }
  if (subscriber) {
    // Thousands of these may fail together when the mail server is away: delivered ones are
    // counted in the metrics, a failure is told once a minute.
    if (o.kind == DeliveryOutcome::Kind::kDelivered) {
      spdlog::debug("{} delivered {} ({})", what, where, o.detail);
    } else if (now_ms - mail_warned_ms_[channel] >= kSubscriberMailWarnEveryMs) {
      mail_warned_ms_[channel] = now_ms;
      spdlog::warn("{} {} not delivered ({}); {} subscriber mails waiting{}", what, where, o.detail,
                   mail_.size(),
                   o.kind == DeliveryOutcome::Kind::kPermanent ? "; this one is not retried" : "");
    }
  } else if (o.kind == DeliveryOutcome::Kind::kDelivered) {
    spdlog::info("{} delivered {} ({})", what, where, o.detail);
  } else if (o.kind == DeliveryOutcome::Kind::kPermanent) {
    spdlog::error("{} {} failed and will not be retried: {}; check the channel's settings", what,
                  where, o.detail);
  } else {
    if (gave_up > 0) {
      spdlog::error("{} {}: giving up on {} of them after {} attempts over {} (last: {})", what,
                    where, gave_up, attempts, format_duration(give_up), o.detail);
    }
    if (gave_up < batch.size()) {
      spdlog::warn("{} {} not delivered ({}); attempt {} in {}", what, where, o.detail,
                   attempts + 1, format_duration(wait));
    }
  }
  if (!retired_.empty()) {
    // Channels replaced by a reload go once nothing of theirs is in flight; not inside their
    // own callback.
    curl_.defer([this] {
      auto in_flight = [](const auto& kv) { return kv.second.in_flight; };
      const bool idle = std::none_of(items_.begin(), items_.end(), in_flight) &&
                        std::none_of(mail_.begin(), mail_.end(), in_flight);
      if (idle) retired_.clear();
    });
  }
  refresh_stats();
  pump();
}

void Dispatcher::refresh_stats() {
  stats_.pending = items_.size();
  stats_.subscriber_mail_pending = mail_.size();
  stats_.oldest_pending.reset();
  stats_.oldest_due.reset();
  stats_.oldest_due_channel.clear();
  for (const auto& [id, it] : items_) {
    if (!stats_.oldest_pending || it.row.created < *stats_.oldest_pending)
      stats_.oldest_pending = it.row.created;
    if (it.scheduled &&
        (!stats_.oldest_due || from_unix_ms(it.first_due_ms) < *stats_.oldest_due)) {
      stats_.oldest_due = from_unix_ms(it.first_due_ms);
      stats_.oldest_due_channel = it.row.channel;
    }
  }
}

}  // namespace lookout
