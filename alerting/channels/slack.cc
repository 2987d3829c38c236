#include "alerting/channels/slack.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "core/text.h"

namespace lookout {
namespace {

using nlohmann::json;

// Slack refuses a header longer than 150 characters (invalid_blocks).
constexpr size_t kHeaderMax = 150;

std::string link(const std::string& url, const std::string& text) {
  return fmt::format("<{}|{}>", slack_escape(url), slack_escape(text));
}

json plain(const std::string& text) { return {{"type", "plain_text"}, {"text", text}}; }
json mrkdwn(const std::string& text) { return {{"type", "mrkdwn"}, {"text", text}}; }

json header(const std::string& text) {
  return {{"type", "header"}, {"text", plain(one_line(text, kHeaderMax))}};
}

json button(const std::string& text, const std::string& url, const std::string& action_id) {
  return {{"type", "button"}, {"text", plain(text)}, {"url", url}, {"action_id", action_id}};
}

json context(const Notice& n) {
  std::string line = n.test   ? "lookout · test notification"
                     : n.post ? fmt::format("lookout · post {}", n.post->id)
                              : fmt::format("lookout · incident {}", n.incident_id);
  if (!n.group.empty()) line += " · " + n.group;
  if (!n.type.empty()) line += " · " + n.type;
  return {{"type", "context"}, {"elements", json::array({mrkdwn(slack_escape(line))})}};
}

// A post: its title, status, impact, monitors and latest update, and a button to its page.
json slack_post(const Notice& n) {
  const PostNotice& p = *n.post;
  json blocks = json::array({header(n.title())});
  json fields = json::array({mrkdwn("*Status*\n" + slack_escape(p.status)),
                             mrkdwn("*Impact*\n" + slack_escape(p.impact)),
                             mrkdwn("*Monitors*\n" + slack_escape(p.monitors_text())),
                             mrkdwn("*Updated*\n" + slack_escape(p.at))});
  blocks.push_back({{"type", "section"}, {"fields", fields}});
  if (const std::string update = p.summary(); !update.empty())
    blocks.push_back({{"type", "section"}, {"text", mrkdwn(slack_escape(update))}});
  blocks.push_back(context(n));
  blocks.push_back(
      {{"type", "actions"}, {"elements", json::array({button("Open post", p.url, "post")})}});
  return {{"text", slack_escape(n.title())}, {"blocks", blocks}};
}

json slack_single(const Notice& n, const std::string& public_url) {
  if (n.post) return slack_post(n);
  json blocks = json::array();
  if (n.test) {
    blocks.push_back(header(n.title()));
    blocks.push_back({{"type", "section"},
                      {"text", mrkdwn("This is a test notification from lookout: nothing is "
                                      "wrong, and this channel delivers.")}});
    blocks.push_back(context(n));
    blocks.push_back({{"type", "actions"},
                      {"elements", json::array({button("Open status page", status_url(public_url),
                                                       "status")})}});
    return {{"text", slack_escape(n.title())}, {"blocks", blocks}};
  }
  blocks.push_back(header(n.label + " " + n.monitor));
  json fields = json::array(
      {mrkdwn("*Monitor*\n" + link(n.monitor_url, n.monitor)),
       mrkdwn("*State*\n" + slack_escape(n.state_text())),
       mrkdwn(std::string(n.resolved() ? "*Started*\n" : "*Since*\n") + slack_escape(n.since))});
  if (!n.cause.empty()) fields.push_back(mrkdwn("*Cause*\n" + slack_escape(n.cause)));
  blocks.push_back({{"type", "section"}, {"fields", fields}});
  blocks.push_back(context(n));
  json actions = json::array({button("Open monitor", n.monitor_url, "monitor")});
  if (!n.ack_url.empty()) {
    json ack = button("Acknowledge", n.ack_url, "acknowledge");
    ack["style"] = "primary";
    actions.push_back(ack);
  }
  blocks.push_back({{"type", "actions"}, {"elements", actions}});
  return {{"text", slack_escape(n.title())}, {"blocks", blocks}};
}

// "*<page|DOWN api-000>* expected status 200, got 503 · since 02:00:00Z · <ack|acknowledge>"
std::string slack_storm_line(const Notice& n) {
  if (n.post) {
    // "*<post|POST [major] Database failover: investigating>* Replicas lag behind."
    std::string line = "*" + link(n.post->url, n.title()) + "*";
    if (const std::string update = n.post->summary(120); !update.empty())
      line += " " + slack_escape(update);
    return line;
  }
  std::string line = "*" + link(n.monitor_url, n.label + " " + n.monitor) + "*";
  if (!n.cause.empty() && !n.resolved()) line += " " + slack_escape(n.cause);
  line += fmt::format(" · {} {}", n.resolved() ? "started" : "since", time_of_day(n.since));
  if (!n.ack_url.empty()) line += " · " + link(n.ack_url, "acknowledge");
  return line;
}

json slack_storm(const Digest& d) {
  json blocks = json::array({header(d.title)});
  for (const auto& n : d.shown)
    blocks.push_back({{"type", "section"}, {"text", mrkdwn(slack_storm_line(n))}});
  if (d.more > 0) {
    blocks.push_back({{"type", "section"},
                      {"text", mrkdwn(fmt::format("... and {} more on {}", d.more,
                                                  link(d.status_url, "the status page")))}});
  }
  blocks.push_back(
      {{"type", "actions"},
       {"elements", json::array({button("Open status page", d.status_url, "status")})}});
  return {{"text", slack_escape(d.title)}, {"blocks", blocks}};
}

}  // namespace

std::string slack_escape(std::string_view s) { return html_escape(s, false); }

std::string slack_body(const Batch& rows, const std::string& public_url) {
  if (rows.size() == 1) return slack_single(notice_of(rows.front(), public_url), public_url).dump();
  return slack_storm(digest_of(rows, public_url)).dump();
}

HttpPost slack_request(const ChannelConfig& c, const Batch& rows, const std::string& public_url) {
  HttpPost r;
  r.url = c.url.reveal();
  r.headers = {"Content-Type: application/json",
               fmt::format("User-Agent: lookout/{}", LOOKOUT_VERSION)};
  r.body = slack_body(rows, public_url);
  return r;
}

DeliveryOutcome slack_outcome(CURLcode code, long status, const std::string& answer) {
  if (code == CURLE_OK && status > 200 && status < 300) {
    return {DeliveryOutcome::Kind::kPermanent,
            fmt::format("HTTP {}: not Slack's answer to a posted message (200 ok)", status)};
  }
  return http_outcome(code, status, answer);
}

void SlackChannel::send(const std::vector<OutboxRow>& rows, Done done) {
  post(slack_request(config(), rows, public_url()), slack_outcome, std::move(done));
}

}  // namespace lookout
