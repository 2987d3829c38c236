#include "alerting/subscribers.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "alerting/incidents.h"
#include "alerting/posts.h"
#include "core/text.h"

namespace lookout {
namespace {

// The part of every payload that is the same for all subscribers of one event, as JSON object
// members without braces; each row adds its own unsubscribe link in front.
std::string shared_members(const SubscriberMailing& m, const char* kind, const char* what,
                           const nlohmann::json& about) {
  nlohmann::json j{{"kind", kind}, {"title", m.title}, {"page_url", m.public_url}, {what, about}};
  std::string s = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return s.substr(1, s.size() - 2);
}

OutboxRow subscriber_row(const SubscriberRecord& s, const SubscriberMailing& m,
                         const UnsubscribeLinks& unsubscribe, int64_t incident_id,
                         const std::string& event, WallTime at, const std::string& shared,
                         std::string id) {
  OutboxRow row;
  row.id = "evt_" + std::move(id);
  row.incident_id = incident_id;
  row.event = event;
  row.channel = m.channel;
  row.recipient = s.email;
  row.created = at;
  row.audience = Audience::kSubscriber;
  const std::string url = fmt::format("{}/unsubscribe/{}", m.public_url, unsubscribe.token(s.id));
  row.payload.reserve(shared.size() + url.size() + 24);
  row.payload.append("{\"unsubscribe_url\":\"")
      .append(url)
      .append("\",")
      .append(shared)
      .append("}");
  return row;
}

void mail_everyone(EventRecord& e, const SubscriberBook& book, const SubscriberMailing& m,
                   const std::string& shared, const std::function<std::string()>& ids) {
  e.notifications.reserve(e.notifications.size() + book.confirmed_count());
  // One random id for the event's mails, each made unique by its subscriber's id: a fan-out to
  // 10,000 subscribers draws randomness once, not 10,000 times.
  const std::string base = ids();
  const UnsubscribeLinks unsubscribe(m.key);
  book.each_confirmed([&](const SubscriberRecord& s) {
    e.notifications.push_back(subscriber_row(s, m, unsubscribe, e.incident_id, e.event, e.at,
                                             shared, fmt::format("{}_{}", base, s.id)));
  });
}

}  // namespace

void SubscriberBook::load(std::vector<SubscriberRecord> rows) {
  rows_.clear();
  by_email_.clear();
  confirmed_ = 0;
  for (auto& r : rows) {
    next_id_ = std::max(next_id_, r.id + 1);
    if (!r.erased()) by_email_[ascii_lower(r.email)] = r.id;
    if (r.confirmed()) ++confirmed_;
    rows_[r.id] = std::move(r);
  }
}

SubscribeStep subscribe_step(const SubscriberRecord* known, size_t pending, WallTime now) {
  if (known != nullptr) {
    if (known->confirmed() || (known->mailed_at && now - *known->mailed_at < kConfirmMailEvery))
      return SubscribeStep::kNothing;
    return SubscribeStep::kMailAgain;
  }
  return pending >= kMaxPendingSubscribers ? SubscribeStep::kFull : SubscribeStep::kNew;
}

void SubscriberBook::put(SubscriberRecord s) {
  if (const auto old = rows_.find(s.id); old != rows_.end()) erase(old->second);
  next_id_ = std::max(next_id_, s.id + 1);
  if (!s.erased()) by_email_[ascii_lower(s.email)] = s.id;
  if (s.confirmed()) ++confirmed_;
  rows_[s.id] = std::move(s);
}

const SubscriberRecord* SubscriberBook::find(const std::string& email) const {
  const auto found = by_email_.find(ascii_lower(email));
  return found == by_email_.end() ? nullptr : &rows_.at(found->second);
}

SubscriberBook::Subscribed SubscriberBook::subscribe(const std::string& email, WallTime now) {
  Subscribed out;
  const SubscriberRecord* known = find(email);
  switch (subscribe_step(known, pending_count(), now)) {
    case SubscribeStep::kNothing:
      return out;
    case SubscribeStep::kFull:
      out.full = true;
      return out;
    case SubscribeStep::kMailAgain: {
      SubscriberRecord& s = rows_.at(known->id);
      s.mailed_at = now;
      out.changed = s;
      out.mail_confirmation = true;
      return out;
    }
    case SubscribeStep::kNew:
      break;
  }
  const std::string k = ascii_lower(email);
  SubscriberRecord s;
  s.id = next_id_++;
  s.email = email;
  s.created = now;
  s.mailed_at = now;
  by_email_[k] = s.id;
  out.changed = s;
  out.mail_confirmation = true;
  rows_[s.id] = std::move(s);
  return out;
}

std::optional<SubscriberRecord> SubscriberBook::confirm(int64_t id, WallTime now, bool& known) {
  const auto found = rows_.find(id);
  known = found != rows_.end() && !found->second.erased();
  if (!known || found->second.confirmed()) return std::nullopt;
  found->second.confirmed_at = now;
  ++confirmed_;
  return found->second;
}

void SubscriberBook::erase(SubscriberRecord& s) {
  if (s.confirmed()) --confirmed_;
  by_email_.erase(ascii_lower(s.email));
  s.email.clear();
  s.confirmed_at.reset();
  s.mailed_at.reset();
}

std::optional<SubscriberRecord> SubscriberBook::unsubscribe(int64_t id, std::string& address) {
  const auto found = rows_.find(id);
  if (found == rows_.end() || found->second.erased()) return std::nullopt;
  address = found->second.email;
  erase(found->second);
  return found->second;
}

std::vector<SubscriberRecord> SubscriberBook::expire(WallTime now) {
  std::vector<SubscriberRecord> out;
  for (auto& [id, s] : rows_) {
    if (s.erased() || s.confirmed()) continue;
    // The newest link was mailed at mailed_at and works kConfirmLifetimeS from then.
    const WallTime last = s.mailed_at.value_or(s.created);
    if (now - last < std::chrono::seconds(kConfirmLifetimeS)) continue;
    erase(s);
    out.push_back(s);
  }
  return out;
}

OutboxRow confirmation_mail(const SubscriberRecord& s, const SubscriberMailing& m, WallTime now,
                            std::string id) {
  OutboxRow row;
  row.id = "evt_" + std::move(id);
  row.event = "subscription.confirm";
  row.channel = m.channel;
  row.recipient = s.email;
  row.created = now;
  row.audience = Audience::kSubscriber;
  const int64_t expires = to_unix_ms(now) / 1000 + kConfirmLifetimeS;
  nlohmann::json j{{"kind", "confirm"},
                   {"title", m.title},
                   {"page_url", m.public_url},
                   {"confirm_url", fmt::format("{}/subscribe/confirm/{}", m.public_url,
                                               confirm_token(m.key, s.id, expires))}};
  row.payload = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return row;
}

void add_incident_mails(AlertChanges& changes, const SubscriberBook& book,
                        const SubscriberMailing& m,
                        const std::function<bool(const std::string&)>& is_public,
                        const std::function<std::string()>& ids) {
  if (book.confirmed_count() == 0) return;
  for (auto& e : changes.events) {
    if (e.event != "incident.opened" && e.event != "incident.resolved") continue;
    const auto inc = std::find_if(changes.incidents.begin(), changes.incidents.end(),
                                  [&](const IncidentRecord& i) { return i.id == e.incident_id; });
    if (inc == changes.incidents.end() || !is_public(inc->monitor)) continue;
    // What the public page says of it, and nothing meant for on-call (no ack link).
    nlohmann::json about{
        {"monitor", inc->monitor},
        {"group", inc->group},
        {"state", e.event == "incident.resolved" ? "up" : to_string(inc->state)},
        {"cause", inc->cause},
        {"started_at", rfc3339(inc->started_at)},
        {"resolved_at",
         inc->resolved_at ? nlohmann::json(rfc3339(*inc->resolved_at)) : nlohmann::json(nullptr)},
        {"url", fmt::format("{}/monitor/{}", m.public_url, inc->monitor)}};
    mail_everyone(e, book, m, shared_members(m, "incident", "incident", about), ids);
  }
}

void add_post_mails(AlertChanges& out, const PostRecord& post, const std::string& event,
                    WallTime now, const SubscriberBook& book, const SubscriberMailing& m,
                    const std::function<bool(const std::string&)>& is_public,
                    const std::function<std::string()>& ids) {
  if (book.confirmed_count() == 0 || post.updates.empty() || !post_is_public(post, is_public))
    return;
  // The post as on-call gets it, less the monitors the public does not see.
  nlohmann::json about = post_json(post, m.public_url);
  nlohmann::json monitors = nlohmann::json::array();
  for (const auto& name : post.monitors)
    if (is_public(name)) monitors.push_back(name);
  about["monitors"] = std::move(monitors);
  auto e = std::find_if(out.events.begin(), out.events.end(), [&](const EventRecord& r) {
    return r.incident_id == 0 && r.event == event;
  });
  if (e == out.events.end()) {
    out.events.push_back(EventRecord{0, event, now, {}});
    e = std::prev(out.events.end());
  }
  mail_everyone(*e, book, m, shared_members(m, "post", "post", about), ids);
}

}  // namespace lookout
