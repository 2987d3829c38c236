#include "probes/whois_expiry.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <vector>

#include "probes/domain_expiry.h"

namespace lookout {
namespace {

std::string whois_lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view whois_trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// Lower case, one space between words, no dots or spaces at the ends: "Expiry  Date." ->
// "expiry date".
std::string whois_label(std::string_view s) {
  std::string out;
  for (char c : whois_lower(whois_trim(s))) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      if (!out.empty() && out.back() != ' ') out += ' ';
    } else {
      out += c;
    }
  }
  while (!out.empty() && (out.back() == '.' || out.back() == ' ')) out.pop_back();
  return out;
}

// How much a label is trusted to hold the registration's expiry: the registry's own date
// first, the registrar's after any other, any label that speaks of expiry last; 0: none.
int whois_label_rank(const std::string& label) {
  static const std::array<std::string_view, 19> kExpiry{"expiry date",
                                                        "expiration date",
                                                        "expires",
                                                        "expires on",
                                                        "expire date",
                                                        "expiration time",
                                                        "paid-till",
                                                        "renewal date",
                                                        "valid until",
                                                        "domain expiration date",
                                                        "record expires on",
                                                        "expire",
                                                        "expiry",
                                                        "domain expires",
                                                        "expires at",
                                                        "expiration",
                                                        "domain expiry date",
                                                        "registry expiration date",
                                                        "date of expiry"};
  if (label == "registry expiry date") return 4;
  if (std::find(kExpiry.begin(), kExpiry.end(), label) != kExpiry.end()) return 3;
  if (label == "registrar registration expiration date") return 2;
  if (label.find("expir") != std::string::npos || label.find("paid-till") != std::string::npos)
    return 1;
  return 0;
}

int whois_month(const std::string& word) {
  static const std::array<std::string_view, 12> kMonths{"jan", "feb", "mar", "apr", "may", "jun",
                                                        "jul", "aug", "sep", "oct", "nov", "dec"};
  if (word.size() < 3) return 0;
  for (size_t i = 0; i < kMonths.size(); ++i) {
    if (word.compare(0, 3, kMonths[i]) == 0) return static_cast<int>(i) + 1;
  }
  return 0;
}

bool whois_weekday(const std::string& word) {
  static const std::array<std::string_view, 7> kDays{"mon", "tue", "wed", "thu",
                                                     "fri", "sat", "sun"};
  return word.size() >= 3 && std::any_of(kDays.begin(), kDays.end(), [&](std::string_view d) {
           return word.compare(0, 3, d) == 0;
         });
}

bool whois_number(const std::string& t, size_t min_len, size_t max_len) {
  return t.size() >= min_len && t.size() <= max_len &&
         std::all_of(t.begin(), t.end(), [](unsigned char c) { return std::isdigit(c) != 0; });
}

bool whois_contains_any(const std::string& text, std::initializer_list<std::string_view> words) {
  return std::any_of(words.begin(), words.end(),
                     [&](std::string_view w) { return text.find(w) != std::string::npos; });
}

}  // namespace

