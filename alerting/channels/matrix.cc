#include "alerting/channels/matrix.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "config/channels/matrix_spec.h"
#include "core/text.h"
#include "probes/template.h"

namespace lookout {
namespace {

using nlohmann::json;

// The message in both forms, a line at a time.
struct Text {
  std::string plain, html;
  void line(const std::string& p, const std::string& h) {
    if (!plain.empty()) {
      plain += "\n";
      html += "<br>";
    }
    plain += p;
    html += h;
  }
  // A line of plain text, the same in both.
  void line(const std::string& p) { line(p, html_escape(p)); }
};

std::string matrix_link(const std::string& url, const std::string& text) {
  return fmt::format("<a href=\"{}\">{}</a>", html_escape(url), html_escape(text));
}

// A post: its title, status, impact, monitors, latest update and its page.
Text matrix_post(const Notice& n) {
  const PostNotice& p = *n.post;
  Text t;
  t.line(n.title(), "<b>" + html_escape(n.title()) + "</b>");
  t.line("Status: " + p.status);
  t.line("Impact: " + p.impact);
  t.line("Monitors: " + p.monitors_text());
  if (const std::string update = p.summary(); !update.empty()) t.line(update);
  const std::string context = fmt::format("lookout · post {}", p.id);
  t.line(context, "<i>" + html_escape(context) + "</i>");
  t.line("Post: " + p.url, matrix_link(p.url, "Open post"));
  return t;
}

Text matrix_single(const Notice& n, const std::string& public_url) {
  if (n.post) return matrix_post(n);
  Text t;
  if (n.test) {
    t.line(n.title(), "<b>" + html_escape(n.title()) + "</b>");
    t.line(
        "This is a test notification from lookout: nothing is wrong, and this channel "
        "delivers.");
    t.line("Status page: " + status_url(public_url),
           matrix_link(status_url(public_url), "Open status page"));
    return t;
  }
  const std::string title = n.label + " " + n.monitor;
  t.line(title, "<b>" + html_escape(title) + "</b>");
  t.line("Monitor: " + n.monitor);
  t.line("State: " + n.state_text());
  t.line(fmt::format("{}: {}", n.resolved() ? "Started" : "Since", n.since));
  if (!n.cause.empty()) t.line("Cause: " + n.cause);
  std::string context = fmt::format("lookout · incident {}", n.incident_id);
  if (!n.group.empty()) context += " · " + n.group;
  if (!n.type.empty()) context += " · " + n.type;
  t.line(context, "<i>" + html_escape(context) + "</i>");
  std::string plain = "Monitor page: " + n.monitor_url;
  std::string html = matrix_link(n.monitor_url, "Open monitor");
  if (!n.ack_url.empty()) {
    plain += "\nAcknowledge: " + n.ack_url;
    html += " · " + matrix_link(n.ack_url, "Acknowledge");
  }
  t.line(plain, html);
  return t;
}

Text matrix_storm(const Digest& d) {
  Text t;
  t.line(d.title, "<b>" + html_escape(d.title) + "</b>");
  for (const auto& n : d.shown) {
    if (n.post) {
      // "POST [major] Database failover: investigating - Replicas lag behind. · <post>"
      const std::string update = n.post->summary(120);
      t.line(fmt::format("{}{} · {}", n.title(), update.empty() ? "" : " - " + update, n.post->url),
             matrix_link(n.post->url, n.title()) +
                 (update.empty() ? std::string() : " " + html_escape(update)));
      continue;
    }
    const std::string title = n.label + " " + n.monitor;
    std::string plain = title, html = matrix_link(n.monitor_url, title);
    if (!n.cause.empty() && !n.resolved()) {
      plain += ": " + n.cause;
      html += " " + html_escape(n.cause);
    }
    const std::string since =
        fmt::format(" · {} {}", n.resolved() ? "started" : "since", time_of_day(n.since));
    plain += since + " · " + n.monitor_url;
    html += since;
    if (!n.ack_url.empty()) {
      plain += " · acknowledge: " + n.ack_url;
      html += " · " + matrix_link(n.ack_url, "acknowledge");
    }
    t.line(plain, html);
  }
  if (d.more > 0) {
    t.line(
        fmt::format("... and {} more: {}", d.more, d.status_url),
        fmt::format("... and {} more on {}", d.more, matrix_link(d.status_url, "the status page")));
  } else {
    t.line("Status page: " + d.status_url, matrix_link(d.status_url, "Open status page"));
  }
  return t;
}

}  // namespace

std::string matrix_message(const Batch& rows, const std::string& public_url) {
  const Text t = rows.size() == 1 ? matrix_single(notice_of(rows.front(), public_url), public_url)
                                  : matrix_storm(digest_of(rows, public_url));
  return json{{"msgtype", "m.text"},
              {"body", t.plain},
              {"format", "org.matrix.custom.html"},
              {"formatted_body", t.html}}
      .dump();
}

HttpPost matrix_request(const ChannelConfig& c, const Batch& rows, const std::string& public_url) {
  const auto& spec = c.spec_as<MatrixSpec>();
  std::string base = c.url.reveal();
  while (!base.empty() && base.back() == '/') base.pop_back();
  HttpPost r;
  r.method = "PUT";
  r.url = fmt::format("{}/_matrix/client/v3/rooms/{}/send/m.room.message/{}", base,
                      url_encode(spec.room_id.reveal()), url_encode(notification_id(rows)));
  r.headers = {"Authorization: Bearer " + spec.access_token.reveal(),
               "Content-Type: application/json",
               fmt::format("User-Agent: lookout/{}", LOOKOUT_VERSION)};
  r.body = matrix_message(rows, public_url);
  return r;
}

DeliveryOutcome matrix_outcome(CURLcode code, long status, const std::string& answer) {
  DeliveryOutcome o = http_outcome(code, status, answer);
  if (code != CURLE_OK) return o;
  if (o.kind == DeliveryOutcome::Kind::kDelivered && status != 200) {
    return {DeliveryOutcome::Kind::kPermanent,
            fmt::format("HTTP {}: not a homeserver's answer to a sent event (200)", status)};
  }
  if (o.kind == DeliveryOutcome::Kind::kDelivered) return o;
  const auto j = json::parse(answer, nullptr, false);
  if (!j.is_object()) return o;
  if (o.kind == DeliveryOutcome::Kind::kRetry) {
    const auto wait = j.find("retry_after_ms");
    if (wait != j.end() && wait->is_number_integer() && wait->get<int64_t>() > 0)
      o.retry_after = Duration{wait->get<int64_t>()};
    return o;
  }
  const auto errcode = j.find("errcode");
  const auto error = j.find("error");
  if (errcode != j.end() && errcode->is_string()) {
    o.detail = fmt::format("HTTP {}: {}", status, one_line(errcode->get<std::string>(), 60));
    if (error != j.end() && error->is_string())
      o.detail += ": " + one_line(error->get<std::string>(), 200);
  }
  return o;
}

void MatrixChannel::send(const std::vector<OutboxRow>& rows, Done done) {
  post(matrix_request(config(), rows, public_url()), matrix_outcome, std::move(done));
}

}  // namespace lookout
