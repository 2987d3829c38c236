#include "tests/integration/providers.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <regex>
#include <utility>

namespace lookout::testing {
namespace {

using nlohmann::json;

// The ids a path holds beside the secret: only the secret part is checked against a canary.
constexpr const char* kSlackTeam = "T0LOOKOUT";
constexpr const char* kSlackBot = "B0LOOKOUT";
constexpr const char* kTeamsFlow = "5e3c1a2b7d9f4e6a8b0c2d4e6f8a0b1c";
constexpr const char* kDiscordWebhook = "1234567890123456789";

std::string lower_case(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

// The media type of the request, lower case, without parameters ("application/json").
std::string media_type(const httplib::Request& req) {
  const std::string ct = req.get_header_value("Content-Type");
  return lower_case(trim(ct.substr(0, ct.find(';'))));
}

std::optional<json> json_body(const httplib::Request& req) {
  if (media_type(req) != "application/json") return std::nullopt;
  auto j = json::parse(req.body, nullptr, false);
  if (j.is_discarded()) return std::nullopt;
  return j;
}

// The fields of a request that may come as JSON, a form, multipart or the query string
// (Telegram, Pushover and Gotify take all of them). Null when the body is JSON that does not
// parse, or JSON that is not an object.
std::optional<json> fields_of(const httplib::Request& req) {
  json out = json::object();
  if (media_type(req) == "application/json") {
    auto j = json::parse(req.body, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return std::nullopt;
    out = std::move(j);
  }
  for (const auto& [k, v] : req.params) {
    if (!out.contains(k)) out[k] = v;
  }
  for (const auto& [k, f] : req.files) {
    if (!out.contains(k)) out[k] = f.content;
  }
  return out;
}

bool is_rfc3339(const std::string& s) {
  static const std::regex re(
      R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|z|[+-]\d{2}:\d{2}))");
  return std::regex_match(s, re);
}

bool is_http_url(const std::string& s) {
  static const std::regex re(R"(https?://[^\s/?#]+([/?#]\S*)?)");
  return std::regex_match(s, re);
}

bool is_string(const json& j, const char* key) { return j.contains(key) && j[key].is_string(); }

// A string member: absent is fine, any other type is not.
bool string_or_absent(const json& j, const char* key) {
  return !j.contains(key) || j[key].is_string();
}

size_t length_of(const json& j, const char* key) {
  return is_string(j, key) ? j[key].get_ref<const std::string&>().size() : 0;
}

// Characters as the providers count them (code points, not bytes); Telegram counts UTF-16
// units, so a character beyond the BMP counts twice there.
size_t chars(const std::string& s, bool utf16 = false) {
  size_t n = 0;
  for (unsigned char c : s) {
    if ((c & 0xC0) != 0x80) ++n;
    if (utf16 && c >= 0xF0) ++n;
  }
  return n;
}

std::string unix_now() { return std::to_string(static_cast<int64_t>(std::time(nullptr))); }

std::string rfc3339_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string base64_decode(const std::string& in) {
  static const std::string kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  uint32_t bits = 0;
  int n = 0;
  for (char c : in) {
    const auto v = kAlphabet.find(c);
    if (v == std::string::npos) continue;  // padding and white space
    bits = (bits << 6) | static_cast<uint32_t>(v);
    n += 6;
    if (n >= 8) {
      n -= 8;
      out += static_cast<char>((bits >> n) & 0xFF);
    }
  }
  return out;
}

// RFC 2047 encoded words ("=?UTF-8?B?...?=", "=?UTF-8?Q?...?="), which carry text beyond
// ASCII in a header; the white space between two adjacent words is not part of the text.
std::string decode_words(const std::string& v) {
  static const std::regex word(R"(=\?[^?]+\?([BbQq])\?([^?]*)\?=)");
  std::string out;
  auto last = v.cbegin();
  bool after_word = false;
  for (std::sregex_iterator it(v.begin(), v.end(), word), end; it != end; ++it) {
    const std::string between(last, (*it)[0].first);
    if (!(after_word && trim(between).empty())) out += between;
    const std::string text = (*it)[2];
    if (lower_case((*it)[1]) == "b") {
      out += base64_decode(text);
    } else {
      for (size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '_') {
          out += ' ';
        } else if (text[i] == '=' && i + 2 < text.size()) {
          out += static_cast<char>(std::stoi(text.substr(i + 1, 2), nullptr, 16));
          i += 2;
        } else {
          out += text[i];
        }
      }
    }
    last = (*it)[0].second;
    after_word = true;
  }
  out.append(last, v.cend());
  return out;
}

// --- PagerDuty Events API v2 -------------------------------------------------------------

std::vector<std::string> pagerduty_errors(const json& e, const std::string& routing_key) {
  std::vector<std::string> errors;
  if (!e.is_object()) return {"Event object is not a JSON object"};
  if (!is_string(e, "routing_key") || e["routing_key"].get<std::string>().empty()) {
    errors.emplace_back("'routing_key' is missing or blank");
  } else if (e["routing_key"].get<std::string>().size() != 32) {
    errors.emplace_back("Length of 'routing_key' is incorrect (should be 32 characters)");
  } else if (e["routing_key"] != routing_key) {
    errors.emplace_back("Invalid routing key");
  }
  const std::string action = e.value("event_action", json()).is_string()
                                 ? e["event_action"].get<std::string>()
                                 : std::string();
  if (action != "trigger" && action != "acknowledge" && action != "resolve") {
    errors.emplace_back(
        "'event_action' is invalid (must be one of the following: 'trigger', 'acknowledge' or "
        "'resolve')");
  }
  if (!string_or_absent(e, "dedup_key")) {
    errors.emplace_back("'dedup_key' must be a string");
  } else if (length_of(e, "dedup_key") > 255) {
    errors.emplace_back("'dedup_key' is too long (max 255 characters)");
  } else if ((action == "acknowledge" || action == "resolve") && length_of(e, "dedup_key") == 0) {
    errors.emplace_back("'dedup_key' is missing or blank");
  }
  for (const char* key : {"client", "client_url"}) {
    if (!string_or_absent(e, key)) errors.push_back(fmt::format("'{}' must be a string", key));
  }
  if (e.contains("links")) {
    const auto& links = e["links"];
    const bool ok = links.is_array() && std::all_of(links.begin(), links.end(), [](const json& l) {
                      return l.is_object() && is_string(l, "href") && string_or_absent(l, "text");
                    });
    if (!ok) errors.emplace_back("'links' is invalid (must be an array of {href, text})");
  }
  if (e.contains("images")) {
    const auto& images = e["images"];
    const bool ok = images.is_array() &&
                    std::all_of(images.begin(), images.end(),
                                [](const json& i) { return i.is_object() && is_string(i, "src"); });
    if (!ok) errors.emplace_back("'images' is invalid (must be an array of {src, href, alt})");
  }
  if (action != "trigger") return errors;
  if (!e.contains("payload") || !e["payload"].is_object()) {
    errors.emplace_back("'payload' is missing or blank");
    return errors;
  }
  const auto& p = e["payload"];
  if (!is_string(p, "summary") || p["summary"].get<std::string>().empty()) {
    errors.emplace_back("'payload.summary' is missing or blank");
  } else if (chars(p["summary"]) > 1024) {
    errors.emplace_back("'payload.summary' is too long (max 1024 characters)");
  }
  if (!is_string(p, "source") || p["source"].get<std::string>().empty()) {
    errors.emplace_back("'payload.source' is missing or blank");
  }
  static const std::set<std::string> severities{"critical", "error", "warning", "info"};
  if (!is_string(p, "severity") || severities.count(p["severity"].get<std::string>()) == 0) {
    errors.emplace_back(
        "'payload.severity' is invalid (must be one of the following: 'critical', 'warning', "
        "'error' or 'info')");
  }
  if (p.contains("timestamp") && !(p["timestamp"].is_string() && is_rfc3339(p["timestamp"]))) {
    errors.emplace_back("'payload.timestamp' is invalid (must be a valid ISO 8601 date)");
  }
  for (const char* key : {"component", "group", "class"}) {
    if (!string_or_absent(p, key)) {
      errors.push_back(fmt::format("'payload.{}' must be a string", key));
    }
  }
  return errors;
}

// A change event (POST /v2/change/enqueue): a routing key, a payload with a summary, and
// optional timestamp, source, custom_details and links. It has no event_action or dedup_key: it
// opens no alert.
std::vector<std::string> pagerduty_change_errors(const json& e, const std::string& routing_key) {
  if (!e.is_object()) return {"Event object is not a JSON object"};
  std::vector<std::string> errors;
  if (!is_string(e, "routing_key") || e["routing_key"].get<std::string>().empty()) {
    errors.emplace_back("'routing_key' is missing or blank");
  } else if (e["routing_key"] != routing_key) {
    errors.emplace_back("Invalid routing key");
  }
  if (e.contains("links")) {
    const auto& links = e["links"];
    const bool ok = links.is_array() && std::all_of(links.begin(), links.end(), [](const json& l) {
                      return l.is_object() && is_string(l, "href") && string_or_absent(l, "text");
                    });
    if (!ok) errors.emplace_back("'links' is invalid (must be an array of {href, text})");
  }
  if (!e.contains("payload") || !e["payload"].is_object()) {
    errors.emplace_back("'payload' is missing or blank");
    return errors;
  }
  const auto& p = e["payload"];
  if (!is_string(p, "summary") || p["summary"].get<std::string>().empty()) {
    errors.emplace_back("'payload.summary' is missing or blank");
  } else if (chars(p["summary"]) > 1024) {
    errors.emplace_back("'payload.summary' is too long (max 1024 characters)");
  }
  if (!string_or_absent(p, "source")) errors.emplace_back("'payload.source' must be a string");
  if (p.contains("timestamp") && !(p["timestamp"].is_string() && is_rfc3339(p["timestamp"]))) {
    errors.emplace_back("'payload.timestamp' is invalid (must be a valid ISO 8601 date)");
  }
  if (p.contains("custom_details") && !p["custom_details"].is_object()) {
    errors.emplace_back("'payload.custom_details' must be an object");
  }
  return errors;
}

// --- Opsgenie Alert API --------------------------------------------------------------------

// The error of one responder (or visibleTo entry), or "".
std::string opsgenie_recipient_error(const json& r) {
  static const std::set<std::string> types{"team", "user", "escalation", "schedule"};
  if (!r.is_object() || !is_string(r, "type") || types.count(r["type"]) == 0) {
    return "Responder type should be one of team, user, escalation or schedule";
  }
  const bool named = is_string(r, "id") || is_string(r, "name") ||
                     (r["type"] == "user" && is_string(r, "username"));
  return named ? "" : "Responder should have id or name (username for a user)";
}

json opsgenie_create_errors(const json& a) {
  json errors = json::object();
  if (!a.is_object()) {
    errors["body"] = "Request body should be a JSON object";
    return errors;
  }
  if (!is_string(a, "message") || trim(a["message"]).empty()) {
    errors["message"] = "Message can not be empty.";
  } else if (chars(a["message"]) > 130) {
    errors["message"] = "Message can not be longer than 130 characters.";
  }
  const std::pair<const char*, size_t> limits[] = {{"alias", 512},  {"description", 15000},
                                                   {"entity", 512}, {"source", 100},
                                                   {"user", 100},   {"note", 25000}};
  for (const auto& [key, max] : limits) {
    if (!string_or_absent(a, key)) {
      errors[key] = fmt::format("{} should be a string", key);
    } else if (chars(a.value(key, std::string())) > max) {
      errors[key] = fmt::format("{} can not be longer than {} characters", key, max);
    }
  }
  for (const char* key : {"responders", "visibleTo"}) {
    if (!a.contains(key)) continue;
    if (!a[key].is_array() || a[key].size() > 50) {
      errors[key] = fmt::format("{} should be a list of at most 50", key);
      continue;
    }
    for (const auto& r : a[key]) {
      if (auto e = opsgenie_recipient_error(r); !e.empty()) errors[key] = e;
    }
  }
  if (a.contains("tags")) {
    const auto& t = a["tags"];
    const bool ok = t.is_array() && t.size() <= 20 && std::all_of(t.begin(), t.end(), [](auto& x) {
                      return x.is_string() && chars(x) <= 50;
                    });
    if (!ok) errors["tags"] = "Tags should be at most 20 strings of at most 50 characters";
  }
  if (a.contains("actions")) {
    const auto& t = a["actions"];
    const bool ok = t.is_array() && t.size() <= 10 && std::all_of(t.begin(), t.end(), [](auto& x) {
                      return x.is_string() && chars(x) <= 50;
                    });
    if (!ok) errors["actions"] = "Actions should be at most 10 strings of at most 50 characters";
  }
  if (a.contains("details")) {
    const auto& d = a["details"];
    const bool ok = d.is_object() && std::all_of(d.begin(), d.end(), [](const json& v) {
                      return v.is_string() && chars(v) <= 8000;
                    });
    if (!ok) errors["details"] = "Details should be a map of strings to strings";
  }
  if (a.contains("priority")) {
    static const std::set<std::string> p{"P1", "P2", "P3", "P4", "P5"};
    if (!a["priority"].is_string() || p.count(a["priority"]) == 0) {
      errors["priority"] = "Priority should be one of P1, P2, P3, P4 or P5";
    }
  }
  return errors;
}

// --- Slack Block Kit -----------------------------------------------------------------------

bool slack_text(const json& t, size_t max, bool plain_only = false) {
  if (!t.is_object() || !is_string(t, "text") || !is_string(t, "type")) return false;
  const std::string type = t["type"];
  if (type != "plain_text" && (plain_only || type != "mrkdwn")) return false;
  const size_t n = chars(t["text"]);
  return n >= 1 && n <= max;
}

bool slack_element(const json& e) {
  if (!e.is_object() || !is_string(e, "type")) return false;
  const std::string type = e["type"];
  if (type == "button") {
    if (!slack_text(e.value("text", json()), 75, true)) return false;
    if (e.contains("url") &&
        !(e["url"].is_string() && is_http_url(e["url"]) && chars(e["url"]) <= 3000)) {
      return false;
    }
    if (e.contains("style") && e["style"] != "primary" && e["style"] != "danger") return false;
    return length_of(e, "action_id") <= 255 && length_of(e, "value") <= 2000;
  }
  if (type == "image") return is_string(e, "image_url") && is_string(e, "alt_text");
  return type == "overflow" || type == "static_select" || type == "datepicker" ||
         type == "users_select" || type == "conversations_select" || type == "channels_select";
}

bool slack_block(const json& b) {
  if (!b.is_object() || !is_string(b, "type") || length_of(b, "block_id") > 255) return false;
  const std::string type = b["type"];
  if (type == "divider") return true;
  if (type == "header") return slack_text(b.value("text", json()), 150, true);
  if (type == "section") {
    const bool text = b.contains("text");
    const bool fields = b.contains("fields");
    if (!text && !fields) return false;
    if (text && !slack_text(b["text"], 3000)) return false;
    if (fields) {
      const auto& f = b["fields"];
      if (!f.is_array() || f.empty() || f.size() > 10) return false;
      for (const auto& x : f) {
        if (!slack_text(x, 2000)) return false;
      }
    }
    return !b.contains("accessory") || slack_element(b["accessory"]);
  }
  if (type == "context") {
    const auto& e = b.value("elements", json());
    if (!e.is_array() || e.empty() || e.size() > 10) return false;
    return std::all_of(e.begin(), e.end(), [](const json& x) {
      return slack_text(x, 3000) || (x.is_object() && x.value("type", "") == "image" &&
                                     is_string(x, "image_url") && is_string(x, "alt_text"));
    });
  }
  if (type == "actions") {
    const auto& e = b.value("elements", json());
    if (!e.is_array() || e.empty() || e.size() > 25) return false;
    std::set<std::string> ids;
    for (const auto& x : e) {
      if (!slack_element(x)) return false;
      if (is_string(x, "action_id") && !ids.insert(x["action_id"].get<std::string>()).second) {
        return false;
      }
    }
    return true;
  }
  if (type == "image") return is_string(b, "image_url") && is_string(b, "alt_text");
  if (type == "rich_text") return b.contains("elements") && b["elements"].is_array();
  return false;
}

// --- Adaptive Cards (Teams) ----------------------------------------------------------------

std::string card_action_error(const json& a) {
  if (!a.is_object() || !is_string(a, "type")) return "an action has no type";
  const std::string type = a["type"];
  if (type == "Action.OpenUrl") {
    return is_string(a, "url") && is_http_url(a["url"]) ? "" : "Action.OpenUrl needs a url";
  }
  if (type == "Action.Submit" || type == "Action.Execute" || type == "Action.ToggleVisibility" ||
      type == "Action.ShowCard") {
    return "";
  }
  return fmt::format("unknown action type {}", type);
}

std::string card_element_error(const json& e) {
  if (!e.is_object() || !is_string(e, "type")) return "an element has no type";
  const std::string type = e["type"];
  auto each = [](const json& list, auto&& check) -> std::string {
    if (!list.is_array()) return "not a list";
    for (const auto& x : list) {
      if (auto err = check(x); !err.empty()) return err;
    }
    return "";
  };
  if (type == "TextBlock") return is_string(e, "text") ? "" : "TextBlock needs a text";
  if (type == "RichTextBlock") return e.contains("inlines") ? "" : "RichTextBlock needs inlines";
  if (type == "Image") return is_string(e, "url") ? "" : "Image needs a url";
  if (type == "ImageSet") return e.contains("images") ? "" : "ImageSet needs images";
  if (type == "FactSet") {
    return each(e.value("facts", json()), [](const json& f) -> std::string {
      return f.is_object() && is_string(f, "title") && is_string(f, "value")
                 ? ""
                 : "a fact needs a title and a value, both strings";
    });
  }
  if (type == "Container") return each(e.value("items", json()), card_element_error);
  if (type == "ColumnSet") {
    return each(e.value("columns", json::array()), [&](const json& c) -> std::string {
      if (!c.is_object()) return "a column is not an object";
      return each(c.value("items", json::array()), card_element_error);
    });
  }
  if (type == "ActionSet") return each(e.value("actions", json()), card_action_error);
  if (type == "Table" || type.rfind("Input.", 0) == 0) return "";
  return fmt::format("unknown element type {}", type);
}

std::string teams_error(const json& m) {
  if (!m.is_object() || m.value("type", "") != "message") return "type must be \"message\"";
  const auto& atts = m.value("attachments", json());
  if (!atts.is_array() || atts.empty()) return "attachments must be a non-empty list";
  for (const auto& a : atts) {
    if (!a.is_object() || a.value("contentType", "") != "application/vnd.microsoft.card.adaptive") {
      return "each attachment's contentType must be application/vnd.microsoft.card.adaptive";
    }
    const auto& c = a.value("content", json());
    if (!c.is_object() || c.value("type", "") != "AdaptiveCard") {
      return "an attachment's content must be an AdaptiveCard";
    }
    static const std::regex version(R"(1\.[0-6])");
    if (!is_string(c, "version") || !std::regex_match(c["version"].get<std::string>(), version)) {
      return "the card's version must be 1.0 to 1.6";
    }
    const auto& body = c.value("body", json());
    if (!body.is_array() || body.empty()) return "the card's body must be a non-empty list";
    for (const auto& e : body) {
      if (auto err = card_element_error(e); !err.empty()) return err;
    }
    if (c.contains("actions")) {
      if (!c["actions"].is_array()) return "the card's actions must be a list";
      for (const auto& x : c["actions"]) {
        if (auto err = card_action_error(x); !err.empty()) return err;
      }
    }
  }
  return "";
}

// --- Discord -------------------------------------------------------------------------------

// Discord's "Invalid Form Body" names each wrong field by its path.
void discord_error(json& errors, const std::vector<std::string>& path, const std::string& code,
                   const std::string& message) {
  json* at = &errors;
  for (const auto& p : path) at = &(*at)[p];
  (*at)["_errors"].push_back({{"code", code}, {"message", message}});
}

json discord_errors(const json& m) {
  json errors = json::object();
  auto max_len = [&](const json& obj, const char* key, size_t max,
                     const std::vector<std::string>& path, bool required = false) {
    if (!obj.contains(key)) {
      if (required) discord_error(errors, path, "BASE_TYPE_REQUIRED", "This field is required");
      return size_t{0};
    }
    if (!obj[key].is_string()) {
      discord_error(errors, path, "BASE_TYPE_STRING", "Could not interpret value as string.");
      return size_t{0};
    }
    const size_t n = chars(obj[key]);
    if (n > max || (required && n == 0)) {
      discord_error(errors, path, "BASE_TYPE_BAD_LENGTH",
                    fmt::format("Must be between {} and {} in length.", required ? 1 : 0, max));
    }
    return n;
  };
  max_len(m, "content", 2000, {"content"});
  max_len(m, "username", 80, {"username"});
  if (!m.contains("embeds")) return errors;
  const auto& embeds = m["embeds"];
  if (!embeds.is_array() || embeds.size() > 10) {
    discord_error(errors, {"embeds"}, "BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length.");
    return errors;
  }
  size_t total = 0;
  for (size_t i = 0; i < embeds.size(); ++i) {
    const std::string n = std::to_string(i);
    const auto& e = embeds[i];
    if (!e.is_object()) {
      discord_error(errors, {"embeds", n}, "DICT_TYPE_CONVERT", "Only dictionaries may be used.");
      continue;
    }
    total += max_len(e, "title", 256, {"embeds", n, "title"});
    total += max_len(e, "description", 4096, {"embeds", n, "description"});
    if (e.contains("url") && !(e["url"].is_string() && is_http_url(e["url"]))) {
      discord_error(errors, {"embeds", n, "url"}, "URL_TYPE_INVALID_URL", "Not a well formed URL.");
    }
    if (e.contains("timestamp") && !(e["timestamp"].is_string() && is_rfc3339(e["timestamp"]))) {
      discord_error(errors, {"embeds", n, "timestamp"}, "DATE_TIME_TYPE_PARSE",
                    "Could not parse timestamp. Should be ISO8601.");
    }
    if (e.contains("color") && !(e["color"].is_number_integer() && e["color"].get<int64_t>() >= 0 &&
                                 e["color"].get<int64_t>() <= 0xFFFFFF)) {
      discord_error(errors, {"embeds", n, "color"}, "NUMBER_TYPE_MAX",
                    "int value should be less than or equal to 16777215.");
    }
    if (e.contains("footer"))
      total += max_len(e["footer"], "text", 2048, {"embeds", n, "footer"}, true);
    if (e.contains("author"))
      total += max_len(e["author"], "name", 256, {"embeds", n, "author"}, true);
    if (!e.contains("fields")) continue;
    const auto& fields = e["fields"];
    if (!fields.is_array() || fields.size() > 25) {
      discord_error(errors, {"embeds", n, "fields"}, "BASE_TYPE_MAX_LENGTH",
                    "Must be 25 or fewer in length.");
      continue;
    }
    for (size_t f = 0; f < fields.size(); ++f) {
      const std::string fn = std::to_string(f);
      const auto& field = fields[f];
      if (!field.is_object()) {
        discord_error(errors, {"embeds", n, "fields", fn}, "DICT_TYPE_CONVERT",
                      "Only dictionaries may be used.");
        continue;
      }
      total += max_len(field, "name", 256, {"embeds", n, "fields", fn, "name"}, true);
      total += max_len(field, "value", 1024, {"embeds", n, "fields", fn, "value"}, true);
      if (field.contains("inline") && !field["inline"].is_boolean()) {
        discord_error(errors, {"embeds", n, "fields", fn, "inline"}, "BASE_TYPE_BOOLEAN",
                      "Must be either true or false.");
      }
    }
  }
  if (total > 6000) {
    discord_error(errors, {"embeds"}, "MAX_EMBED_SIZE_EXCEEDED",
                  "Embed size exceeds maximum size of 6000");
  }
  return errors;
}

// --- Telegram HTML -------------------------------------------------------------------------

// Parses text the way Telegram's parse_mode HTML does: only its tags, properly nested, every
// other '<' escaped. Returns the error Telegram gives, or "" and the text as shown in `plain`.
std::string telegram_html_error(const std::string& html, std::string& plain) {
  static const std::set<std::string> tags{"b",   "strong",     "i",          "em",      "u", "ins",
                                          "s",   "strike",     "del",        "span",    "a", "code",
                                          "pre", "tg-spoiler", "blockquote", "tg-emoji"};
  std::vector<std::string> open;
  size_t i = 0;
  while (i < html.size()) {
    const char c = html[i];
    if (c == '&') {
      const size_t semi = html.find(';', i);
      const std::string name = semi == std::string::npos || semi - i > 10
                                   ? std::string()
                                   : html.substr(i + 1, semi - i - 1);
      static const std::map<std::string, std::string> named{
          {"lt", "<"}, {"gt", ">"}, {"amp", "&"}, {"quot", "\""}};
      static const std::regex numeric(R"(#([0-9]{1,7}|[xX][0-9a-fA-F]{1,6}))");
      if (named.count(name) != 0) {
        plain += named.at(name);
        i = semi + 1;
      } else if (std::regex_match(name, numeric)) {
        plain += '?';  // one character; which one does not matter for the checks
        i = semi + 1;
      } else {
        plain += c;
        ++i;
      }
      continue;
    }
    if (c != '<') {
      plain += c;
      ++i;
      continue;
    }
    const size_t close = html.find('>', i);
    if (close == std::string::npos) {
      return fmt::format("Unclosed start tag at byte offset {}", i);
    }
    const std::string inner = html.substr(i + 1, close - i - 1);
    if (!inner.empty() && inner[0] == '/') {
      const std::string name = lower_case(trim(inner.substr(1)));
      if (open.empty()) return fmt::format("Unexpected end tag at byte offset {}", i);
      if (name != open.back()) {
        return fmt::format(
            "Unmatched end tag at byte offset {}, expected \"</{}>\", found \"</{}>\"", i,
            open.back(), name);
      }
      open.pop_back();
    } else {
      const std::string name = lower_case(inner.substr(0, inner.find_first_of(" \t\n/")));
      if (name.empty() || tags.count(name) == 0) {
        return fmt::format("Unsupported start tag \"{}\" at byte offset {}", name, i);
      }
      const std::string attrs = inner.substr(name.size());
      if (name == "a" && attrs.find("href=") == std::string::npos) {
        return fmt::format("Can't find href attribute of the tag \"a\" at byte offset {}", i);
      }
      if (name == "span" && attrs.find("tg-spoiler") == std::string::npos) {
        return fmt::format("Tag \"span\" must have class \"tg-spoiler\" at byte offset {}", i);
      }
      open.push_back(name);
    }
    i = close + 1;
  }
  if (!open.empty()) {
    return fmt::format("Can't find end tag corresponding to start tag \"{}\"", open.back());
  }
  return "";
}

std::string telegram_markup_error(const json& markup) {
  const json m =
      markup.is_string() ? json::parse(markup.get<std::string>(), nullptr, false) : markup;
  if (!m.is_object()) return "can't parse reply keyboard markup JSON object";
  if (!m.contains("inline_keyboard")) return "";
  const auto& rows = m["inline_keyboard"];
  if (!rows.is_array()) return "field \"inline_keyboard\" must be an Array";
  for (const auto& row : rows) {
    if (!row.is_array()) return "field \"inline_keyboard\" must be an Array of Arrays";
    for (const auto& b : row) {
      if (!b.is_object() || !is_string(b, "text")) return "can't find field \"text\"";
      if (b.contains("url") && !(b["url"].is_string() && is_http_url(b["url"]))) {
        return "BUTTON_URL_INVALID";
      }
    }
  }
  return "";
}

// --- ntfy ----------------------------------------------------------------------------------

std::string first_header(const httplib::Request& req, std::initializer_list<const char*> names) {
  for (const char* n : names) {
    if (req.has_header(n)) return req.get_header_value(n);
  }
  for (const char* n : names) {
    if (req.has_param(n)) return req.get_param_value(n);
  }
  return "";
}

std::optional<int> ntfy_priority(const std::string& v) {
  static const std::map<std::string, int> words{
      {"", 3},    {"1", 1},   {"2", 2},       {"3", 3},    {"4", 4},   {"5", 5},
      {"min", 1}, {"low", 2}, {"default", 3}, {"high", 4}, {"max", 5}, {"urgent", 5}};
  const auto it = words.find(lower_case(trim(v)));
  if (it == words.end()) return std::nullopt;
  return it->second;
}

// Splits ntfy's simple action format on `sep`, keeping quoted parts whole.
std::vector<std::string> split_quoted(const std::string& s, char sep) {
  std::vector<std::string> parts(1);
  char quote = 0;
  for (char c : s) {
    if (quote != 0) {
      if (c == quote) {
        quote = 0;
      } else {
        parts.back() += c;
      }
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == sep) {
      parts.emplace_back();
    } else {
      parts.back() += c;
    }
  }
  return parts;
}

// ntfy's Actions header, simple or JSON; nullopt when ntfy would refuse it.
std::optional<json> ntfy_actions(const std::string& header) {
  json out = json::array();
  if (trim(header).empty()) return out;
  if (trim(header)[0] == '[') {
    auto j = json::parse(header, nullptr, false);
    if (!j.is_array()) return std::nullopt;
    out = std::move(j);
  } else {
    for (const auto& one : split_quoted(header, ';')) {
      if (trim(one).empty()) continue;
      json a = json::object();
      const auto parts = split_quoted(one, ',');
      for (size_t i = 0; i < parts.size(); ++i) {
        const std::string p = trim(parts[i]);
        const auto eq = p.find('=');
        if (i == 0) {
          a["action"] = p;
        } else if (eq != std::string::npos && eq > 0 &&
                   p.substr(0, eq).find_first_of(":/") == std::string::npos) {
          a[trim(p.substr(0, eq))] = trim(p.substr(eq + 1));
        } else if (i == 1) {
          a["label"] = p;
        } else if (i == 2) {
          a["url"] = p;
        } else {
          return std::nullopt;
        }
      }
      out.push_back(std::move(a));
    }
  }
  if (out.size() > 3) return std::nullopt;
  for (const auto& a : out) {
    if (!a.is_object() || !is_string(a, "action") || !is_string(a, "label") ||
        a["label"].get<std::string>().empty()) {
      return std::nullopt;
    }
    const std::string action = a["action"];
    if (action == "view" || action == "http") {
      if (!is_string(a, "url") || !is_http_url(a["url"])) return std::nullopt;
    } else if (action != "broadcast") {
      return std::nullopt;
    }
  }
  return out;
}

json ntfy_error(int http, int code, const std::string& error, const std::string& link) {
  return {{"code", code}, {"http", http}, {"error", error}, {"link", link}};
}

// --- Alertmanager --------------------------------------------------------------------------

bool alert_label_name(const std::string& n) {
  static const std::regex re(R"([a-zA-Z_][a-zA-Z0-9_]*)");
  return std::regex_match(n, re);
}

// Alertmanager's v2 API: swagger validation (422, {"code", "message"}) and its own checks
// (400, the message as a JSON string). Like Go's decoder it reads a null member as absent.
std::optional<std::pair<int, std::string>> alertmanager_error(const json& alerts) {
  auto swagger = [](int code, const std::string& message) {
    return std::make_pair(422, json{{"code", code}, {"message", message}}.dump());
  };
  auto refused = [](const std::string& message) {
    return std::make_pair(400, json(message).dump());
  };
  auto present = [](const json& a, const char* key) {
    return a.contains(key) && !a[key].is_null();
  };
  for (size_t i = 0; i < alerts.size(); ++i) {
    const auto& a = alerts[i];
    if (!a.is_object()) return swagger(600, fmt::format("{} in body must be of type object", i));
    if (!present(a, "labels")) {
      return swagger(602, fmt::format("{}.labels in body is required", i));
    }
    for (const char* map : {"labels", "annotations"}) {
      if (!present(a, map)) continue;
      if (!a[map].is_object()) {
        return swagger(600, fmt::format("{}.{} in body must be of type object", i, map));
      }
      for (const auto& [k, v] : a[map].items()) {
        if (!v.is_string()) {
          return swagger(600, fmt::format("{}.{}.{} in body must be of type string", i, map, k));
        }
      }
    }
    for (const char* key : {"startsAt", "endsAt"}) {
      if (present(a, key) && !(a[key].is_string() && is_rfc3339(a[key]))) {
        return swagger(601, fmt::format("{}.{} in body must be of type date-time", i, key));
      }
    }
    if (present(a, "generatorURL") &&
        !(a["generatorURL"].is_string() && is_http_url(a["generatorURL"]))) {
      return swagger(601, fmt::format("{}.generatorURL in body must be of type uri", i));
    }
    if (a["labels"].empty()) return refused("at least one label pair required");
    for (const auto& [k, v] : a["labels"].items()) {
      if (!alert_label_name(k)) {
        return refused(fmt::format("invalid label set: invalid name \"{}\"", k));
      }
      if (v.get<std::string>().empty()) {
        return refused(fmt::format("invalid label set: empty value of \"{}\"", k));
      }
    }
    if (present(a, "startsAt") && present(a, "endsAt") &&
        a["endsAt"].get<std::string>() < a["startsAt"].get<std::string>()) {
      return refused("start time must be before end time");
    }
  }
  return std::nullopt;
}

}  // namespace

const char* name(Provider p) {
  static const char* const kNames[] = {"pagerduty", "opsgenie",     "slack",  "teams",
                                       "discord",   "telegram",     "matrix", "ntfy",
                                       "pushover",  "alertmanager", "gotify", "unmatched"};
  return kNames[static_cast<size_t>(p)];
}

std::string ProviderRequest::header(const std::string& key) const {
  const auto it = headers.find(key);
  return it == headers.end() ? "" : it->second;
}

std::string ProviderRequest::header_text(const std::string& key) const {
  return decode_words(header(key));
}

std::string ProviderRequest::param(const std::string& key) const {
  const auto it = params.find(key);
  return it == params.end() ? "" : it->second;
}

nlohmann::json ProviderRequest::json() const { return nlohmann::json::parse(body, nullptr, false); }

ProviderServer::ProviderServer(ProviderSecrets secrets) : secrets_(std::move(secrets)) {
  using S = ProviderServer;
  route("POST", "/v2/enqueue", Provider::kPagerDuty, &S::pagerduty);
  route("POST", "/v2/change/enqueue", Provider::kPagerDuty, &S::pagerduty_change);
  route("POST", "/v2/alerts", Provider::kOpsgenie, &S::opsgenie_create);
  route("POST", R"(/v2/alerts/([^/]+)/(acknowledge|close))", Provider::kOpsgenie,
        &S::opsgenie_action);
  route("POST", R"(/services/([^/]+)/([^/]+)/([^/]+))", Provider::kSlack, &S::slack);
  route("POST", R"(/workflows/([^/]+)/triggers/manual/paths/invoke)", Provider::kTeams, &S::teams);
  route("POST", R"(/api/webhooks/([^/]+)/([^/]+))", Provider::kDiscord, &S::discord);
  route("POST", R"(/bot([^/]+)/([A-Za-z]+))", Provider::kTelegram, &S::telegram);
  route("GET", R"(/bot([^/]+)/([A-Za-z]+))", Provider::kTelegram, &S::telegram);
  route("PUT", R"(/_matrix/client/v3/rooms/([^/]+)/send/([^/]+)/([^/]+))", Provider::kMatrix,
        &S::matrix);
  route("POST", "/" + secrets_.ntfy_topic, Provider::kNtfy, &S::ntfy);
  route("PUT", "/" + secrets_.ntfy_topic, Provider::kNtfy, &S::ntfy);
  route("POST", "/1/messages.json", Provider::kPushover, &S::pushover_message);
  route("POST", R"(/1/receipts/cancel_by_tag/([^/]+)\.json)", Provider::kPushover,
        &S::pushover_cancel_by_tag);
  route("POST", R"(/1/receipts/([A-Za-z0-9]+)/cancel\.json)", Provider::kPushover,
        &S::pushover_cancel);
  route("POST", "/api/v2/alerts", Provider::kAlertmanager, &S::alertmanager);
  route("POST", "/message", Provider::kGotify, &S::gotify);
  for (const char* method : {"GET", "POST", "PUT", "DELETE", "PATCH"}) {
    route(method, ".*", Provider::kUnmatched, &S::unmatched);
  }
  server_.start();
}

void ProviderServer::route(const std::string& method, const std::string& pattern, Provider p,
                           Logic logic) {
  auto h = [this, p, logic](const httplib::Request& req, httplib::Response& res) {
    handle(p, logic, req, res);
  };
  auto& s = server_.routes();
  if (method == "GET") s.Get(pattern, h);
  if (method == "POST") s.Post(pattern, h);
  if (method == "PUT") s.Put(pattern, h);
  if (method == "DELETE") s.Delete(pattern, h);
  if (method == "PATCH") s.Patch(pattern, h);
}

void ProviderServer::handle(Provider p, Logic logic, const httplib::Request& req,
                            httplib::Response& res) {
  ProviderRequest r;
  r.provider = p;
  r.at = std::chrono::steady_clock::now();
  r.method = req.method;
  r.path = req.path;
  r.target = req.target;
  r.headers = req.headers;
  for (const auto& [k, v] : req.params) r.params.emplace(k, v);
  r.body = req.body;
  const auto fault = take_fault(p);
  Answer a;
  if (!fault || fault->failure.after_processing) a = (this->*logic)(req);
  if (fault) {
    const Failure& f = fault->failure;
    const bool duplicate = a.duplicate;
    a = fault_answer(p, f);
    a.duplicate = duplicate;
    r.injected = true;
    if (f.retry_after_s && f.header)
      res.set_header("Retry-After", std::to_string(*f.retry_after_s));
  }
  res.status = a.status;
  if (!a.body.empty()) res.set_content(a.body, a.content_type);
  r.status = a.status;
  r.answer = a.body;
  r.duplicate = a.duplicate;
  std::lock_guard lock(mu_);
  log_.push_back(std::move(r));
}

std::optional<ProviderServer::Fault> ProviderServer::take_fault(Provider p) {
  std::lock_guard lock(mu_);
  const auto it = faults_.find(p);
  if (it == faults_.end() || it->second.remaining <= 0) return std::nullopt;
  Fault f = it->second;
  if (--it->second.remaining == 0) faults_.erase(it);
  return f;
}

ProviderServer::Answer ProviderServer::fault_answer(Provider p, const Failure& f) {
  const bool limited = f.status == 429;
  const int s = f.hint_s.value_or(f.retry_after_s.value_or(0));
  Answer a;
  a.status = f.status;
  switch (p) {
    case Provider::kPagerDuty:
      a.body = limited ? json{{"status", "throttle event"},
                              {"message",
                               "Requests for this service are arriving too quickly.  Please "
                               "retry later."}}
                             .dump()
                       : json{{"status", "error"}, {"message", "Service unavailable"}}.dump();
      break;
    case Provider::kOpsgenie:
      a.body = json{{"message", limited ? "You are making too many requests! To avoid errors, we "
                                          "recommend you limit requests."
                                        : "Internal Server Error"},
                    {"took", 0.0},
                    {"requestId", "00000000-0000-4000-8000-000000000000"}}
                   .dump();
      break;
    case Provider::kSlack:
      a.body = limited ? "rate_limited" : "service_unavailable";
      a.content_type = "text/html";
      break;
    case Provider::kTeams:
      a.body = json{{"error",
                     {{"code", limited ? "TooManyRequests" : "ServiceUnavailable"},
                      {"message", limited ? fmt::format("Rate limit is exceeded. Try again in {} "
                                                        "seconds.",
                                                        s)
                                          : "The service is unavailable."}}}}
                   .dump();
      break;
    case Provider::kDiscord: {
      json j{{"message", limited ? "You are being rate limited." : "503: Service Unavailable"},
             {"code", 0}};
      if (limited) {
        j["global"] = false;
        if (f.retry_after_s) j["retry_after"] = static_cast<double>(s);
      }
      a.body = j.dump();
      break;
    }
    case Provider::kTelegram: {
      json j{{"ok", false},
             {"error_code", f.status},
             {"description", limited ? fmt::format("Too Many Requests: retry after {}", s)
                                     : "Internal Server Error"}};
      if (limited && f.retry_after_s) j["parameters"] = {{"retry_after", s}};
      a.body = j.dump();
      break;
    }
    case Provider::kMatrix: {
      json j{{"errcode", limited ? "M_LIMIT_EXCEEDED" : "M_UNKNOWN"},
             {"error", limited ? "Too Many Requests" : "Internal server error"}};
      if (limited && f.retry_after_s) j["retry_after_ms"] = s * 1000;
      a.body = j.dump();
      break;
    }
    case Provider::kNtfy:
      a.body = limited
                   ? ntfy_error(429, 42901, "limit reached: too many requests",
                                "https://ntfy.sh/docs/config/#rate-limiting")
                         .dump()
                   : ntfy_error(f.status, f.status * 100 + 1, "internal server error", "").dump();
      break;
    case Provider::kPushover:
      a.body = json{{"status", 0},
                    {"errors",
                     {limited ? "application is over its message limit"
                              : "service temporarily unavailable"}},
                    {"request", "00000000-0000-4000-8000-000000000000"}}
                   .dump();
      break;
    case Provider::kGotify:
      a.body = json{{"error", limited ? "Too Many Requests" : "Service Unavailable"},
                    {"errorCode", f.status},
                    {"errorDescription", "try again later"}}
                   .dump();
      break;
    case Provider::kAlertmanager:
    case Provider::kUnmatched:
      a.body = limited ? "Too Many Requests\n" : "Service Unavailable\n";
      a.content_type = "text/plain";
      break;
  }
  return a;
}

void ProviderServer::fail_next(Provider p, int n, Failure f) {
  std::lock_guard lock(mu_);
  faults_[p] = {n, f};
}

void ProviderServer::stop_failing(Provider p) {
  std::lock_guard lock(mu_);
  faults_.erase(p);
}

std::vector<ProviderRequest> ProviderServer::requests(Provider p) const {
  std::vector<ProviderRequest> out;
  {
    std::lock_guard lock(mu_);
    for (const auto& r : log_) {
      if (r.provider == p) out.push_back(r);
    }
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const auto& a, const auto& b) { return a.at < b.at; });
  return out;
}

