#include "probes/perfdata.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>

namespace lookout {
namespace {

bool perf_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

// The length of the valid UTF-8 sequence at the start of `s` (1 to 4), or 0 when none starts
// there (also an overlong form, a surrogate or a code point past U+10FFFF).
size_t perf_utf8_length(std::string_view s) {
  const auto b = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  const unsigned char c = b(0);
  if (c < 0x80) return 1;
  size_t n = 0;
  uint32_t cp = 0;
  if ((c & 0xE0) == 0xC0) {
    n = 2;
    cp = c & 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    n = 3;
    cp = c & 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    n = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (s.size() < n) return 0;
  for (size_t i = 1; i < n; ++i) {
    if ((b(i) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b(i) & 0x3F);
  }
  static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

bool perf_clean_text(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7F) return false;
    const size_t n = perf_utf8_length(s.substr(i));
    if (n == 0) return false;
    i += n;
  }
  return true;
}

// A number as the plugins print it ("12", "-0.5", "1e-3"), never "inf", "nan" or hex.
std::optional<double> perf_number(std::string_view s, size_t& used) {
  used = 0;
  if (s.empty()) return std::nullopt;
  size_t start = 0;
  // from_chars takes no "+"; a value like "+5" is still a number.
  if (s[0] == '+') start = 1;
  if (start >= s.size() ||
      !(std::isdigit(static_cast<unsigned char>(s[start])) || s[start] == '.' || s[start] == '-')) {
    return std::nullopt;
  }
  double v = 0;
  const auto [ptr, ec] = std::from_chars(s.data() + start, s.data() + s.size(), v);
  if (ec != std::errc() || !std::isfinite(v)) return std::nullopt;
  used = static_cast<size_t>(ptr - s.data());
  return v;
}

// min or max: a number, perhaps with the value's unit after it; anything else is left out.
std::optional<double> perf_bound(std::string_view s, double scale) {
  size_t used = 0;
  const auto v = perf_number(s, used);
  if (!v) return std::nullopt;
  const double scaled = *v * scale;
  return std::isfinite(scaled) ? std::optional<double>(scaled) : std::nullopt;
}

// A threshold range as written, when it is made of what ranges are made of.
std::string perf_range(std::string_view s) {
  if (s.size() > 40) return "";
  for (const char c : s) {
    const bool ok = (c >= '0' && c <= '9') || c == '.' || c == ':' || c == '@' || c == '~' ||
                    c == '-' || c == '+' || c == 'e' || c == 'E';
    if (!ok) return "";
  }
  return std::string(s);
}

std::vector<std::string_view> perf_fields(std::string_view s) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    const size_t semi = s.find(';', start);
    out.push_back(
        s.substr(start, semi == std::string_view::npos ? std::string_view::npos : semi - start));
    if (semi == std::string_view::npos || out.size() == 5) break;
    start = semi + 1;
  }
  return out;
}

// value[UOM];warn;crit;min;max, after the "=".
bool perf_parse_value(std::string_view s, PerfdataItem& item) {
  const auto fields = perf_fields(s);
  std::string_view v = fields[0];
  double scale = 1;
  if (v == "U") {
    item.value = std::nullopt;
  } else {
    size_t used = 0;
    const auto number = perf_number(v, used);
    if (!number) return false;
    const std::string_view uom = v.substr(used);
    if (uom.size() > 16) return false;
    // Any unit is kept as written (and its value unconverted) if it is readable text.
    if (!perf_clean_text(uom) || uom.find_first_of("='0123456789.") != std::string_view::npos)
      return false;
    item.uom = std::string(uom);
    scale = perfdata_unit_scale(uom);
    const double scaled = *number * scale;
    if (!std::isfinite(scaled)) return false;
    item.value = scaled;
  }
  if (fields.size() > 1) item.warn = perf_range(fields[1]);
  if (fields.size() > 2) item.crit = perf_range(fields[2]);
  if (fields.size() > 3) item.min = perf_bound(fields[3], scale);
  if (fields.size() > 4) item.max = perf_bound(fields[4], scale);
  return true;
}

}  // namespace

