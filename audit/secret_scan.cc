#include "audit/secret_scan.h"

#include <re2/re2.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <memory>

namespace lookout::audit {
namespace {

struct Pattern {
  Pattern(const char* kind, const char* re) : kind(kind), re(re) {}
  const char* kind;
  RE2 re;  // group 1 is the value
};

// Patterns for credentials whose shape alone says what they are. Publishable keys (Stripe
// pk_live_) are meant for browsers and not listed.
const std::vector<std::unique_ptr<Pattern>>& patterns() {
  static const auto* list = [] {
    auto* v = new std::vector<std::unique_ptr<Pattern>>;
    auto add = [&](const char* kind, const char* re) {
      v->push_back(std::make_unique<Pattern>(kind, re));
    };
    add("private key",
        R"re((-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED )?PRIVATE KEY-----))re");
    add("AWS access key", R"re(\b((?:AKIA|ASIA)[0-9A-Z]{16})\b)re");
    add("Google API key", R"re(\b(AIza[0-9A-Za-z_\-]{35}))re");
    add("Stripe live secret key", R"re(\b((?:sk|rk)_live_[0-9A-Za-z]{20,}))re");
    add("Slack token", R"re(\b(xox[abposr]-[0-9A-Za-z\-]{10,}))re");
    add("Slack webhook",
        R"re((https://hooks\.slack\.com/services/T[0-9A-Za-z]+/B[0-9A-Za-z]+/[0-9A-Za-z]+))re");
    add("GitHub token", R"re(\b(gh[pousr]_[0-9A-Za-z]{36,}))re");
    add("Telegram bot token", R"re(\b([0-9]{8,10}:AA[0-9A-Za-z_\-]{33}))re");
    add("SendGrid key", R"re(\b(SG\.[0-9A-Za-z_\-]{22}\.[0-9A-Za-z_\-]{43}))re");
    add("JWT", R"re(\b(eyJ[0-9A-Za-z_\-]{8,}\.eyJ[0-9A-Za-z_\-]{8,}\.[0-9A-Za-z_\-]{8,}))re");
    return v;
  }();
  return *list;
}

// A value assigned to a name that says it is secret: api_key = "…", "clientSecret": "…".
const RE2& named_value() {
  static const RE2 re(R"re((?i)([a-z0-9_.\-]*(?:api[_\-]?key|apikey|secret|token|passw(?:or)?d)re"
                      R"re(|access[_\-]?key|auth[_\-]?key|private[_\-]?key)[a-z0-9_\-]*))re"
                      R"re(["']?\s*[:=]\s*["'`]([^"'`\s]{16,256})["'`])re");
  return re;
}

int line_of(std::string_view text, size_t offset) {
  return 1 + static_cast<int>(std::count(text.begin(),
                                         text.begin() + static_cast<std::ptrdiff_t>(offset), '\n'));
}

bool looks_random(std::string_view v) {
  const bool letters = std::any_of(
      v.begin(), v.end(), [](char c) { return std::isalpha(static_cast<unsigned char>(c)); });
  const bool digits = std::any_of(
      v.begin(), v.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
  return letters && digits && shannon_entropy(v) >= 3.5;
}

}  // namespace

double shannon_entropy(std::string_view v) {
  if (v.empty()) return 0;
  std::array<int, 256> counts{};
  for (unsigned char c : v) ++counts[c];
  double h = 0;
  for (int n : counts) {
    if (n == 0) continue;
    const double p = static_cast<double>(n) / static_cast<double>(v.size());
    h -= p * std::log2(p);
  }
  return h;
}

std::string mask_secret(std::string_view value) {
  const size_t shown = value.size() >= 16 ? 4 : value.size() >= 8 ? 2 : 0;
  return std::string(value.substr(0, shown)) + "…";
}

std::vector<SecretFinding> scan_for_secrets(std::string_view text) {
  std::vector<std::pair<size_t, SecretFinding>> found;  // by offset
  std::vector<std::pair<size_t, size_t>> taken;         // value spans already reported
  for (const auto& p : patterns()) {
    re2::StringPiece input(text.data(), text.size());
    re2::StringPiece value;
    while (RE2::FindAndConsume(&input, p->re, &value)) {
      const size_t at = static_cast<size_t>(value.data() - text.data());
      taken.emplace_back(at, at + value.size());
      found.emplace_back(at,
                         SecretFinding{p->kind, line_of(text, at),
                                       mask_secret(std::string_view(value.data(), value.size()))});
    }
  }
  re2::StringPiece input(text.data(), text.size());
  re2::StringPiece name, value;
  while (RE2::FindAndConsume(&input, named_value(), &name, &value)) {
    const std::string_view v(value.data(), value.size());
    const size_t at = static_cast<size_t>(value.data() - text.data());
    const bool overlaps = std::any_of(taken.begin(), taken.end(), [&](const auto& s) {
      return at < s.second && s.first < at + v.size();
    });
    if (overlaps || !looks_random(v)) continue;
    found.emplace_back(at,
                       SecretFinding{"value assigned to " + std::string(name.data(), name.size()),
                                     line_of(text, at), mask_secret(v)});
  }
  std::sort(found.begin(), found.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<SecretFinding> out;
  out.reserve(found.size());
  for (auto& f : found) out.push_back(std::move(f.second));
  return out;
}

PageScripts find_scripts(std::string_view html) {
  static const RE2 script(R"re((?is)<script\b([^>]*)>(.*?)</script\s*>)re");
  static const RE2 src(R"re((?i)\bsrc\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+)))re");
  PageScripts out;
  re2::StringPiece input(html.data(), html.size());
  std::string attrs, body;
  while (RE2::FindAndConsume(&input, script, &attrs, &body)) {
    std::string a, b, c;
    if (RE2::PartialMatch(attrs, src, &a, &b, &c)) {
      std::string s = !a.empty() ? a : !b.empty() ? b : c;
      if (!s.empty()) out.sources.push_back(std::move(s));
    } else if (!body.empty()) {
      if (!out.inline_code.empty()) out.inline_code += '\n';
      out.inline_code += body;
    }
  }
  return out;
}

}  // namespace lookout::audit
