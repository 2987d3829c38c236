#include "alerting/channels/teams.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

namespace lookout {
namespace {

using nlohmann::json;

// Adaptive Cards' named colours: red while down, amber while degraded, green once resolved;
// an acknowledgement and a test need no alarm; a post is news, green once resolved.
std::string colour(const Notice& n) {
  if (n.post) return n.post->resolved() ? "Good" : "Accent";
  if (n.test || n.event == "incident.acknowledged") return "Default";
  if (n.resolved()) return "Good";
  return n.state == "degraded" ? "Warning" : "Attention";
}

json title(const std::string& text, const std::string& colour) {
  return {{"type", "TextBlock"}, {"text", text},    {"size", "Large"},
          {"weight", "Bolder"},  {"color", colour}, {"wrap", true}};
}

json text(const std::string& s) { return {{"type", "TextBlock"}, {"text", s}, {"wrap", true}}; }

json subtle(const std::string& s) {
  return {
      {"type", "TextBlock"}, {"text", s}, {"size", "Small"}, {"isSubtle", true}, {"wrap", true}};
}

json open_url(const std::string& title, const std::string& url) {
  return {{"type", "Action.OpenUrl"}, {"title", title}, {"url", url}};
}

json fact(const std::string& title, const std::string& value) {
  return {{"title", title}, {"value", value}};
}

json message(json body, json actions) {
  return {{"type", "message"},
          {"attachments",
           json::array({{{"contentType", "application/vnd.microsoft.card.adaptive"},
                         {"content",
                          {{"$schema", "http://adaptivecards.io/schemas/adaptive-card.json"},
                           {"type", "AdaptiveCard"},
                           {"version", "1.4"},
                           {"body", std::move(body)},
                           {"actions", std::move(actions)}}}}})}};
}

// A post: its title, status, impact, monitors and latest update, and a button to its page.
json teams_post(const Notice& n) {
  const PostNotice& p = *n.post;
  json body = json::array(
      {title(n.title(), colour(n)),
       {{"type", "FactSet"},
        {"facts", json::array({fact("Status", p.status), fact("Impact", p.impact),
                               fact("Monitors", p.monitors_text()), fact("Updated", p.at)})}}});
  if (const std::string update = p.summary(); !update.empty()) body.push_back(text(update));
  body.push_back(subtle(fmt::format("lookout · post {}", p.id)));
  return message(body, json::array({open_url("Open post", p.url)}));
}

json teams_single(const Notice& n, const std::string& public_url) {
  if (n.post) return teams_post(n);
  if (n.test) {
    return message(
        json::array({title(n.title(), colour(n)),
                     text("This is a test notification from lookout: nothing is wrong, and this "
                          "channel delivers."),
                     subtle("lookout · test notification")}),
        json::array({open_url("Open status page", status_url(public_url))}));
  }
  json facts = json::array({fact("Monitor", n.monitor), fact("State", n.state_text()),
                            fact(n.resolved() ? "Started" : "Since", n.since)});
  if (!n.cause.empty()) facts.push_back(fact("Cause", n.cause));
  std::string context = fmt::format("lookout · incident {}", n.incident_id);
  if (!n.group.empty()) context += " · " + n.group;
  if (!n.type.empty()) context += " · " + n.type;
  json actions = json::array({open_url("Open monitor", n.monitor_url)});
  if (!n.ack_url.empty()) actions.push_back(open_url("Acknowledge", n.ack_url));
  return message(json::array({title(n.label + " " + n.monitor, colour(n)),
                              {{"type", "FactSet"}, {"facts", facts}},
                              subtle(context)}),
                 actions);
}

// "**[DOWN api-000](page)** expected status 200, got 503 · since 02:00:00Z · [acknowledge](ack)"
std::string teams_storm_line(const Notice& n) {
  if (n.post) {
    // "**[POST [major] Database failover: investigating](post)** Replicas lag behind."
    std::string line = fmt::format("**[{}]({})**", n.title(), n.post->url);
    if (const std::string update = n.post->summary(120); !update.empty()) line += " " + update;
    return line;
  }
  std::string line = fmt::format("**[{} {}]({})**", n.label, n.monitor, n.monitor_url);
  if (!n.cause.empty() && !n.resolved()) line += " " + n.cause;
  line += fmt::format(" · {} {}", n.resolved() ? "started" : "since", time_of_day(n.since));
  if (!n.ack_url.empty()) line += fmt::format(" · [acknowledge]({})", n.ack_url);
  return line;
}

json teams_storm(const Digest& d) {
  json body = json::array({title(d.title, colour(d.shown.front()))});
  for (const auto& n : d.shown) body.push_back(text(teams_storm_line(n)));
  if (d.more > 0)
    body.push_back(
        text(fmt::format("... and {} more on [the status page]({})", d.more, d.status_url)));
  return message(body, json::array({open_url("Open status page", d.status_url)}));
}

}  // namespace

std::string teams_body(const Batch& rows, const std::string& public_url) {
  if (rows.size() == 1) return teams_single(notice_of(rows.front(), public_url), public_url).dump();
  return teams_storm(digest_of(rows, public_url)).dump();
}

HttpPost teams_request(const ChannelConfig& c, const Batch& rows, const std::string& public_url) {
  HttpPost r;
  r.url = c.url.reveal();
  r.headers = {"Content-Type: application/json",
               fmt::format("User-Agent: lookout/{}", LOOKOUT_VERSION)};
  r.body = teams_body(rows, public_url);
  return r;
}

void TeamsChannel::send(const std::vector<OutboxRow>& rows, Done done) {
  post(teams_request(config(), rows, public_url()), std::move(done));
}

}  // namespace lookout
