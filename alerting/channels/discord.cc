#include "alerting/channels/discord.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

namespace lookout {
namespace {

using nlohmann::json;

// Discord refuses a title over 256 characters and a description over 4096 (in characters;
// bytes count at least as many).
constexpr size_t kTitleMax = 256;
constexpr size_t kDescriptionMax = 4096;

json field(const std::string& name, const std::string& value, bool inline_) {
  return {{"name", name}, {"value", value}, {"inline", inline_}};
}

std::string footer(const Notice& n) {
  if (n.test) return "lookout · test notification";
  if (n.post) return fmt::format("lookout · post {}", n.post->id);
  std::string line = fmt::format("lookout · incident {}", n.incident_id);
  if (!n.group.empty()) line += " · " + n.group;
  if (!n.type.empty()) line += " · " + n.type;
  return line;
}

json discord_single(const Notice& n, WallTime at, const std::string& public_url) {
  json embed = {
      {"color", discord_colour(n)}, {"timestamp", rfc3339(at)}, {"footer", {{"text", footer(n)}}}};
  if (n.post) {
    const PostNotice& p = *n.post;
    embed["title"] = one_line(n.title(), kTitleMax);
    embed["url"] = p.url;
    if (const std::string update = p.summary(); !update.empty())
      embed["description"] = discord_escape(update);
    embed["fields"] = json::array({field("Status", discord_escape(p.status), true),
                                   field("Impact", discord_escape(p.impact), true),
                                   field("Monitors", discord_escape(p.monitors_text()), false)});
    return {{"embeds", json::array({embed})}};
  }
  if (n.test) {
    embed["title"] = n.title();
    embed["url"] = status_url(public_url);
    embed["description"] =
        "This is a test notification from lookout: nothing is wrong, and this channel delivers.";
    return {{"embeds", json::array({embed})}};
  }
  embed["title"] = one_line(n.label + " " + n.monitor, kTitleMax);
  embed["url"] = n.monitor_url;
  if (!n.cause.empty()) embed["description"] = discord_escape(n.cause);
  json fields = json::array({field("Monitor", discord_escape(n.monitor), true),
                             field("State", discord_escape(n.state_text()), true),
                             field(n.resolved() ? "Started" : "Since", n.since, true)});
  if (!n.ack_url.empty())
    fields.push_back(field("Acknowledge", fmt::format("[acknowledge]({})", n.ack_url), false));
  embed["fields"] = fields;
  return {{"embeds", json::array({embed})}};
}

// "**[DOWN api\-000](page)** expected status 200, got 503 · since 02:00:00Z · [acknowledge](ack)"
std::string discord_storm_line(const Notice& n) {
  if (n.post) {
    // "**[POST \[major\] Database failover: investigating](post)** Replicas lag behind."
    std::string line = fmt::format("**[{}]({})**", discord_escape(n.title()), n.post->url);
    if (const std::string update = n.post->summary(120); !update.empty())
      line += " " + discord_escape(update);
    return line;
  }
  std::string line =
      fmt::format("**[{}]({})**", discord_escape(n.label + " " + n.monitor), n.monitor_url);
  if (!n.cause.empty() && !n.resolved()) line += " " + discord_escape(n.cause);
  line += fmt::format(" · {} {}", n.resolved() ? "started" : "since", time_of_day(n.since));
  if (!n.ack_url.empty()) line += fmt::format(" · [acknowledge]({})", n.ack_url);
  return line;
}

json discord_storm(const Digest& d, WallTime at) {
  // Lines that would pass the description's limit (long causes, a long public_url) are
  // counted with the rest that the status page lists.
  const auto more = [&d](size_t dropped) {
    return fmt::format("... and {} more on [the status page]({})", d.more + dropped, d.status_url);
  };
  std::string description;
  size_t shown = 0;
  for (const auto& n : d.shown) {
    const std::string line = discord_storm_line(n) + "\n";
    if (description.size() + line.size() + more(d.shown.size()).size() > kDescriptionMax) break;
    description += line;
    ++shown;
  }
  if (d.more + d.shown.size() - shown > 0) description += more(d.shown.size() - shown);
  while (!description.empty() && description.back() == '\n') description.pop_back();
  json embed = {{"title", one_line(d.title, kTitleMax)},
                {"url", d.status_url},
                {"color", discord_colour(d.shown.front())},
                {"timestamp", rfc3339(at)},
                {"description", description},
                {"footer", {{"text", "lookout"}}}};
  return {{"embeds", json::array({embed})}};
}

}  // namespace

uint32_t discord_colour(const Notice& n) {
  if (n.post) return n.post->resolved() ? 0x188038 : 0x1A73E8;
  if (n.test || n.event == "incident.acknowledged") return 0x5F6368;
  if (n.resolved()) return 0x188038;
  return n.state == "degraded" ? 0xF29900 : 0xD93025;
}

std::string discord_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (const char c : s) {
    if (std::string_view("\\*_~`|[]()<>#").find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

std::string discord_body(const Batch& rows, const std::string& public_url) {
  if (rows.size() == 1)
    return discord_single(notice_of(rows.front(), public_url), rows.front().created, public_url)
        .dump();
  WallTime latest = rows.front().created;
  for (const auto& r : rows) latest = std::max(latest, r.created);
  return discord_storm(digest_of(rows, public_url), latest).dump();
}

HttpPost discord_request(const ChannelConfig& c, const Batch& rows, const std::string& public_url) {
  HttpPost r;
  r.url = c.url.reveal();
  r.headers = {"Content-Type: application/json",
               fmt::format("User-Agent: lookout/{}", LOOKOUT_VERSION)};
  r.body = discord_body(rows, public_url);
  return r;
}

DeliveryOutcome discord_outcome(CURLcode code, long status, const std::string& answer) {
  DeliveryOutcome o = http_outcome(code, status, answer);
  if (code != CURLE_OK || o.kind == DeliveryOutcome::Kind::kDelivered) return o;
  const auto j = json::parse(answer, nullptr, false);
  if (!j.is_object()) return o;
  if (status == 429) {
    const auto wait = j.find("retry_after");
    if (wait != j.end() && wait->is_number() && wait->get<double>() > 0) {
      o.retry_after = Duration{static_cast<int64_t>(std::ceil(wait->get<double>() * 1000))};
    }
  } else if (o.kind == DeliveryOutcome::Kind::kPermanent) {
    const auto message = j.find("message");
    if (message != j.end() && message->is_string()) {
      o.detail = fmt::format("HTTP {}: {}", status, one_line(message->get<std::string>(), 200));
      const auto c = j.find("code");
      if (c != j.end() && c->is_number_integer())
        o.detail += fmt::format(" (code {})", c->get<int64_t>());
    }
  }
  return o;
}

void DiscordChannel::send(const std::vector<OutboxRow>& rows, Done done) {
  post(discord_request(config(), rows, public_url()), discord_outcome, std::move(done));
}

}  // namespace lookout
