#include "alerting/dispatcher.h"

#include <spdlog/spdlog.h>

#include "daemon/curl_bridge.h"

#include <algorithm>
#include <cmath>

#include "daemon/units.h"

namespace lookout {
namespace {
constexpr size_t kMaxInFlightPerChannel = 8;
}

Dispatcher::Dispatcher(EventLoop& loop, CurlBridge& curl, const Clock& clock, Store& store)
    : loop_(loop), curl_(curl), clock_(clock), store_(store), timer_(loop) {}

Dispatcher::~Dispatcher() = default;

Duration Dispatcher::backoff(int attempts, double jitter01) {
  const double base = std::min(300.0, std::pow(2.0, std::max(0, attempts - 1)));
  return Duration{static_cast<int64_t>(base * 1000.0 * (0.75 + 0.5 * jitter01))};
}

void Dispatcher::configure(const Config& config) {
  // Transfers in flight finish on the old channel objects' callbacks, so keep channels whose
  // settings are unchanged and let replaced ones go only when idle.
  std::map<std::string, std::unique_ptr<Channel>> next;
  give_up_.clear();
  for (const auto& c : config.channels) {
    next[c.name] = make_channel(c, curl_, clock_, config.server.public_url, config.redactor);
    give_up_[c.name] = c.give_up_after;
  }
  for (auto& [name, ch] : channels_) {
    const bool busy = std::any_of(items_.begin(), items_.end(),
                                  [&](const auto& kv) { return kv.second.in_flight && kv.second.row.channel == name; });
    if (busy) retired_.push_back(std::move(ch));
  }
  channels_ = std::move(next);
  pump();
}

void Dispatcher::add(const AlertChanges& changes, uint64_t seq) {
  for (const auto& e : changes.events) {
    for (const auto& n : e.notifications) items_[n.id] = Item{n, 0, to_unix_ms(n.created), seq, false};
  }
  refresh_stats();
}

void Dispatcher::add_loaded(std::vector<PendingOutbox> rows) {
  for (auto& p : rows) {
    const std::string id = p.row.id;
    items_[id] = Item{std::move(p.row), p.attempts, p.due_ms, 0, false};
  }
  refresh_stats();
  pump();
}

void Dispatcher::committed(uint64_t seq) {
  committed_ = std::max(committed_, seq);
  pump();
}

void Dispatcher::stop() {
  stopped_ = true;
  timer_.stop();
}

void Dispatcher::pump() {
  if (stopped_) return;
  const int64_t now = to_unix_ms(clock_.wall());
  std::map<std::string, size_t> busy;
  for (const auto& [id, it] : items_) {
    if (it.in_flight) ++busy[it.row.channel];
  }
  std::optional<int64_t> next_due;
  std::vector<std::string> to_send;
  for (auto& [id, it] : items_) {
    if (it.in_flight || it.seq > committed_) continue;
    if (it.due_ms > now) {
      next_due = next_due ? std::min(*next_due, it.due_ms) : it.due_ms;
      continue;
    }
    if (busy[it.row.channel] >= kMaxInFlightPerChannel) continue;
    ++busy[it.row.channel];
    to_send.push_back(id);
  }
  for (const auto& id : to_send) {
    Item& it = items_.at(id);
    auto ch = channels_.find(it.row.channel);
    if (ch == channels_.end()) {
      finish(id, {DeliveryOutcome::Kind::kPermanent, fmt::format("channel {} is no longer in the config", it.row.channel)});
      continue;
    }
    it.in_flight = true;
    ++it.attempts;
    ch->second->send(it.row, [this, id](DeliveryOutcome o) { finish(id, std::move(o)); });
  }
  if (next_due) {
    timer_.start(Duration{std::max<int64_t>(0, *next_due - now)}, [this] { pump(); });
  }
}

void Dispatcher::finish(const std::string& id, DeliveryOutcome o) {
  auto found = items_.find(id);
  if (found == items_.end()) return;
  Item& it = found->second;
  it.in_flight = false;
  const WallTime now = clock_.wall();
  const int64_t now_ms = to_unix_ms(now);
  DeliveryUpdate u{id, "", it.attempts, now_ms, o.detail, std::nullopt};
  std::string outcome = to_string(o.kind);
  if (o.kind == DeliveryOutcome::Kind::kDelivered) {
    u.status = "sent";
    u.sent_ms = now_ms;
    spdlog::info("{} for {} delivered through {}{} ({})", it.row.event, it.row.incident_id == 0 ? "a test" : fmt::format("incident {}", it.row.incident_id),
                 it.row.channel, it.row.recipient.empty() ? "" : " to " + it.row.recipient, o.detail);
  } else if (o.kind == DeliveryOutcome::Kind::kPermanent) {
    u.status = "failed";
    spdlog::error("{} {} through {} failed and will not be retried: {}; check the channel's settings", it.row.event, id,
                  it.row.channel, o.detail);
  } else {
    const auto give_up = give_up_.count(it.row.channel) != 0 ? give_up_.at(it.row.channel) : Duration{86'400'000};
    if (now - it.row.created >= give_up) {
      u.status = "gave_up";
      outcome = "gave_up";
      spdlog::error("{} {} through {}: giving up after {} attempts over {} (last: {})", it.row.event, id, it.row.channel,
                    it.attempts, format_duration(give_up), o.detail);
    } else {
      u.status = "pending";
      const Duration wait = backoff(it.attempts, std::uniform_real_distribution<double>(0, 1)(rng_));
      u.due_ms = now_ms + wait.count();
      it.due_ms = u.due_ms;
      spdlog::warn("{} {} through {} not delivered ({}); attempt {} in {}", it.row.event, id, it.row.channel, o.detail,
                   it.attempts + 1, format_duration(wait));
    }
  }
  ++stats_.outcomes[{it.row.channel, outcome}];
  store_.update_delivery(std::move(u));
  if (outcome != "retry") items_.erase(found);
  if (!retired_.empty()) {
    // Channels replaced by a reload go once nothing of theirs is in flight; not inside their
    // own callback.
    curl_.defer([this] {
      const bool idle = std::none_of(items_.begin(), items_.end(), [](const auto& kv) { return kv.second.in_flight; });
      if (idle) retired_.clear();
    });
  }
  refresh_stats();
  pump();
}

void Dispatcher::refresh_stats() {
  stats_.pending = items_.size();
  stats_.oldest_pending.reset();
  for (const auto& [id, it] : items_) {
    if (!stats_.oldest_pending || it.row.created < *stats_.oldest_pending) stats_.oldest_pending = it.row.created;
  }
}

}  // namespace lookout