std::vector<ProviderRequest> ProviderServer::accepted(Provider p) const {
  auto all = requests(p);
  all.erase(std::remove_if(all.begin(), all.end(), [](const auto& r) { return !r.accepted(); }),
            all.end());
  return all;
}

size_t ProviderServer::count(Provider p) const {
  std::lock_guard lock(mu_);
  return static_cast<size_t>(
      std::count_if(log_.begin(), log_.end(), [p](const auto& r) { return r.provider == p; }));
}

std::vector<MatrixEvent> ProviderServer::matrix_room() const {
  std::lock_guard lock(mu_);
  return matrix_room_;
}

bool ProviderServer::pushover_cancelled(const std::string& receipt) const {
  std::lock_guard lock(mu_);
  return pushover_cancelled_.count(receipt) != 0;
}

std::vector<std::string> ProviderServer::credentials() const {
  const auto& s = secrets_;
  std::vector<std::string> all{s.pagerduty_routing_key, s.opsgenie_api_key, s.opsgenie_user_key,
                               s.slack_secret,          s.teams_sig,        s.discord_token,
                               s.telegram_token,        s.matrix_token,     s.ntfy_token,
                               s.pushover_token,        s.pushover_user,    s.alertmanager_password,
                               s.gotify_token};
  all.erase(std::remove(all.begin(), all.end(), std::string()), all.end());
  return all;
}

