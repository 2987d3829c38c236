#include "alerting/channels/ntfy.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "alerting/channels/utf8_text.h"
#include "config/channels/ntfy_spec.h"

namespace lookout {
namespace {

// ntfy's default message limit: a longer body is kept as an attachment, not shown.
constexpr size_t kNtfyMaxBody = 4096;
constexpr size_t kNtfyMaxTitle = 250;

struct Look {
  int priority;
  const char* tag;  // an emoji short code, which ntfy shows before the title
};

Look look_of(const Notice& n) {
  if (n.test) return {3, "test_tube"};
  // A post is news for the people on call, not a page.
  if (n.post) return {3, n.post->resolved() ? "white_check_mark" : "loudspeaker"};
  if (n.resolved()) return {3, "white_check_mark"};
  if (n.event == "incident.acknowledged") return {3, "eyes"};
  if (n.state == "down") return {5, "rotating_light"};
  return {n.state == "degraded" ? 4 : 3, "warning"};
}

// ntfy's short form of an action splits at commas and semicolons and reads "key=value"; a
// link with any of those (or a quote) goes in the JSON form instead.
std::string ack_action(const std::string& url) {
  if (url.find_first_of(",;=\"'") == std::string::npos)
    return fmt::format("view, Acknowledge, {}, clear=true", url);
  return nlohmann::json::array(
             {{{"action", "view"}, {"label", "Acknowledge"}, {"url", url}, {"clear", true}}})
      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// Every value on one line, whatever the config or a payload held.
std::string ntfy_header(std::string_view name, const std::string& value) {
  return fmt::format("{}: {}", name, one_line(value, std::string::npos));
}

std::string ntfy_error(long status, const std::string& answer) {
  const auto j = nlohmann::json::parse(answer, nullptr, false);
  if (!j.is_object() || !j.contains("error") || !j["error"].is_string()) return "";
  std::string what = j["error"].get<std::string>();
  if (j.contains("code") && j["code"].is_number_integer())
    what += fmt::format(" ({})", j["code"].get<int64_t>());
  return fmt::format("HTTP {}: {}", status, utf8_cut(one_line(what, std::string::npos), 200));
}

}  // namespace

HttpPost ntfy_request(const ChannelConfig& c, const Batch& rows, const std::string& public_url) {
  std::string title, body, click, actions;
  Look look{};
  if (rows.size() == 1) {
    const Notice n = notice_of(rows.front(), public_url);
    title = n.title();
    body = n.text();
    look = look_of(n);
    click = n.test ? status_url(public_url) : n.post ? n.post->url : n.monitor_url;
    if (!n.ack_url.empty()) actions = ack_action(n.ack_url);
  } else {
    const Digest d = digest_of(rows, public_url);
    title = d.title;
    body = d.text();
    look = look_of(d.shown.front());  // the worst of the batch
    click = d.status_url;
  }
  HttpPost r;
  r.url = c.url.reveal();
  r.body = utf8_cut(body, kNtfyMaxBody);
  r.headers = {"Content-Type: text/plain; charset=utf-8",
               ntfy_header("Title", header_words(utf8_cut(one_line(title, std::string::npos),
                                                          kNtfyMaxTitle))),
               fmt::format("Priority: {}", look.priority), fmt::format("Tags: {}", look.tag),
               ntfy_header("Click", click)};
  if (!actions.empty()) r.headers.push_back(ntfy_header("Actions", actions));
  const auto& spec = c.spec_as<NtfySpec>();
  if (spec.token)
    r.headers.push_back(ntfy_header("Authorization", "Bearer " + spec.token->reveal()));
  return r;
}

DeliveryOutcome ntfy_outcome(CURLcode code, long status, const std::string& answer) {
  DeliveryOutcome o = http_outcome(code, status, answer);
  if (code != CURLE_OK || o.kind == DeliveryOutcome::Kind::kDelivered) return o;
  if (std::string quoted = ntfy_error(status, answer); !quoted.empty()) o.detail = quoted;
  return o;
}

void NtfyChannel::send(const std::vector<OutboxRow>& rows, Done done) {
  post(ntfy_request(config(), rows, public_url()), ntfy_outcome, std::move(done));
}

}  // namespace lookout
