#include "alerting/channels/pushover.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <nlohmann/json.hpp>

#include "alerting/ack_token.h"
#include "alerting/channels/utf8_text.h"
#include "config/channels/pushover_spec.h"
#include "probes/template.h"

namespace lookout {
namespace {

// Pushover's limits, in characters; cutting by bytes keeps within them.
constexpr size_t kPushoverMaxTitle = 250;
constexpr size_t kPushoverMaxMessage = 1024;
constexpr size_t kPushoverMaxUrlTitle = 100;
// Incidents whose receipts are kept: a channel that never sees a resolution (a route without
// on_resolve) forgets the oldest rather than grow.
constexpr size_t kMaxRemembered = 1000;

bool stops_ringing(const OutboxRow& r) {
  return r.event == "incident.acknowledged" || r.event == "incident.resolved";
}

std::string base_of(const ChannelConfig& c) {
  std::string base = c.url.reveal();
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base;
}

std::string pushover_error(long status, const nlohmann::json& j) {
  if (!j.is_object() || !j.contains("errors") || !j["errors"].is_array()) return "";
  std::string errors;
  for (const auto& e : j["errors"]) {
    if (e.is_string()) errors += (errors.empty() ? "" : "; ") + e.get<std::string>();
  }
  if (errors.empty()) return "";
  return fmt::format("HTTP {}: {}", status, utf8_cut(one_line(errors, std::string::npos), 200));
}

}  // namespace

int pushover_priority(const OutboxRow& row) {
  // A post is news, never an emergency.
  if (row.event == "test" || is_post_event(row.event) || stops_ringing(row)) return 0;
  const std::string state = payload_fields(row.payload).state;
  return state == "down" ? 2 : state == "degraded" ? 1 : 0;
}

std::vector<int64_t> pushover_ringing(const Batch& rows) {
  std::vector<int64_t> out;
  for (size_t i = 0; i < rows.size() && i < Digest::kShown; ++i) {
    const OutboxRow& r = rows[i];
    if (pushover_priority(r) == 2 && std::find(out.begin(), out.end(), r.incident_id) == out.end())
      out.push_back(r.incident_id);
  }
  return out;
}

HttpPost pushover_request(const ChannelConfig& c, const Batch& rows, const std::string& public_url,
                          const std::string& ack_key) {
  const auto& spec = c.spec_as<PushoverSpec>();
  std::string title, message, url, url_title, callback;
  if (rows.size() == 1) {
    const Notice n = notice_of(rows.front(), public_url);
    title = n.title();
    message = n.text();
    url = n.test ? status_url(public_url) : n.post ? n.post->url : n.monitor_url;
    url_title = n.test ? "Status page" : n.post ? "Open post" : "Monitor " + n.monitor;
    // The ack link's last segment is the signed token: the callback acknowledges that incident.
    if (spec.callback && !n.ack_url.empty())
      callback = public_url + "/hooks/pushover/" + n.ack_url.substr(n.ack_url.rfind('/') + 1);
  } else {
    const Digest d = digest_of(rows, public_url);
    title = d.title;
    message = d.text();
    url = d.status_url;
    url_title = "Status page";
  }
  // Worst first: the first row's priority is the batch's.
  const int priority = pushover_priority(rows.front());
  WallTime newest = rows.front().created;
  for (const auto& r : rows) newest = std::max(newest, r.created);
  const auto timestamp =
      std::chrono::duration_cast<std::chrono::seconds>(newest.time_since_epoch()).count();
  const std::vector<int64_t> ringing = pushover_ringing(rows);
  // A storm's emergency acknowledges, through its callback, every incident it rings for.
  if (rows.size() > 1 && spec.callback && !ack_key.empty() && !ringing.empty()) {
    callback = public_url + "/hooks/pushover/" +
               make_group_ack_token(ack_key, ringing, timestamp + kAckTokenLifetimeS);
  }

  std::vector<std::pair<std::string, std::string>> form{
      {"token", spec.token.reveal()},
      {"user", spec.user.reveal()},
      {"title", utf8_cut(title, kPushoverMaxTitle)},
      {"message", utf8_cut(message, kPushoverMaxMessage)},
      {"url", url},
      {"url_title", utf8_cut(url_title, kPushoverMaxUrlTitle)},
      {"priority", std::to_string(priority)}};
  if (priority == 2) {
    std::string tags;
    for (int64_t id : ringing) tags += fmt::format("{}lookout-{}", tags.empty() ? "" : ",", id);
    form.insert(form.end(), {{"retry", "60"}, {"expire", "3600"}, {"tags", tags}});
    if (!callback.empty()) form.emplace_back("callback", callback);
  }
  form.emplace_back("timestamp", std::to_string(timestamp));

  HttpPost r;
  r.url = base_of(c) + "/1/messages.json";
  r.headers = {"Content-Type: application/x-www-form-urlencoded"};
  r.body = form_encode(form);
  return r;
}

std::vector<int64_t> pushover_cancels(const Batch& rows) {
  std::vector<int64_t> out;
  for (const auto& r : rows) {
    if (stops_ringing(r) && r.incident_id > 0 &&
        std::find(out.begin(), out.end(), r.incident_id) == out.end())
      out.push_back(r.incident_id);
  }
  return out;
}

HttpPost pushover_cancel_request(const ChannelConfig& c, const std::string& receipt) {
  HttpPost r;
  r.url = fmt::format("{}/1/receipts/{}/cancel.json", base_of(c), receipt);
  r.headers = {"Content-Type: application/x-www-form-urlencoded"};
  r.body = form_encode({{"token", c.spec_as<PushoverSpec>().token.reveal()}});
  return r;
}

HttpPost pushover_cancel_by_tag_request(const ChannelConfig& c, int64_t incident_id) {
  HttpPost r;
  r.url = fmt::format("{}/1/receipts/cancel_by_tag/lookout-{}.json", base_of(c), incident_id);
  r.headers = {"Content-Type: application/x-www-form-urlencoded"};
  r.body = form_encode({{"token", c.spec_as<PushoverSpec>().token.reveal()}});
  return r;
}

DeliveryOutcome pushover_outcome(CURLcode code, long status, const std::string& answer) {
  DeliveryOutcome o = http_outcome(code, status, answer);
  if (code != CURLE_OK) return o;
  const auto j = nlohmann::json::parse(answer, nullptr, false);
  if (o.kind == DeliveryOutcome::Kind::kDelivered) {
    const bool accepted = j.is_object() && j.contains("status") && j["status"] == 1;
    if (accepted) return o;
    // A 2xx without Pushover's acceptance (a proxy's page, a changed API) is no delivery, and
    // asking again will not make it one.
    const std::string quoted = pushover_error(status, j);
    return {DeliveryOutcome::Kind::kPermanent,
            !quoted.empty() ? quoted
                            : fmt::format("HTTP {} without \"status\": 1: {}", status,
                                          utf8_cut(one_line(answer, std::string::npos), 200))};
  }
  if (std::string quoted = pushover_error(status, j); !quoted.empty()) o.detail = quoted;
  return o;
}

std::string pushover_receipt(const std::string& answer) {
  const auto j = nlohmann::json::parse(answer, nullptr, false);
  if (!j.is_object() || !j.contains("receipt") || !j["receipt"].is_string()) return "";
  std::string receipt = j["receipt"].get<std::string>();
  const bool plain = !receipt.empty() && std::all_of(receipt.begin(), receipt.end(), [](char ch) {
    return std::isalnum(static_cast<unsigned char>(ch)) != 0;
  });
  return plain ? receipt : "";
}

void PushoverChannel::send(const std::vector<OutboxRow>& rows, Done done) {
  // Each known receipt by itself (what Pushover's receipt API names), then the incident's tag,
  // which also reaches messages sent before a restart or a reload made this channel anew.
  std::vector<HttpPost> cancels;
  for (int64_t id : pushover_cancels(rows)) {
    if (const auto it = receipts_.find(id); it != receipts_.end()) {
      for (const auto& receipt : it->second)
        cancels.push_back(pushover_cancel_request(config(), receipt));
      receipts_.erase(it);
    }
    cancels.push_back(pushover_cancel_by_tag_request(config(), id));
  }
  cancel_then_send(std::move(cancels), 0, rows, std::move(done));
}

void PushoverChannel::cancel_then_send(std::vector<HttpPost> cancels, size_t i, Batch rows,
                                       Done done) {
  if (i < cancels.size()) {
    const HttpPost next = cancels[i];
    post(next, pushover_outcome,
         [this, cancels = std::move(cancels), i, rows = std::move(rows),
          done = std::move(done)](DeliveryOutcome o) mutable {
           if (o.kind == DeliveryOutcome::Kind::kRetry) {
             o.detail = "cancelling the emergency retries: " + o.detail;
             done(std::move(o));
           } else {
             cancel_then_send(std::move(cancels), i + 1, std::move(rows), std::move(done));
           }
         });
    return;
  }
  const std::vector<int64_t> ringing = pushover_ringing(rows);
  post(
      pushover_request(config(), rows, public_url(), ack_key_),
      [this, ringing](CURLcode code, long status, const std::string& answer) {
        DeliveryOutcome o = pushover_outcome(code, status, answer);
        if (o.kind == DeliveryOutcome::Kind::kDelivered && !ringing.empty())
          remember(ringing, pushover_receipt(answer));
        return o;
      },
      std::move(done));
}

void PushoverChannel::remember(const std::vector<int64_t>& incidents, const std::string& receipt) {
  if (receipt.empty()) return;
  for (int64_t id : incidents) receipts_[id].push_back(receipt);
  while (receipts_.size() > kMaxRemembered) receipts_.erase(receipts_.begin());
}

}  // namespace lookout
