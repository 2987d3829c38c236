#include "audit/report.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>

namespace lookout::audit {
namespace {

// Columns count characters, not bytes: evidence may hold "…" and names in any script.
size_t display_width(std::string_view s) {
  return static_cast<size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

std::string pad(const std::string& s, size_t width) {
  const size_t w = display_width(s);
  return w >= width ? s : s + std::string(width - w, ' ');
}

// The first `n` characters of `s` (not splitting a UTF-8 sequence).
size_t prefix_bytes(std::string_view s, size_t n) {
  size_t chars = 0, i = 0;
  for (; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) {
      if (chars == n) break;
      ++chars;
    }
  }
  return i;
}

std::array<int, 4> counts(const AuditReport& r) {
  std::array<int, 4> c{};
  for (const auto& x : r.checks) ++c[static_cast<size_t>(x.result)];
  return c;
}

}  // namespace

std::vector<std::string> wrap(std::string_view text, size_t width) {
  std::vector<std::string> lines;
  std::string line;
  size_t start = 0;
  width = std::max<size_t>(width, 8);
  while (start < text.size()) {
    while (start < text.size() && text[start] == ' ') ++start;
    size_t end = text.find(' ', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view word = text.substr(start, end - start);
    start = end;
    if (word.empty()) continue;
    while (display_width(word) > width) {
      if (!line.empty()) lines.push_back(std::exchange(line, ""));
      const size_t cut = prefix_bytes(word, width);
      lines.emplace_back(word.substr(0, cut));
      word.remove_prefix(cut);
    }
    if (word.empty()) continue;
    if (!line.empty() && display_width(line) + 1 + display_width(word) > width)
      lines.push_back(std::exchange(line, ""));
    if (!line.empty()) line += ' ';
    line += word;
  }
  if (!line.empty() || lines.empty()) lines.push_back(line);
  return lines;
}

std::string render_table(const AuditReport& r, size_t width) {
  constexpr size_t kResult = 7, kCheck = 30, kCriteria = 34, kGaps = 6;
  const size_t evidence_w = std::max<size_t>(30, width > kResult + kCheck + kCriteria + kGaps
                                                     ? width - kResult - kCheck - kCriteria - kGaps
                                                     : 0);
  std::string out = fmt::format("lookout audit of {}\n\n", r.targets.https_url);
  out += fmt::format("{}  {}  {}  {}\n", pad("RESULT", kResult), pad("CHECK", kCheck),
                     pad("PASS CRITERIA", kCriteria), "EVIDENCE");
  for (const auto& c : r.checks) {
    std::string result = to_string(c.result);
    std::transform(result.begin(), result.end(), result.begin(),
                   [](unsigned char ch) { return std::toupper(ch); });
    const auto title = wrap(c.title, kCheck);
    const auto criteria = wrap(c.criteria, kCriteria);
    const auto evidence = wrap(c.evidence, evidence_w);
    const size_t rows = std::max({title.size(), criteria.size(), evidence.size()});
    for (size_t i = 0; i < rows; ++i) {
      const std::string line = fmt::format("{}  {}  {}  {}", pad(i == 0 ? result : "", kResult),
                                           pad(i < title.size() ? title[i] : "", kCheck),
                                           pad(i < criteria.size() ? criteria[i] : "", kCriteria),
                                           i < evidence.size() ? evidence[i] : "");
      out += line.substr(0, line.find_last_not_of(' ') + 1) + "\n";
    }
    if (c.result == Result::kFail || c.result == Result::kWarn) {
      const std::string indent(kResult + 2, ' ');
      const size_t text_w = width > indent.size() + 5 ? width - indent.size() - 5 : 40;
      for (const auto& [label, text] :
           {std::pair<const char*, const std::string&>{"why:", c.why}, {"fix:", c.fix}}) {
        const auto lines = wrap(text, text_w);
        for (size_t i = 0; i < lines.size(); ++i)
          out += fmt::format("{}{:<5}{}\n", indent, i == 0 ? label : "", lines[i]);
      }
    }
  }
  const auto n = counts(r);
  out += fmt::format("\n{} pass, {} fail, {} warn, {} skipped\n", n[0], n[2], n[1], n[3]);
  return out;
}

nlohmann::json to_json(const AuditReport& r) {
  nlohmann::json checks = nlohmann::json::array();
  for (const auto& c : r.checks) {
    checks.push_back({{"id", c.id},
                      {"title", c.title},
                      {"result", to_string(c.result)},
                      {"criteria", c.criteria},
                      {"evidence", c.evidence},
                      {"why", c.why},
                      {"fix", c.fix}});
  }
  const auto n = counts(r);
  return {{"url", r.targets.https_url},
          {"checks", std::move(checks)},
          {"summary", {{"pass", n[0]}, {"warn", n[1]}, {"fail", n[2]}, {"skipped", n[3]}}}};
}

}  // namespace lookout::audit