std::optional<WallTime> parse_whois_date(std::string_view text) {
  text = whois_trim(text);
  if (auto t = parse_registry_time(text)) return t;
  // Words and numbers, in order, from the first few of the value.
  std::vector<std::string> tokens;
  std::string cur;
  for (char c : whois_lower(text.substr(0, 64))) {
    const bool digit = std::isdigit(static_cast<unsigned char>(c)) != 0;
    const bool alpha = std::isalpha(static_cast<unsigned char>(c)) != 0;
    if (!cur.empty() &&
        ((digit && !std::isdigit(static_cast<unsigned char>(cur.back()))) ||
         (alpha && !std::isalpha(static_cast<unsigned char>(cur.back()))) || (!digit && !alpha))) {
      tokens.push_back(std::move(cur));
      cur.clear();
    }
    if (digit || alpha) cur += c;
  }
  if (!cur.empty()) tokens.push_back(std::move(cur));
  if (!tokens.empty() && whois_weekday(tokens.front()) && whois_month(tokens.front()) == 0)
    tokens.erase(tokens.begin());
  if (tokens.empty()) return std::nullopt;
  const std::string& a = tokens[0];
  if (whois_number(a, 8, 8)) {  // 20270813
    return utc_time(std::stoi(a.substr(0, 4)), std::stoi(a.substr(4, 2)),
                    std::stoi(a.substr(6, 2)));
  }
  if (tokens.size() < 3) return std::nullopt;
  const std::string& b = tokens[1];
  const std::string& c = tokens[2];
  if (whois_number(a, 4, 4)) {  // 2027.08.13, 2027/08/13, 2027-aug-13
    const int month = whois_number(b, 1, 2) ? std::stoi(b) : whois_month(b);
    if (month == 0 || !whois_number(c, 1, 2)) return std::nullopt;
    return utc_time(std::stoi(a), month, std::stoi(c));
  }
  if (whois_number(a, 1, 2) && whois_month(b) != 0 && whois_number(c, 4, 4))  // 13-aug-2027
    return utc_time(std::stoi(c), whois_month(b), std::stoi(a));
  if (whois_month(a) != 0 && whois_number(b, 1, 2)) {  // Aug 13 2027, Aug 13 04:00:00 2027
    for (size_t i = 2; i < tokens.size(); ++i) {
      if (whois_number(tokens[i], 4, 4))
        return utc_time(std::stoi(tokens[i]), whois_month(a), std::stoi(b));
    }
    return std::nullopt;
  }
  if (whois_number(a, 1, 2) && whois_number(b, 1, 2) && whois_number(c, 4, 4)) {
    // 13/08/2027: registries that write the day and month as numbers put the day first; a
    // "month" above 12 can only be a day.
    int day = std::stoi(a), month = std::stoi(b);
    if (month > 12 && day <= 12) std::swap(day, month);
    return utc_time(std::stoi(c), month, day);
  }
  return std::nullopt;
}

WhoisAnswer parse_whois_answer(std::string_view text) {
  WhoisAnswer w;
  int best = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = whois_trim(text.substr(pos, end - pos));
    pos = end + 1;
    std::string_view label, value;
    if (!line.empty() && line.front() == '[') {  // JPRS: "[Expires on]  2027/08/31"
      const auto close = line.find(']');
      if (close == std::string_view::npos) continue;
      label = line.substr(1, close - 1);
      value = line.substr(close + 1);
    } else {
      const auto colon = line.find(':');
      if (colon == std::string_view::npos) continue;
      label = line.substr(0, colon);
      value = line.substr(colon + 1);
    }
    const int rank = whois_label_rank(whois_label(label));
    if (rank <= best) continue;
    if (auto t = parse_whois_date(value)) {
      best = rank;
      w.expires = t;
      w.expiry_line = std::string(line.substr(0, 200));
    }
  }
  if (w.expires) return w;
  const std::string lower = whois_lower(text.substr(0, 64 * 1024));
  w.not_found = whois_contains_any(
      lower, {"no match for", "not found", "no entries found", "no data found", "no object found",
              "no matching record", "object does not exist", "status: free", "status: available",
              "is available for registration"});
  if (!w.not_found) {
    w.rate_limited =
        whois_contains_any(lower, {"limit exceeded", "rate limit", "too many", "quota exceeded",
                                   "exceeded the maximum", "query limit", "try again later"});
  }
  return w;
}

std::optional<std::string> known_whois_server(std::string_view domain) {
  // Registries of these TLDs answer WHOIS but publish no RDAP service in the IANA list.
  static const std::array<std::pair<std::string_view, std::string_view>, 11> kServers{{
      {"de", "whois.denic.de"},
      {"jp", "whois.jprs.jp"},
      {"ru", "whois.tcinet.ru"},
      {"su", "whois.tcinet.ru"},
      {"cn", "whois.cnnic.cn"},
      {"kr", "whois.kr"},
      {"it", "whois.nic.it"},
      {"eu", "whois.eu"},
      {"au", "whois.auda.org.au"},
      {"se", "whois.iis.se"},
      {"nu", "whois.iis.nu"},
  }};
  std::string name = whois_lower(domain);
  while (!name.empty() && name.back() == '.') name.pop_back();
  const auto dot = name.rfind('.');
  const std::string tld = dot == std::string::npos ? name : name.substr(dot + 1);
  for (const auto& [t, server] : kServers) {
    if (t == tld) return std::string(server);
  }
  return std::nullopt;
}

}  // namespace lookout