std::string ProviderServer::base() const { return fmt::format("http://127.0.0.1:{}", port()); }

std::string ProviderServer::slack_url() const {
  return fmt::format("{}/services/{}/{}/{}", base(), kSlackTeam, kSlackBot, secrets_.slack_secret);
}

std::string ProviderServer::teams_url() const {
  return fmt::format(
      "{}/workflows/{}/triggers/manual/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual"
      "%2Frun&sv=1.0&sig={}",
      base(), kTeamsFlow, secrets_.teams_sig);
}

std::string ProviderServer::discord_url() const {
  return fmt::format("{}/api/webhooks/{}/{}", base(), kDiscordWebhook, secrets_.discord_token);
}

std::string ProviderServer::ntfy_url() const { return base() + "/" + secrets_.ntfy_topic; }

std::string ProviderServer::made_up_id() {
  const uint64_t n = ++serial_;
  return fmt::format("{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}", 0x10c0u + n, port() & 0xffff,
                     n & 0xfff, (n >> 12) & 0xfff, n * 0x9e3779b1u & 0xffffffffffffu);
}

ProviderServer::Answer ProviderServer::pagerduty(const httplib::Request& req) {
  auto invalid = [](std::vector<std::string> errors) {
    return Answer{400, json{{"status", "invalid event"},
                            {"message", "Event object is invalid"},
                            {"errors", std::move(errors)}}
                           .dump()};
  };
  const auto body = json_body(req);
  if (!body) return invalid({"Could not parse the request body as application/json"});
  const auto errors = pagerduty_errors(*body, secrets_.pagerduty_routing_key);
  if (!errors.empty()) return invalid(errors);
  const std::string action = (*body)["event_action"];
  std::string key = body->value("dedup_key", "");
  if (key.empty()) key = made_up_id();
  Answer a{202,
           json{{"status", "success"}, {"message", "Event processed"}, {"dedup_key", key}}.dump()};
  std::lock_guard lock(mu_);
  if (action == "trigger") {
    a.duplicate = !pagerduty_open_.insert(key).second;
  } else if (action == "resolve") {
    pagerduty_open_.erase(key);
  }
  return a;
}

