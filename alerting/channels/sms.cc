#include "alerting/channels/sms.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "config/channels/sms_spec.h"
#include "probes/template.h"

namespace lookout {
namespace {

// At most two messages of 160 characters. `at_space` splits at the last space that fits, so a
// name or a link is not cut in two.
std::vector<std::string> split_sms(const std::string& text, bool at_space = false) {
  constexpr size_t kLimit = 160;
  if (text.size() <= kLimit) return {text};
  size_t cut = kLimit;
  if (at_space) {
    const size_t space = text.rfind(' ', kLimit);
    if (space != std::string::npos && space > 0) cut = space;
  }
  std::string second = text.substr(cut + (cut < kLimit ? 1 : 0));
  if (second.size() > kLimit) {
    // Not substr() + "...": GCC 12 warns of an out-of-bounds copy there (-Warray-bounds).
    second.resize(kLimit - 3);
    second += "...";
  }
  return {text.substr(0, cut), second};
}

HttpPost twilio_request(const ChannelConfig& c, const std::string& recipient,
                        const std::string& text) {
  const auto& spec = c.spec_as<SmsSpec>();
  std::string base = c.url.reveal();
  while (!base.empty() && base.back() == '/') base.pop_back();
  HttpPost r;
  r.url = fmt::format("{}/2010-04-01/Accounts/{}/Messages.json", base, spec.account->reveal());
  r.basic_auth = HttpPost::BasicAuth{spec.account->reveal(), spec.token->reveal()};
  r.headers = {"Content-Type: application/x-www-form-urlencoded"};
  r.body = form_encode({{"To", recipient}, {"From", spec.from}, {"Body", text}});
  return r;
}

HttpPost generic_sms_request(const ChannelConfig& c, const std::string& recipient,
                             const std::string& text) {
  const auto& spec = c.spec_as<SmsSpec>();
  HttpPost r;
  r.url = c.url.reveal();
  if (spec.token) r.headers.push_back("Authorization: Bearer " + spec.token->reveal());
  r.headers.emplace_back("Content-Type: application/json");
  auto quoted = [](const std::string& s) {
    const std::string j = nlohmann::json(s).dump();
    return j.substr(1, j.size() - 2);
  };
  r.body = spec.body_template.empty()
               ? R"({"to":"{{to}}","from":"{{from}}","message":"{{message}}"})"
               : spec.body_template;
  for (const auto& [key, value] : {std::pair<std::string, std::string>{"{{to}}", recipient},
                                   {"{{from}}", spec.from},
                                   {"{{message}}", text}}) {
    for (size_t p = r.body.find(key); p != std::string::npos; p = r.body.find(key, p + 1)) {
      r.body.replace(p, key.size(), quoted(value));
    }
  }
  return r;
}

}  // namespace

std::vector<std::string> sms_messages(const OutboxRow& row) {
  if (is_post_event(row.event)) {
    const Notice n = notice_of(row, "");
    const std::string summary = n.post->summary(60);
    // The title cut to 100 and the split between words keep the post's link whole.
    return split_sms(fmt::format("{}{} {}", one_line(n.title(), 100),
                                 summary.empty() ? "" : " - " + summary, n.post->url),
                     true);
  }
  const auto inc = incident_of(row);
  std::string text;
  if (inc.is_null()) {
    text = "TEST lookout: this channel delivers";
  } else {
    const std::string started = incident_field(inc, "started_at");
    const std::string hhmm = started.size() >= 16 ? started.substr(11, 5) + "Z" : started;
    text = fmt::format("{} {} {} since {}", event_label(row.event, incident_field(inc, "state")),
                       incident_field(inc, "monitor"), one_line(incident_field(inc, "cause"), 60),
                       hhmm);
    if (!incident_field(inc, "ack_url").empty() && row.event != "incident.resolved" &&
        row.event != "incident.acknowledged") {
      text += " ack: " + incident_field(inc, "ack_url");
    }
  }
  return split_sms(text);
}

std::vector<std::string> sms_messages(const Batch& rows, const std::string& public_url) {
  if (rows.size() == 1) return sms_messages(rows.front());
  // Two messages at most: the counts, as many names as fit, and the page for the rest.
  constexpr size_t kBudget = 2 * 160;
  const std::string head = counted_labels(rows) + ":";
  const std::string link = status_url(public_url);
  std::string names;
  size_t shown = 0;
  for (const auto& r : rows) {
    const std::string next = " " + subject_of(r);
    const std::string rest = fmt::format(" +{} more ", rows.size() - shown - 1);
    if (head.size() + names.size() + next.size() + rest.size() + link.size() > kBudget) break;
    names += next;
    ++shown;
  }
  std::string text = head + names;
  text += shown < rows.size() ? fmt::format(" +{} more {}", rows.size() - shown, link) : " " + link;
  return split_sms(text, true);
}

HttpPost sms_request(const ChannelConfig& c, const std::string& recipient,
                     const std::string& text) {
  return c.spec_as<SmsSpec>().provider == "twilio" ? twilio_request(c, recipient, text)
                                                   : generic_sms_request(c, recipient, text);
}

void SmsChannel::send(const std::vector<OutboxRow>& rows, Done done) {
  send_part(rows.front().recipient, sms_messages(rows, public_url()), 0, std::move(done));
}

void SmsChannel::send_part(const std::string& recipient, std::vector<std::string> parts, size_t i,
                           Done done) {
  post(sms_request(config(), recipient, parts[i]),
       [this, recipient, parts, i, done = std::move(done)](DeliveryOutcome o) {
         if (o.kind != DeliveryOutcome::Kind::kDelivered || i + 1 == parts.size()) {
           done(std::move(o));
         } else {
           send_part(recipient, parts, i + 1, done);
         }
       });
}

}  // namespace lookout