double perfdata_unit_scale(std::string_view uom) {
  struct Unit {
    std::string_view name;
    double scale;
  };
  static constexpr Unit kUnits[] = {
      {"s", 1},
      {"ms", 1e-3},
      {"us", 1e-6},
      {"B", 1},
      {"KB", 1024.0},
      {"MB", 1024.0 * 1024},
      {"GB", 1024.0 * 1024 * 1024},
      {"TB", 1024.0 * 1024 * 1024 * 1024},
  };
  for (const auto& u : kUnits) {
    if (u.name == uom) return u.scale;
  }
  return 1;
}

std::string plugin_text(std::string_view text, size_t max) {
  std::string out;
  out.reserve(std::min(text.size(), max + 4));
  size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == 0x7F) {
      out += ' ';
      ++i;
      continue;
    }
    const size_t n = perf_utf8_length(text.substr(i));
    if (n == 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD
      ++i;
    } else {
      out.append(text.substr(i, n));
      i += n;
    }
  }
  const size_t first = out.find_first_not_of(' ');
  if (first == std::string::npos) return "";
  const size_t last = out.find_last_not_of(' ');
  out = out.substr(first, last - first + 1);
  if (out.size() <= max) return out;
  size_t cut = max;
  // Back to the start of the character the cut falls in.
  while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
  out.resize(cut);
  out += "…";
  return out;
}

PluginOutput split_plugin_output(std::string_view out) {
  PluginOutput r;
  const size_t end = out.find('\n');
  std::string_view first = out.substr(0, end);
  const size_t bar = first.find('|');
  r.status_line = plugin_text(first.substr(0, bar));
  auto add = [&r](std::string_view part) {
    if (part.empty()) return;
    if (!r.perfdata.empty()) r.perfdata += ' ';
    r.perfdata.append(part);
  };
  if (bar != std::string_view::npos) add(first.substr(bar + 1));
  if (end == std::string_view::npos) return r;
  // The long text runs until a line with "|"; from there on, everything is performance data.
  std::string_view rest = out.substr(end + 1);
  bool in_perfdata = false;
  while (!rest.empty()) {
    const size_t nl = rest.find('\n');
    const std::string_view line = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    if (in_perfdata) {
      add(line);
    } else if (const size_t b = line.find('|'); b != std::string_view::npos) {
      in_perfdata = true;
      add(line.substr(b + 1));
    }
  }
  return r;
}

std::vector<PerfdataItem> parse_perfdata(std::string_view text, size_t max_items) {
  std::vector<PerfdataItem> out;
  size_t i = 0;
  const size_t n = text.size();
  auto skip_item = [&] {
    while (i < n && !perf_space(text[i]) && text[i] != '\n') ++i;
  };
  while (i < n && out.size() < max_items) {
    if (perf_space(text[i]) || text[i] == '\n') {
      ++i;
      continue;
    }
    PerfdataItem item;
    bool ok = true;
    if (text[i] == '\'') {
      ++i;
      bool closed = false;
      while (i < n) {
        if (text[i] == '\'') {
          if (i + 1 < n && text[i + 1] == '\'') {
            item.label += '\'';
            i += 2;
            continue;
          }
          ++i;
          closed = true;
          break;
        }
        item.label += text[i++];
      }
      // An open quote to the end: no item can follow it.
      if (!closed) break;
      if (i >= n || text[i] != '=') ok = false;
    } else {
      const size_t start = i;
      while (i < n && text[i] != '=' && !perf_space(text[i]) && text[i] != '\n') ++i;
      item.label = std::string(text.substr(start, i - start));
      if (i >= n || text[i] != '=' || item.label.find('\'') != std::string::npos) ok = false;
    }
    if (!ok) {
      skip_item();
      continue;
    }
    ++i;  // "="
    const size_t start = i;
    skip_item();
    const std::string_view value = text.substr(start, i - start);
    if (item.label.empty() || item.label.size() > kPerfdataMaxLabel ||
        !perf_clean_text(item.label) || !perf_parse_value(value, item)) {
      continue;
    }
    out.push_back(std::move(item));
  }
  return out;
}

}  // namespace lookout