ProviderServer::Answer ProviderServer::pagerduty_change(const httplib::Request& req) {
  auto invalid = [](std::vector<std::string> errors) {
    return Answer{400, json{{"status", "invalid event"},
                            {"message", "Event object is invalid"},
                            {"errors", std::move(errors)}}
                           .dump()};
  };
  const auto body = json_body(req);
  if (!body) return invalid({"Could not parse the request body as application/json"});
  if (auto errors = pagerduty_change_errors(*body, secrets_.pagerduty_routing_key); !errors.empty())
    return invalid(std::move(errors));
  return Answer{202, json{{"status", "success"}, {"message", "Change event processed"}}.dump()};
}

std::optional<ProviderServer::Answer> ProviderServer::opsgenie_auth(const httplib::Request& req) {
  const std::string auth = req.get_header_value("Authorization");
  const std::string scheme = "GenieKey ";
  const std::string key = auth.rfind(scheme, 0) == 0 ? trim(auth.substr(scheme.size())) : "";
  if (key == secrets_.opsgenie_api_key) return std::nullopt;
  if (key == secrets_.opsgenie_user_key) {
    return Answer{403, json{{"code", 40301},
                            {"message",
                             "To perform this action, use an API key from an API "
                             "integration."},
                            {"took", 0.001},
                            {"requestId", made_up_id()}}
                           .dump()};
  }
  return Answer{
      401, json{{"message", "Could not authenticate"}, {"took", 0.002}, {"requestId", made_up_id()}}
               .dump()};
}

