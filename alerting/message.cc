#include "alerting/message.h"

#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <nlohmann/json.hpp>

namespace lookout {
namespace {

nlohmann::json incident_of(const OutboxRow& row) {
  if (row.payload.empty()) return nullptr;
  auto j = nlohmann::json::parse(row.payload, nullptr, false);
  return j.is_discarded() ? nlohmann::json(nullptr) : j;
}

std::string str(const nlohmann::json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// Causes come from the network: one line, no control characters (they would forge headers).
std::string one_line(std::string s, size_t max) {
  for (char& c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  if (s.size() > max) s = s.substr(0, max - 3) + "...";
  return s;
}

std::string label(const std::string& event, const std::string& state) {
  std::string s = state;
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (event == "incident.resolved") return "RESOLVED";
  if (event == "incident.acknowledged") return "ACK " + s;
  if (event == "incident.escalated") return "ESCALATED " + s;
  if (event == "incident.reminder") return "REMINDER " + s;
  if (event == "test") return "TEST";
  return s;
}

std::string label(const OutboxRow& row) { return label(row.event, payload_fields(row.payload).state); }

// "480 DOWN, 20 DEGRADED", in the batch's (worst first) order.
std::string counted_labels(const std::vector<OutboxRow>& rows) {
  std::vector<std::pair<std::string, size_t>> counts;
  for (const auto& r : rows) {
    const std::string l = label(r);
    auto it = std::find_if(counts.begin(), counts.end(), [&](const auto& c) { return c.first == l; });
    if (it == counts.end()) {
      counts.emplace_back(l, 1);
    } else {
      ++it->second;
    }
  }
  std::string out;
  for (const auto& [l, n] : counts) out += fmt::format("{}{} {}", out.empty() ? "" : ", ", n, l);
  return out;
}

std::string monitor_of(const OutboxRow& row) { return payload_fields(row.payload).monitor; }

// The page's address; a public_url always ends without a slash.
std::string status_url(const std::string& public_url) { return public_url + "/"; }

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
  if (second.size() > kLimit) second = second.substr(0, kLimit - 3) + "...";
  return {text.substr(0, cut), second};
}

// The header of an email, up to and including the blank line.
std::string message_envelope(const ChannelConfig& c, const std::string& id, const std::string& subject,
                             const std::string& event, WallTime now) {
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char date[64];
  std::strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
  std::string to;
  for (const auto& r : c.to) to += (to.empty() ? "" : ", ") + r;
  return fmt::format(
      "Date: {}\r\nFrom: {}\r\nTo: {}\r\nMessage-ID: <{}@lookout>\r\nSubject: {}\r\nMIME-Version: 1.0\r\n"
      "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\nX-Lookout-Event: {}\r\n\r\n",
      date, c.from, to, id, subject, event);
}

// Email lines a grouped message lists before it points at the status page for the rest.
constexpr size_t kEmailListed = 100;

}  // namespace

std::string webhook_body(const OutboxRow& row, WallTime sent_at) {
  return nlohmann::json{{"version", 1},
                        {"id", row.id},
                        {"event", row.event},
                        {"sent_at", rfc3339(sent_at)},
                        {"incident", incident_of(row)}}
      .dump();
}

std::string headline(const OutboxRow& row) {
  const auto inc = incident_of(row);
  if (inc.is_null()) return "[TEST] lookout test notification: this channel delivers";
  const std::string monitor = str(inc, "monitor");
  const std::string what = row.event == "incident.resolved"       ? "is up again"
                           : row.event == "incident.acknowledged" ? "acknowledged"
                                                                  : str(inc, "cause");
  return one_line(fmt::format("[{}] {}: {}", label(row.event, str(inc, "state")), monitor, what), 200);
}

std::string email_message(const ChannelConfig& c, const OutboxRow& row, const std::string& public_url, WallTime now) {
  const auto inc = incident_of(row);
  std::string body;
  if (inc.is_null()) {
    body = fmt::format("This is a test notification from lookout through the channel \"{}\".\r\n"
                       "If you read this, the channel delivers.\r\n",
                       c.name);
  } else {
    body = fmt::format("Monitor:   {}\r\nGroup:     {}\r\nState:     {}\r\nCause:     {}\r\nSince:     {}\r\n",
                       str(inc, "monitor"), str(inc, "group"), str(inc, "state"), one_line(str(inc, "cause"), 500),
                       str(inc, "started_at"));
    if (!str(inc, "resolved_at").empty()) body += fmt::format("Resolved:  {}\r\n", str(inc, "resolved_at"));
    if (!str(inc, "acknowledged_by").empty()) {
      body += fmt::format("Acknowledged: {} (by {})\r\n", str(inc, "acknowledged_at"), str(inc, "acknowledged_by"));
    }
    if (!str(inc, "ack_url").empty()) body += fmt::format("\r\nAcknowledge: {}\r\n", str(inc, "ack_url"));
    body += fmt::format("Status page: {}/monitor/{}\r\n", public_url, str(inc, "monitor"));
  }
  body += fmt::format("\r\n-- \r\nlookout, event {} ({})\r\n", row.event, row.id);
  return message_envelope(c, row.id, headline(row), row.event, now) + body;
}

std::vector<std::string> sms_messages(const OutboxRow& row) {
  const auto inc = incident_of(row);
  std::string text;
  if (inc.is_null()) {
    text = "TEST lookout: this channel delivers";
  } else {
    const std::string started = str(inc, "started_at");
    const std::string hhmm = started.size() >= 16 ? started.substr(11, 5) + "Z" : started;
    text = fmt::format("{} {} {} since {}", label(row.event, str(inc, "state")), str(inc, "monitor"),
                       one_line(str(inc, "cause"), 60), hhmm);
    if (!str(inc, "ack_url").empty() && row.event != "incident.resolved" && row.event != "incident.acknowledged") {
      text += " ack: " + str(inc, "ack_url");
    }
  }
  return split_sms(text);
}

std::string notification_id(const Batch& rows) {
  if (rows.size() == 1) return rows.front().id;
  std::string ids;
  for (const auto& r : rows) ids += r.id + '\n';
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(ids.data(), ids.size(), digest, &len, EVP_sha256(), nullptr);
  std::string out = "grp_";
  for (unsigned int i = 0; i < 16 && i < len; ++i) out += fmt::format("{:02x}", digest[i]);
  return out;
}

std::string notification_event(const Batch& rows) { return rows.size() == 1 ? rows.front().event : "group"; }

std::string webhook_body(const Batch& rows, WallTime sent_at, const std::string& public_url) {
  if (rows.size() == 1) return webhook_body(rows.front(), sent_at);
  nlohmann::json counts = nlohmann::json::object();
  nlohmann::json events = nlohmann::json::array();
  for (const auto& r : rows) {
    counts[r.event] = counts.value(r.event, 0) + 1;
    events.push_back({{"id", r.id}, {"event", r.event}, {"incident", incident_of(r)}});
  }
  return nlohmann::json{{"version", 1},
                        {"id", notification_id(rows)},
                        {"event", "group"},
                        {"sent_at", rfc3339(sent_at)},
                        {"route", rows.front().route},
                        {"count", rows.size()},
                        {"counts", counts},
                        {"status_url", status_url(public_url)},
                        {"events", events}}
      .dump();
}

std::string headline(const Batch& rows) {
  if (rows.size() == 1) return headline(rows.front());
  return one_line(fmt::format("[{}] {} and {} more", counted_labels(rows), monitor_of(rows.front()), rows.size() - 1), 200);
}

std::string email_message(const ChannelConfig& c, const Batch& rows, const std::string& public_url, WallTime now) {
  if (rows.size() == 1) return email_message(c, rows.front(), public_url, now);
  std::string body = fmt::format("{} notifications of route \"{}\", worst first: {}.\r\nStatus page: {}\r\n\r\n", rows.size(),
                                 rows.front().route, counted_labels(rows), status_url(public_url));
  for (size_t i = 0; i < rows.size() && i < kEmailListed; ++i) {
    const auto inc = incident_of(rows[i]);
    body += fmt::format("{:<16} {:<28} {}\r\n", label(rows[i]), str(inc, "monitor"),
                        rows[i].event == "incident.resolved" ? "is up again" : one_line(str(inc, "cause"), 200));
    if (!str(inc, "ack_url").empty() && rows[i].event != "incident.resolved" && rows[i].event != "incident.acknowledged") {
      body += fmt::format("{:<16} acknowledge: {}\r\n", "", str(inc, "ack_url"));
    }
  }
  if (rows.size() > kEmailListed) {
    body += fmt::format("\r\n... and {} more: {}\r\n", rows.size() - kEmailListed, status_url(public_url));
  }
  const std::string id = notification_id(rows);
  body += fmt::format("\r\n-- \r\nlookout, {} events ({})\r\n", rows.size(), id);
  return message_envelope(c, id, headline(rows), "group", now) + body;
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
    const std::string next = " " + monitor_of(r);
    const std::string rest = fmt::format(" +{} more ", rows.size() - shown - 1);
    if (head.size() + names.size() + next.size() + rest.size() + link.size() > kBudget) break;
    names += next;
    ++shown;
  }
  std::string text = head + names;
  text += shown < rows.size() ? fmt::format(" +{} more {}", rows.size() - shown, link) : " " + link;
  return split_sms(text, true);
}

std::string webhook_signature(const std::string& secret, const std::string& body) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()), reinterpret_cast<const unsigned char*>(body.data()),
       body.size(), mac, &len);
  std::string hex = "sha256=";
  for (unsigned int i = 0; i < len; ++i) hex += fmt::format("{:02x}", mac[i]);
  return hex;
}

}  // namespace lookout
