#include "alerting/channels/gotify.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "alerting/channels/utf8_text.h"
#include "config/channels/gotify_spec.h"

namespace lookout {
namespace {

int priority_of(const Notice& n) {
  // A post is news for the people on call, not a page; once resolved, as quiet as a resolution.
  if (n.post) return n.post->resolved() ? 2 : 4;
  if (n.test || n.resolved() || n.event == "incident.acknowledged") return 2;
  return n.state == "down" ? 8 : n.state == "degraded" ? 5 : 2;
}

std::string gotify_error(long status, const std::string& answer) {
  const auto j = nlohmann::json::parse(answer, nullptr, false);
  if (!j.is_object() || !j.contains("error") || !j["error"].is_string()) return "";
  std::string what = j["error"].get<std::string>();
  if (j.contains("errorDescription") && j["errorDescription"].is_string())
    what += ": " + j["errorDescription"].get<std::string>();
  return fmt::format("HTTP {}: {}", status, utf8_cut(one_line(what, std::string::npos), 200));
}

}  // namespace

std::string gotify_body(const Batch& rows, const std::string& public_url) {
  std::string title, message, click;
  int priority = 2;
  if (rows.size() == 1) {
    const Notice n = notice_of(rows.front(), public_url);
    title = n.title();
    message = n.text();
    priority = priority_of(n);
    click = n.test ? status_url(public_url) : n.post ? n.post->url : n.monitor_url;
  } else {
    const Digest d = digest_of(rows, public_url);
    title = d.title;
    message = d.text();
    priority = priority_of(d.shown.front());  // the worst of the batch
    click = d.status_url;
  }
  const nlohmann::json body{{"title", title},
                            {"message", message},
                            {"priority", priority},
                            {"extras",
                             {{"client::display", {{"contentType", "text/plain"}}},
                              {"client::notification", {{"click", {{"url", click}}}}}}}};
  // A cause cut to its length may end inside a character: that byte becomes U+FFFD.
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

HttpPost gotify_request(const ChannelConfig& c, const Batch& rows, const std::string& public_url) {
  std::string base = c.url.reveal();
  while (!base.empty() && base.back() == '/') base.pop_back();
  HttpPost r;
  r.url = base + "/message";
  r.headers = {
      "Content-Type: application/json",
      "X-Gotify-Key: " + one_line(c.spec_as<GotifySpec>().token.reveal(), std::string::npos)};
  r.body = gotify_body(rows, public_url);
  return r;
}

DeliveryOutcome gotify_outcome(CURLcode code, long status, const std::string& answer) {
  DeliveryOutcome o = http_outcome(code, status, answer);
  if (code != CURLE_OK || o.kind == DeliveryOutcome::Kind::kDelivered) return o;
  if (std::string quoted = gotify_error(status, answer); !quoted.empty()) o.detail = quoted;
  return o;
}

void GotifyChannel::send(const std::vector<OutboxRow>& rows, Done done) {
  post(gotify_request(config(), rows, public_url()), gotify_outcome, std::move(done));
}

}  // namespace lookout