ProviderServer::Answer ProviderServer::opsgenie_create(const httplib::Request& req) {
  if (auto refused = opsgenie_auth(req)) return *refused;
  const auto body = json_body(req);
  const json errors = body ? opsgenie_create_errors(*body)
                           : json{{"body", "Could not read the request body as application/json"}};
  if (!errors.empty()) {
    return {422, json{{"message", "Request body is not processable. Please check the errors."},
                      {"errors", errors},
                      {"took", 0.001},
                      {"requestId", made_up_id()}}
                     .dump()};
  }
  Answer a{202,
           json{{"result", "Request will be processed"}, {"took", 0.1}, {"requestId", made_up_id()}}
               .dump()};
  if (body->contains("alias")) {
    std::lock_guard lock(mu_);
    auto& state = opsgenie_alerts_[(*body)["alias"].get<std::string>()];
    a.duplicate = state == "open" || state == "acked";
    if (!a.duplicate) state = "open";
  }
  return a;
}

// Opsgenie takes these asynchronously and reports a wrong identifier later, in the request's
// status; answering at once is what makes a wrong identifier fail a test.
ProviderServer::Answer ProviderServer::opsgenie_action(const httplib::Request& req) {
  if (auto refused = opsgenie_auth(req)) return *refused;
  auto not_processable = [this](const std::string& message) {
    return Answer{422,
                  json{{"message", message}, {"took", 0.001}, {"requestId", made_up_id()}}.dump()};
  };
  if (!req.body.empty()) {
    const auto body = json_body(req);
    if (!body || !body->is_object()) {
      return not_processable("Request body is not processable. Please check the errors.");
    }
    for (const char* key : {"user", "source", "note"}) {
      if (!string_or_absent(*body, key))
        return not_processable(fmt::format("{} should be a string", key));
    }
  }
  const std::string type =
      req.has_param("identifierType") ? req.get_param_value("identifierType") : "id";
  if (type != "id" && type != "alias" && type != "tiny") {
    return not_processable("Invalid identifier type. Should be one of: id, alias, tiny");
  }
  const std::string identifier = req.matches[1];
  const std::string action = req.matches[2];
  std::lock_guard lock(mu_);
  const auto it = opsgenie_alerts_.find(identifier);
  if (type != "alias" || it == opsgenie_alerts_.end()) {
    return {404,
            json{{"message", fmt::format("Alert with {} [{}] does not exist", type, identifier)},
                 {"took", 0.001},
                 {"requestId", made_up_id()}}
                .dump()};
  }
  if (action == "close") {
    it->second = "closed";
  } else if (it->second == "open") {
    it->second = "acked";
  }
  return {202,
          json{{"result", "Request will be processed"}, {"took", 0.1}, {"requestId", made_up_id()}}
              .dump()};
}

