#include "probes/extract.h"

#include <fmt/format.h>
#include <re2/re2.h>
#include <strings.h>

#include <algorithm>
#include <nlohmann/json.hpp>

namespace lookout {

std::optional<std::string> extract_value(
    const Extract& x, const HttpObservation& obs,
    const std::vector<std::pair<std::string, std::string>>& cookies, std::string& why) {
  switch (x.from) {
    case Extract::From::kJson: {
      const auto body = nlohmann::json::parse(obs.body, nullptr, false);
      if (body.is_discarded()) {
        why = fmt::format("the body is not JSON, so {} cannot be taken from {}", x.name, x.what);
        return std::nullopt;
      }
      try {
        const auto ptr = nlohmann::json::json_pointer(x.what);
        if (!body.contains(ptr)) {
          why = fmt::format("no {} in the body to take as {}", x.what, x.name);
          return std::nullopt;
        }
        const auto& v = body.at(ptr);
        return v.is_string() ? v.get<std::string>() : v.dump();
      } catch (const std::exception&) {
        why = fmt::format("no {} in the body to take as {}", x.what, x.name);
        return std::nullopt;
      }
    }
    case Extract::From::kRegex: {
      std::string value;
      if (x.regex && RE2::PartialMatch(obs.body, *x.regex, &value)) return value;
      why = fmt::format("the body does not match the pattern of {}", x.name);
      return std::nullopt;
    }
    case Extract::From::kHeader:
      for (const auto& [k, v] : obs.headers) {
        if (strcasecmp(k.c_str(), x.what.c_str()) == 0) return v;
      }
      why = fmt::format("no {} header to take as {}", x.what, x.name);
      return std::nullopt;
    case Extract::From::kCookie:
      // The last one set wins, as in a browser.
      if (const auto it = std::find_if(cookies.rbegin(), cookies.rend(),
                                       [&x](const auto& c) { return c.first == x.what; });
          it != cookies.rend()) {
        return it->second;
      }
      why = fmt::format("no cookie {} to take as {}", x.what, x.name);
      return std::nullopt;
  }
  why = "unknown extract source";
  return std::nullopt;
}

std::vector<std::pair<std::string, std::string>> parse_cookie_lines(
    const std::vector<std::string>& lines) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& line : lines) {
    // domain, include-subdomains, path, secure, expiry, name, value
    std::vector<std::string_view> f;
    size_t start = 0;
    while (f.size() < 6) {
      const size_t tab = line.find('\t', start);
      if (tab == std::string::npos) break;
      f.emplace_back(line.data() + start, tab - start);
      start = tab + 1;
    }
    if (f.size() != 6) continue;
    out.emplace_back(std::string(f[5]), line.substr(start));
  }
  return out;
}

}  // namespace lookout
