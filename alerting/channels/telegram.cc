#include "alerting/channels/telegram.h"

#include <fmt/format.h>

#include <charconv>
#include <nlohmann/json.hpp>

#include "config/channels/telegram_spec.h"
#include "core/text.h"

namespace lookout {
namespace {

using nlohmann::json;

std::string telegram_link(const std::string& url, const std::string& text) {
  return fmt::format("<a href=\"{}\">{}</a>", html_escape(url), html_escape(text));
}

// A post: its title, status, impact, monitors, latest update and a link to its page.
std::string telegram_post(const Notice& n) {
  const PostNotice& p = *n.post;
  std::string out = fmt::format("<b>{}</b>\n", html_escape(n.title()));
  out += "Status: " + html_escape(p.status) + "\n";
  out += "Impact: " + html_escape(p.impact) + "\n";
  out += "Monitors: " + html_escape(p.monitors_text()) + "\n";
  if (const std::string update = p.summary(); !update.empty()) out += html_escape(update) + "\n";
  out += "<i>" + html_escape(fmt::format("lookout · post {}", p.id)) + "</i>\n";
  out += telegram_link(p.url, "Open post");
  return out;
}

std::string telegram_single(const Notice& n, const std::string& public_url) {
  if (n.post) return telegram_post(n);
  if (n.test) {
    return fmt::format(
        "<b>{}</b>\nThis is a test notification from lookout: nothing is wrong, and this "
        "channel delivers.\n{}",
        html_escape(n.title()), telegram_link(status_url(public_url), "Open status page"));
  }
  std::string out = fmt::format("<b>{}</b>\n", html_escape(n.label + " " + n.monitor));
  out += "Monitor: " + html_escape(n.monitor) + "\n";
  out += "State: " + html_escape(n.state_text()) + "\n";
  out += fmt::format("{}: {}\n", n.resolved() ? "Started" : "Since", html_escape(n.since));
  if (!n.cause.empty()) out += "Cause: " + html_escape(n.cause) + "\n";
  std::string context = fmt::format("lookout · incident {}", n.incident_id);
  if (!n.group.empty()) context += " · " + n.group;
  if (!n.type.empty()) context += " · " + n.type;
  out += "<i>" + html_escape(context) + "</i>\n";
  out += telegram_link(n.monitor_url, "Open monitor");
  if (!n.ack_url.empty()) out += " · " + telegram_link(n.ack_url, "Acknowledge");
  return out;
}

// "<a href=page>DOWN api-000</a> expected status 200, got 503 · since 02:00:00Z · <a
// href=ack>acknowledge</a>". Causes are cut shorter than in a single message: ten lines
// stay well within the 4096 characters of a message.
std::string telegram_storm_line(const Notice& n) {
  if (n.post) {
    // "<a href=post>POST [major] Database failover: investigating</a> Replicas lag behind."
    std::string line = telegram_link(n.post->url, n.title());
    if (const std::string update = n.post->summary(120); !update.empty())
      line += " " + html_escape(update);
    return line;
  }
  std::string line = telegram_link(n.monitor_url, n.label + " " + n.monitor);
  if (!n.cause.empty() && !n.resolved()) line += " " + html_escape(one_line(n.cause, 120));
  line += fmt::format(" · {} {}", n.resolved() ? "started" : "since", time_of_day(n.since));
  if (!n.ack_url.empty()) line += " · " + telegram_link(n.ack_url, "acknowledge");
  return line;
}

std::string telegram_storm(const Digest& d) {
  std::string out = "<b>" + html_escape(d.title) + "</b>";
  for (const auto& n : d.shown) out += "\n" + telegram_storm_line(n);
  out += d.more > 0 ? fmt::format("\n... and {} more on {}", d.more,
                                  telegram_link(d.status_url, "the status page"))
                    : "\n" + telegram_link(d.status_url, "Open status page");
  return out;
}

// Whether the answer's top level says "ok": true. A sent message comes back whole, often
// longer than the start of the answer a transfer keeps, so this reads as far as it can: the
// Bot API writes "ok" first.
bool says_ok(const std::string& answer) {
  struct Reader : nlohmann::json_sax<json> {
    int depth = 0;
    bool at_ok = false, ok = false;
    bool value() {
      at_ok = false;
      return true;
    }
    bool null() override { return value(); }
    bool boolean(bool v) override {
      if (at_ok) ok = v;
      return value();
    }
    bool number_integer(number_integer_t) override { return value(); }
    bool number_unsigned(number_unsigned_t) override { return value(); }
    bool number_float(number_float_t, const string_t&) override { return value(); }
    bool string(string_t&) override { return value(); }
    bool binary(binary_t&) override { return value(); }
    bool start_object(std::size_t) override {
      at_ok = false;
      ++depth;
      return true;
    }
    bool key(string_t& k) override {
      at_ok = depth == 1 && k == "ok";
      return true;
    }
    bool end_object() override {
      --depth;
      return true;
    }
    bool start_array(std::size_t) override {
      at_ok = false;
      ++depth;
      return true;
    }
    bool end_array() override {
      --depth;
      return true;
    }
    bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
      return false;
    }
  } reader;
  json::sax_parse(answer, &reader, json::input_format_t::json, false);
  return reader.ok;
}

}  // namespace