ProviderServer::Answer ProviderServer::slack(const httplib::Request& req) {
  auto text = [](int status, const char* body) { return Answer{status, body, "text/html"}; };
  if (req.matches[1] != kSlackTeam || req.matches[2] != kSlackBot) return text(404, "no_service");
  if (req.matches[3] != secrets_.slack_secret) return text(403, "invalid_token");
  json m;
  if (media_type(req) == "application/json") {
    m = json::parse(req.body, nullptr, false);
  } else if (media_type(req) == "application/x-www-form-urlencoded" && req.has_param("payload")) {
    m = json::parse(req.get_param_value("payload"), nullptr, false);
  }
  if (m.is_discarded() || !m.is_object()) return text(400, "invalid_payload");
  const bool has_text = is_string(m, "text") && !m["text"].get<std::string>().empty();
  if (!string_or_absent(m, "text")) return text(400, "invalid_payload");
  if (!has_text && !m.contains("blocks") && !m.contains("attachments")) return text(400, "no_text");
  if (length_of(m, "text") > 40000) return text(400, "msg_too_long");
  if (m.contains("blocks")) {
    const auto& blocks = m["blocks"];
    if (!blocks.is_array()) return text(400, "invalid_blocks_format");
    if (blocks.size() > 50 || !std::all_of(blocks.begin(), blocks.end(), slack_block)) {
      return text(400, "invalid_blocks");
    }
    std::set<std::string> ids;
    for (const auto& b : blocks) {
      if (is_string(b, "block_id") && !ids.insert(b["block_id"].get<std::string>()).second) {
        return text(400, "invalid_blocks");
      }
    }
  }
  return text(200, "ok");
}

