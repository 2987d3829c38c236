#include "probes/template.h"

#include <nlohmann/json.hpp>

namespace lookout {

std::string url_encode(std::string_view s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string form_encode(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string out;
  for (const auto& [k, v] : fields) {
    if (!out.empty()) out += '&';
    out += url_encode(k);
    out += '=';
    out += url_encode(v);
  }
  return out;
}

std::string render_template(std::string_view text, const std::map<std::string, std::string>& vars,
                            Escape escape) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    const size_t open = text.find("{{", i);
    if (open == std::string_view::npos) {
      out.append(text.substr(i));
      break;
    }
    out.append(text.substr(i, open - i));
    const size_t close = text.find("}}", open + 2);
    if (close == std::string_view::npos) {
      out.append(text.substr(open));
      break;
    }
    const std::string name(text.substr(open + 2, close - open - 2));
    const auto it = vars.find(name);
    if (it == vars.end()) {
      out.append(text.substr(open, close + 2 - open));
    } else if (escape == Escape::kUrl) {
      out += url_encode(it->second);
    } else if (escape == Escape::kJson) {
      const std::string quoted =
          nlohmann::json(it->second).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      out.append(quoted, 1, quoted.size() - 2);
    } else {
      out += it->second;
    }
    i = close + 2;
  }
  return out;
}

}  // namespace lookout
