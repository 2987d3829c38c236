// Small ASCII string helpers that parsers, checks and messages share. Pure.
#pragma once

#include <algorithm>
#include <cctype>
#include <iterator>
#include <string>
#include <string_view>

namespace lookout {

inline std::string ascii_lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// `s` without leading and trailing `blanks` (by default what isspace() calls space).
inline std::string trim(std::string_view s, std::string_view blanks = " \t\n\v\f\r") {
  const size_t first = s.find_first_not_of(blanks);
  if (first == std::string_view::npos) return "";
  return std::string(s.substr(first, s.find_last_not_of(blanks) - first + 1));
}

// The first `n` bytes of `s` and `mark` when it is longer, for evidence and causes.
inline std::string shorten(std::string_view s, size_t n = 100, std::string_view mark = "…") {
  if (s.size() <= n) return std::string(s);
  return std::string(s.substr(0, n)) + std::string(mark);
}

// `s` with &, <, > and " as entities: text and attribute values in the HTML that chat providers
// render (Telegram, Matrix), so a cause from the network cannot open a tag or end an href.
// Without `quotes`, " stays as it is (Slack's mrkdwn escapes only &, < and >).
inline std::string html_escape(std::string_view s, bool quotes = true) {
  std::string out;
  out.reserve(s.size());
  for (const char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += quotes ? "&quot;" : "\"";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// "a, b or c", for messages that list the choices.
template <typename Names>
std::string or_list(const Names& names) {
  std::string out;
  size_t i = 0;
  const size_t n = std::size(names);
  for (const auto& name : names) {
    out += i == 0 ? "" : i + 1 == n ? " or " : ", ";
    out += name;
    ++i;
  }
  return out;
}

}  // namespace lookout