ProviderServer::Answer ProviderServer::teams(const httplib::Request& req) {
  auto error = [](int status, const char* code, const std::string& message) {
    return Answer{status, json{{"error", {{"code", code}, {"message", message}}}}.dump()};
  };
  if (req.matches[1] != kTeamsFlow) {
    return error(404, "WorkflowNotFound", "The workflow could not be found.");
  }
  if (!req.has_param("sig")) {
    return error(401, "DirectApiAuthorizationRequired",
                 "The request must be authenticated only by Shared Access scheme.");
  }
  if (req.get_param_value("sig") != secrets_.teams_sig || !req.has_param("api-version")) {
    return error(401, "DirectApiInvalidAuthorizationSignature",
                 "The provided authentication token is not valid.");
  }
  const auto body = json_body(req);
  if (!body) {
    return error(400, "InvalidRequestContent",
                 "The request content is not valid and could not be deserialized as JSON.");
  }
  if (auto e = teams_error(*body); !e.empty()) return error(400, "TriggerInputSchemaMismatch", e);
  return {202, ""};
}

ProviderServer::Answer ProviderServer::discord(const httplib::Request& req) {
  if (req.matches[1] != kDiscordWebhook) {
    return {404, json{{"message", "Unknown Webhook"}, {"code", 10015}}.dump()};
  }
  if (req.matches[2] != secrets_.discord_token) {
    return {401, json{{"message", "Invalid Webhook Token"}, {"code", 50027}}.dump()};
  }
  json m = json::object();
  if (media_type(req) == "application/json") {
    m = json::parse(req.body, nullptr, false);
  } else if (media_type(req) == "multipart/form-data" && req.has_file("payload_json")) {
    m = json::parse(req.get_file_value("payload_json").content, nullptr, false);
  }
  if (m.is_discarded() || !m.is_object()) {
    return {400,
            json{{"message", "The request body contains invalid JSON."}, {"code", 50109}}.dump()};
  }
  const json errors = discord_errors(m);
  if (!errors.empty()) {
    return {400,
            json{{"code", 50035}, {"errors", errors}, {"message", "Invalid Form Body"}}.dump()};
  }
  const bool content = is_string(m, "content") && !trim(m["content"]).empty();
  const bool embeds = m.contains("embeds") && !m["embeds"].empty();
  if (!content && !embeds) {
    return {400, json{{"message", "Cannot send an empty message"}, {"code", 50006}}.dump()};
  }
  if (req.get_param_value("wait") == "true") {
    return {200, json{{"id", std::to_string(++serial_ + 1100000000000000000ULL)},
                      {"type", 0},
                      {"content", m.value("content", "")},
                      {"embeds", m.value("embeds", json::array())},
                      {"webhook_id", kDiscordWebhook},
                      {"timestamp", rfc3339_now()}}
                     .dump()};
  }
  return {204, ""};
}

ProviderServer::Answer ProviderServer::telegram(const httplib::Request& req) {
  auto error = [](int code, const std::string& description) {
    return Answer{code,
                  json{{"ok", false}, {"error_code", code}, {"description", description}}.dump()};
  };
  if (req.matches[1] != secrets_.telegram_token) return error(401, "Unauthorized");
  if (lower_case(req.matches[2]) != "sendmessage") return error(404, "Not Found");
  const auto f = fields_of(req);
  if (!f) return error(400, "Bad Request: can't parse JSON object");
  const json chat = f->value("chat_id", json());
  const std::string chat_id = chat.is_string()           ? chat.get<std::string>()
                              : chat.is_number_integer() ? std::to_string(chat.get<int64_t>())
                                                         : "";
  if (chat_id.empty()) return error(400, "Bad Request: chat_id is empty");
  if (chat_id != secrets_.telegram_chat) return error(400, "Bad Request: chat not found");
  const json text = f->value("text", json());
  if (!text.is_string() || trim(text).empty())
    return error(400, "Bad Request: message text is empty");
  std::string plain = text;
  const std::string mode = f->contains("parse_mode") && (*f)["parse_mode"].is_string()
                               ? (*f)["parse_mode"].get<std::string>()
                               : "";
  if (lower_case(mode) == "html") {
    plain.clear();
    if (auto e = telegram_html_error(text, plain); !e.empty()) {
      return error(400, "Bad Request: can't parse entities: " + e);
    }
  } else if (!mode.empty() && lower_case(mode) != "markdown" && lower_case(mode) != "markdownv2") {
    return error(400, "Bad Request: unsupported parse_mode");
  }
  if (chars(plain, true) > 4096) return error(400, "Bad Request: message is too long");
  if (trim(plain).empty()) return error(400, "Bad Request: message text is empty");
  if (f->contains("reply_markup")) {
    if (auto e = telegram_markup_error((*f)["reply_markup"]); !e.empty()) {
      return error(400, "Bad Request: " + e);
    }
  }
  const std::string bot_id = secrets_.telegram_token.substr(0, secrets_.telegram_token.find(':'));
  return {200, json{{"ok", true},
                    {"result",
                     {{"message_id", ++serial_},
                      {"from",
                       {{"id", std::stoll(bot_id)},
                        {"is_bot", true},
                        {"first_name", "lookout"},
                        {"username", "lookout_test_bot"}}},
                      {"chat",
                       {{"id", std::regex_match(chat_id, std::regex("-?[0-9]{1,18}"))
                                   ? json(std::stoll(chat_id))
                                   : json(chat_id)},
                        {"title", "On call"},
                        {"type", "supergroup"}}},
                      {"date", std::stoll(unix_now())},
                      {"text", plain}}}}
                   .dump()};
}

ProviderServer::Answer ProviderServer::matrix(const httplib::Request& req) {
  auto error = [](int status, const char* code, const std::string& message) {
    return Answer{status, json{{"errcode", code}, {"error", message}}.dump()};
  };
  const std::string auth = req.get_header_value("Authorization");
  if (auth.empty()) return error(401, "M_MISSING_TOKEN", "Missing access token");
  if (auth != "Bearer " + secrets_.matrix_token) {
    return {401, json{{"errcode", "M_UNKNOWN_TOKEN"},
                      {"error", "Invalid access token passed."},
                      {"soft_logout", false}}
                     .dump()};
  }
  const std::string room = req.matches[1];
  const std::string type = req.matches[2];
  const std::string txn = req.matches[3];
  if (room != secrets_.matrix_room) {
    return error(403, "M_FORBIDDEN", fmt::format("User @lookout:localhost not in room {}", room));
  }
  const auto content = json::parse(req.body, nullptr, false);
  if (content.is_discarded() || !content.is_object()) {
    return error(400, "M_NOT_JSON", "Content not JSON.");
  }
  if (type == "m.room.message") {
    if (!is_string(content, "msgtype") || !is_string(content, "body")) {
      return error(400, "M_BAD_JSON", "m.room.message needs a msgtype and a body, both strings");
    }
    if (content.contains("format") &&
        (content["format"] != "org.matrix.custom.html" || !is_string(content, "formatted_body"))) {
      return error(400, "M_BAD_JSON", "format org.matrix.custom.html goes with a formatted_body");
    }
  }
  std::lock_guard lock(mu_);
  Answer a;
  auto it = matrix_txns_.find(txn);
  if (it != matrix_txns_.end()) {
    a.duplicate = true;
  } else {
    const std::string event_id = fmt::format("${:043x}", ++serial_ * 0x2545F4914F6CDD1DULL);
    it = matrix_txns_.emplace(txn, event_id).first;
    matrix_room_.push_back({txn, event_id, content});
  }
  a.body = json{{"event_id", it->second}}.dump();
  return a;
}

