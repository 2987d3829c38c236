#include "alerting/message.h"

#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

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
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char date[64];
  std::strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
  std::string to;
  for (const auto& r : c.to) to += (to.empty() ? "" : ", ") + r;
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
  return fmt::format(
      "Date: {}\r\nFrom: {}\r\nTo: {}\r\nMessage-ID: <{}@lookout>\r\nSubject: {}\r\nMIME-Version: 1.0\r\n"
      "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\nX-Lookout-Event: {}\r\n\r\n{}",
      date, c.from, to, row.id, headline(row), row.event, body);
}

std::vector<std::string> sms_messages(const OutboxRow& row) {
  constexpr size_t kLimit = 160;
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
  if (text.size() <= kLimit) return {text};
  std::string second = text.substr(kLimit);
  if (second.size() > kLimit) second = second.substr(0, kLimit - 3) + "...";
  return {text.substr(0, kLimit), second};
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