std::string telegram_text(const Batch& rows, const std::string& public_url) {
  if (rows.size() == 1) return telegram_single(notice_of(rows.front(), public_url), public_url);
  return telegram_storm(digest_of(rows, public_url));
}

HttpPost telegram_request(const ChannelConfig& c, const Batch& rows,
                          const std::string& public_url) {
  const auto& spec = c.spec_as<TelegramSpec>();
  std::string base = c.url.reveal();
  while (!base.empty() && base.back() == '/') base.pop_back();
  HttpPost r;
  r.url = fmt::format("{}/bot{}/sendMessage", base, spec.bot_token.reveal());
  r.headers = {"Content-Type: application/json",
               fmt::format("User-Agent: lookout/{}", LOOKOUT_VERSION)};
  const std::string& chat = spec.chat_id.reveal();
  // A chat's number goes as the number the Bot API documents; "@channelname" as a string.
  int64_t id = 0;
  const char* end = chat.data() + chat.size();
  const auto parsed = std::from_chars(chat.data(), end, id);
  const bool number = !chat.empty() && parsed.ec == std::errc() && parsed.ptr == end;
  r.body = json{
      {"chat_id", number ? json(id) : json(chat)},
      {"text", telegram_text(rows, public_url)},
      {"parse_mode", "HTML"},
      {"disable_web_page_preview",
       true}}.dump();
  return r;
}

DeliveryOutcome telegram_outcome(CURLcode code, long status, const std::string& answer) {
  if (code == CURLE_OK && status == 200) {
    if (says_ok(answer)) return {DeliveryOutcome::Kind::kDelivered, "HTTP 200"};
    return {DeliveryOutcome::Kind::kPermanent, "HTTP 200 without \"ok\": true"};
  }
  DeliveryOutcome o = http_outcome(code, status, answer);
  if (code != CURLE_OK) return o;
  if (o.kind == DeliveryOutcome::Kind::kDelivered) {
    return {DeliveryOutcome::Kind::kPermanent,
            fmt::format("HTTP {}: not the Bot API's answer (200 with \"ok\": true)", status)};
  }
  const auto j = json::parse(answer, nullptr, false);
  if (!j.is_object()) return o;
  const json params = j.value("parameters", json::object());
  if (o.kind == DeliveryOutcome::Kind::kRetry) {
    const auto wait = params.find("retry_after");
    if (wait != params.end() && wait->is_number_integer() && wait->get<int64_t>() > 0)
      o.retry_after = Duration{wait->get<int64_t>() * 1000};
    return o;
  }
  const auto description = j.find("description");
  if (description != j.end() && description->is_string()) {
    o.detail = fmt::format("HTTP {}: {}", status, one_line(description->get<std::string>(), 200));
    // A group that became a supergroup has a new id, and the answer names it.
    const auto moved = params.find("migrate_to_chat_id");
    if (moved != params.end() && moved->is_number_integer())
      o.detail += fmt::format(" (set chat_id = {})", moved->get<int64_t>());
  }
  return o;
}

void TelegramChannel::send(const std::vector<OutboxRow>& rows, Done done) {
  post(telegram_request(config(), rows, public_url()), telegram_outcome, std::move(done));
}

}  // namespace lookout