ProviderServer::Answer ProviderServer::ntfy(const httplib::Request& req) {
  const std::string docs = "https://ntfy.sh/docs/publish/";
  if (!secrets_.ntfy_token.empty()) {
    const std::string auth = req.get_header_value("Authorization");
    if (auth.empty()) {
      return {403, ntfy_error(403, 40301, "forbidden", docs + "#authentication").dump()};
    }
    if (auth != "Bearer " + secrets_.ntfy_token &&
        auth != "Basic " + base64(":" + secrets_.ntfy_token)) {
      return {401, ntfy_error(401, 40101, "unauthorized", docs + "#authentication").dump()};
    }
  }
  const auto priority = ntfy_priority(first_header(req, {"X-Priority", "Priority", "prio", "p"}));
  if (!priority) {
    return {400, ntfy_error(400, 40007, "invalid priority", docs + "#message-priority").dump()};
  }
  const auto actions = ntfy_actions(first_header(req, {"X-Actions", "Actions", "Action"}));
  if (!actions) {
    return {400,
            ntfy_error(400, 40018, "invalid request: actions invalid", docs + "#action-buttons")
                .dump()};
  }
  const std::string click = first_header(req, {"X-Click", "Click"});
  if (!click.empty() && !is_http_url(click)) {
    return {400,
            ntfy_error(400, 40013, "invalid request: click URL invalid", docs + "#click-action")
                .dump()};
  }
  json tags = json::array();
  for (const auto& t : split_quoted(first_header(req, {"X-Tags", "Tags", "Tag", "ta"}), ',')) {
    if (!trim(t).empty()) tags.push_back(trim(t));
  }
  json m{{"id", made_up_id().substr(0, 12)},
         {"time", std::stoll(unix_now())},
         {"expires", std::stoll(unix_now()) + 43200},
         {"event", "message"},
         {"topic", secrets_.ntfy_topic},
         {"message", req.body.empty() ? "triggered" : req.body}};
  const std::string title = decode_words(first_header(req, {"X-Title", "Title", "ti", "t"}));
  if (!title.empty()) m["title"] = title;
  if (*priority != 3) m["priority"] = *priority;
  if (!tags.empty()) m["tags"] = tags;
  if (!click.empty()) m["click"] = click;
  if (!actions->empty()) m["actions"] = *actions;
  return {200, m.dump()};
}

ProviderServer::Answer ProviderServer::pushover_message(const httplib::Request& req) {
  const std::string request = made_up_id();
  auto refuse = [&request](const std::string& field, const std::string& what,
                           const std::string& error) {
    return Answer{
        400, json{{field, what}, {"errors", {error}}, {"status", 0}, {"request", request}}.dump()};
  };
  const auto f = fields_of(req);
  if (!f) return refuse("body", "invalid", "the request body could not be parsed");
  auto field = [&f](const char* key) {
    const auto& v = f->value(key, json());
    return v.is_string() ? v.get<std::string>() : v.is_number() ? v.dump() : std::string();
  };
  if (field("token") != secrets_.pushover_token) {
    return refuse("token", "invalid", "application token is invalid, see https://pushover.net/api");
  }
  if (field("user") != secrets_.pushover_user) {
    return refuse("user", "invalid", "user identifier is invalid");
  }
  if (trim(field("message")).empty())
    return refuse("message", "cannot be blank", "message cannot be blank");
  const std::tuple<const char*, size_t> limits[] = {
      {"message", 1024}, {"title", 250}, {"url", 512}, {"url_title", 100}};
  for (const auto& [key, max] : limits) {
    if (chars(field(key)) > max) {
      return refuse(key, "is too long", fmt::format("{} is longer than {} characters", key, max));
    }
  }
  static const std::regex integer(R"(-?[0-9]+)");
  const std::string p = field("priority");
  if (!p.empty() && (!std::regex_match(p, integer) || std::stoi(p) < -2 || std::stoi(p) > 2)) {
    return refuse("priority", "is invalid", "priority is invalid");
  }
  const std::string ts = field("timestamp");
  if (!ts.empty() && !std::regex_match(ts, integer)) {
    return refuse("timestamp", "is invalid", "timestamp is invalid");
  }
  if (field("html") == "1" && field("monospace") == "1") {
    return refuse("monospace", "is invalid", "html and monospace cannot both be set");
  }
  json ok{{"status", 1}, {"request", request}};
  if (p == "2") {
    const std::string retry = field("retry");
    const std::string expire = field("expire");
    if (!std::regex_match(retry, integer) || std::stoi(retry) < 30) {
      return refuse("retry", "is invalid", "retry must be supplied with priority=2 and be >= 30");
    }
    if (!std::regex_match(expire, integer) || std::stoi(expire) > 10800) {
      return refuse("expire", "is invalid",
                    "expire must be supplied with priority=2 and be <= 10800");
    }
    const std::string receipt = fmt::format("r{:029x}", ++serial_ * 0x9E3779B97F4A7C15ULL);
    std::vector<std::string> tags;
    for (const auto& t : split_quoted(field("tags"), ',')) {
      if (!trim(t).empty()) tags.push_back(trim(t));
    }
    std::lock_guard lock(mu_);
    pushover_receipts_[receipt] = std::move(tags);
    ok["receipt"] = receipt;
  }
  return {200, ok.dump()};
}

ProviderServer::Answer ProviderServer::pushover_cancel(const httplib::Request& req) {
  const std::string request = made_up_id();
  const auto f = fields_of(req);
  if (!f || f->value("token", json()) != secrets_.pushover_token) {
    return {400, json{{"token", "invalid"},
                      {"errors", {"application token is invalid, see https://pushover.net/api"}},
                      {"status", 0},
                      {"request", request}}
                     .dump()};
  }
  const std::string receipt = req.matches[1];
  std::lock_guard lock(mu_);
  if (pushover_receipts_.count(receipt) == 0) {
    return {404, json{{"receipt", "not found"},
                      {"errors", {"receipt not found; may be invalid or expired"}},
                      {"status", 0},
                      {"request", request}}
                     .dump()};
  }
  pushover_cancelled_.insert(receipt);
  return {200, json{{"status", 1}, {"request", request}}.dump()};
}

ProviderServer::Answer ProviderServer::pushover_cancel_by_tag(const httplib::Request& req) {
  const std::string request = made_up_id();
  const auto f = fields_of(req);
  if (!f || f->value("token", json()) != secrets_.pushover_token) {
    return {400, json{{"token", "invalid"},
                      {"errors", {"application token is invalid, see https://pushover.net/api"}},
                      {"status", 0},
                      {"request", request}}
                     .dump()};
  }
  const std::string tag = req.matches[1];
  int cancelled = 0;
  std::lock_guard lock(mu_);
  for (const auto& [receipt, tags] : pushover_receipts_) {
    if (std::find(tags.begin(), tags.end(), tag) != tags.end() &&
        pushover_cancelled_.insert(receipt).second) {
      ++cancelled;
    }
  }
  return {200, json{{"status", 1}, {"canceled", cancelled}, {"request", request}}.dump()};
}

ProviderServer::Answer ProviderServer::alertmanager(const httplib::Request& req) {
  if (!secrets_.alertmanager_user.empty() &&
      req.get_header_value("Authorization") !=
          "Basic " + base64(secrets_.alertmanager_user + ":" + secrets_.alertmanager_password)) {
    return {401, "Unauthorized\n", "text/plain"};
  }
  if (media_type(req) != "application/json") {
    return {415, json{{"code", 415},
                      {"message", fmt::format("unsupported media type \"{}\", only "
                                              "[application/json] are allowed",
                                              media_type(req))}}
                     .dump()};
  }
  const auto alerts = json::parse(req.body, nullptr, false);
  if (alerts.is_discarded() || !alerts.is_array()) {
    return {400, json{{"code", 400},
                      {"message",
                       "parsing alerts body from \"\" failed, because the body is "
                       "not a JSON array of alerts"}}
                     .dump()};
  }
  if (auto e = alertmanager_error(alerts)) return {e->first, e->second};
  return {200, ""};
}

ProviderServer::Answer ProviderServer::gotify(const httplib::Request& req) {
  if (req.get_header_value("X-Gotify-Key") != secrets_.gotify_token) {
    return {401, json{{"error", "Unauthorized"},
                      {"errorCode", 401},
                      {"errorDescription",
                       "you need to provide a valid access token or user credentials to access "
                       "this api"}}
                     .dump()};
  }
  auto bad = [](const std::string& why) {
    return Answer{
        400, json{{"error", "Bad Request"}, {"errorCode", 400}, {"errorDescription", why}}.dump()};
  };
  const auto f = fields_of(req);
  if (!f) return bad("the body is not valid JSON");
  if (!is_string(*f, "message") || (*f)["message"].get<std::string>().empty()) {
    return bad("Field 'message' is required");
  }
  if (!string_or_absent(*f, "title")) return bad("Field 'title' must be a string");
  json priority = f->value("priority", json(0));
  if (priority.is_string() &&
      std::regex_match(priority.get<std::string>(), std::regex("-?[0-9]+"))) {
    priority = std::stoi(priority.get<std::string>());  // a form field
  }
  if (!priority.is_number_integer()) return bad("Field 'priority' must be an integer");
  if (f->contains("extras") && !(*f)["extras"].is_object()) {
    return bad("Field 'extras' must be an object");
  }
  json m{{"id", ++serial_},
         {"appid", 1},
         {"message", (*f)["message"]},
         {"title", f->value("title", "lookout")},
         {"priority", priority},
         {"date", rfc3339_now()}};
  if (f->contains("extras")) m["extras"] = (*f)["extras"];
  return {200, m.dump()};
}

ProviderServer::Answer ProviderServer::unmatched(const httplib::Request&) {
  return {404, "404 page not found\n", "text/plain"};
}

}  // namespace lookout::testing
