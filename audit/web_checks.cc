#include "audit/web_checks.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <re2/re2.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "audit/secret_scan.h"
#include "audit/url.h"
#include "core/text.h"

namespace lookout::audit {
namespace {

std::optional<std::string> first_header(const HttpObservation& obs, std::string_view name) {
  auto v = header_values(obs, name);
  if (v.empty()) return std::nullopt;
  return v.front();
}

std::string host_of(const std::string& url) { return ascii_lower(parse_url(url).host); }

// The directives of a policy by name: "script-src" -> "'self' 'nonce-…'".
std::vector<std::pair<std::string, std::string>> csp_directives(std::string_view policy) {
  std::vector<std::pair<std::string, std::string>> out;
  size_t start = 0;
  while (start <= policy.size()) {
    const size_t end = std::min(policy.find(';', start), policy.size());
    const std::string d = trim(policy.substr(start, end - start));
    if (!d.empty()) {
      const size_t sp = d.find_first_of(" \t");
      out.emplace_back(
          ascii_lower(d.substr(0, sp)),
          sp == std::string::npos ? "" : ascii_lower(trim(std::string_view(d).substr(sp))));
    }
    start = end + 1;
  }
  return out;
}

}  // namespace

std::vector<std::string> header_values(const HttpObservation& obs, std::string_view name) {
  std::vector<std::string> out;
  for (const auto& [k, v] : obs.headers) {
    if (k.size() == name.size() && ascii_lower(k) == ascii_lower(name)) out.push_back(v);
  }
  return out;
}

CheckResult judge_redirect(const Fetched& http, const std::string& host, bool www) {
  const char* kind = www ? "https_redirect_www" : "https_redirect";
  if (!http.responded)
    return make_check(kind, Result::kFail, fmt::format("{}: {}", http.url, http.cause));
  const int s = http.obs.status;
  const auto location = first_header(http.obs, "Location");
  if (s >= 300 && s < 400 && location) {
    const std::string target = resolve_url(http.url, *location);
    const std::string to_host = host_of(target);
    const bool https = ascii_lower(target).rfind("https://", 0) == 0;
    const bool ours = to_host == ascii_lower(host) || to_host == "www." + ascii_lower(host) ||
                      "www." + to_host == ascii_lower(host);
    const std::string seen = fmt::format("{} answers {} to {}", http.url, s, shorten(target));
    if (!https) return make_check(kind, Result::kFail, seen + ", which is not HTTPS");
    if (!ours)
      return make_check(kind, Result::kWarn, seen + fmt::format(", another host than {}", host));
    if (s == 301 || s == 308) return make_check(kind, Result::kPass, seen);
    return make_check(kind, Result::kWarn,
                      seen + ": a temporary redirect, which browsers do not remember");
  }
  if (s >= 200 && s < 300)
    return make_check(kind, Result::kFail,
                      fmt::format("{} serves the page over plain HTTP ({})", http.url, s));
  return make_check(kind, Result::kFail,
                    fmt::format("{} answers {} without a redirect to HTTPS", http.url, s));
}

CheckResult judge_hsts(const HttpObservation& page) {
  const auto v = first_header(page, "Strict-Transport-Security");
  if (!v) return make_check("hsts", Result::kFail, "no Strict-Transport-Security header");
  static const RE2 max_age(R"re((?i)max-age\s*=\s*"?([0-9]{1,12}))re");
  int64_t seconds = -1;
  if (!RE2::PartialMatch(*v, max_age, &seconds))
    return make_check("hsts", Result::kFail, fmt::format("no max-age in \"{}\"", shorten(*v)));
  const std::string seen =
      fmt::format("Strict-Transport-Security: {} ({} days)", shorten(*v), seconds / 86'400);
  return make_check("hsts", seconds >= 15'552'000 ? Result::kPass : Result::kFail, seen);
}

CheckResult judge_csp(const HttpObservation& page) {
  const auto v = first_header(page, "Content-Security-Policy");
  if (!v) {
    const bool report_only = first_header(page, "Content-Security-Policy-Report-Only").has_value();
    return make_check("csp", Result::kFail,
                      report_only
                          ? "only Content-Security-Policy-Report-Only, which enforces nothing"
                          : "no Content-Security-Policy header");
  }
  const auto directives = csp_directives(*v);
  auto find = [&](std::string_view name) -> std::optional<std::string> {
    for (const auto& [k, val] : directives) {
      if (k == name) return val;
    }
    return std::nullopt;
  };
  auto scripts = find("script-src");
  if (!scripts) scripts = find("default-src");
  if (!scripts)
    return make_check("csp", Result::kWarn,
                      fmt::format("\"{}\" sets neither script-src nor default-src", shorten(*v)));
  // 'unsafe-inline' is ignored by browsers when a nonce or hash is present.
  const bool nonce = scripts->find("'nonce-") != std::string::npos ||
                     scripts->find("'sha256-") != std::string::npos ||
                     scripts->find("'sha384-") != std::string::npos ||
                     scripts->find("'sha512-") != std::string::npos;
  if (scripts->find("'unsafe-inline'") != std::string::npos && !nonce) {
    return make_check("csp", Result::kWarn,
                      fmt::format("scripts allow 'unsafe-inline': \"{}\"", shorten(*v)));
  }
  if (scripts->find("'unsafe-eval'") != std::string::npos) {
    return make_check("csp", Result::kWarn,
                      fmt::format("scripts allow 'unsafe-eval': \"{}\"", shorten(*v)));
  }
  return make_check("csp", Result::kPass, fmt::format("Content-Security-Policy: {}", shorten(*v)));
}

CheckResult judge_nosniff(const HttpObservation& page) {
  const auto v = first_header(page, "X-Content-Type-Options");
  if (!v) return make_check("nosniff", Result::kFail, "no X-Content-Type-Options header");
  if (ascii_lower(trim(*v)) != "nosniff")
    return make_check("nosniff", Result::kFail,
                      fmt::format("X-Content-Type-Options: {}", shorten(*v)));
  return make_check("nosniff", Result::kPass, "X-Content-Type-Options: nosniff");
}

CheckResult judge_frame_protection(const HttpObservation& page) {
  if (const auto csp = first_header(page, "Content-Security-Policy")) {
    for (const auto& [k, v] : csp_directives(*csp)) {
      if (k == "frame-ancestors") {
        const bool open = v.find('*') != std::string::npos;
        return make_check("frame_protection", open ? Result::kFail : Result::kPass,
                          fmt::format("CSP frame-ancestors {}", v));
      }
    }
  }
  const auto xfo = first_header(page, "X-Frame-Options");
  if (!xfo)
    return make_check("frame_protection", Result::kFail,
                      "neither X-Frame-Options nor CSP frame-ancestors");
  const std::string v = ascii_lower(trim(*xfo));
  if (v == "deny" || v == "sameorigin")
    return make_check("frame_protection", Result::kPass, "X-Frame-Options: " + trim(*xfo));
  return make_check(
      "frame_protection", Result::kWarn,
      fmt::format("X-Frame-Options: {} (browsers ignore values other than DENY and SAMEORIGIN)",
                  shorten(*xfo)));
}

CheckResult judge_referrer_policy(const HttpObservation& page) {
  const auto v = first_header(page, "Referrer-Policy");
  if (!v) {
    return make_check("referrer_policy", Result::kWarn,
                      "no Referrer-Policy header (browsers default to "
                      "strict-origin-when-cross-origin; older ones leak full URLs)");
  }
  // A list: the last value the browser knows wins.
  std::string last = ascii_lower(trim(*v));
  if (const auto comma = last.rfind(','); comma != std::string::npos)
    last = trim(std::string_view(last).substr(comma + 1));
  const std::string seen = "Referrer-Policy: " + shorten(*v);
  if (last == "unsafe-url") return make_check("referrer_policy", Result::kFail, seen);
  if (last == "no-referrer-when-downgrade")
    return make_check("referrer_policy", Result::kWarn, seen);
  return make_check("referrer_policy", Result::kPass, seen);
}

CheckResult judge_version_leak(const HttpObservation& page) {
  static const RE2 version(R"re((?:/|\b[vV]?)[0-9]+\.[0-9]+)re");
  std::vector<std::string> leaks, names;
  for (const char* h :
       {"Server", "X-Powered-By", "X-AspNet-Version", "X-AspNetMvc-Version", "X-Generator"}) {
    for (const auto& v : header_values(page, h)) {
      const std::string seen = fmt::format("{}: {}", h, shorten(v, 60));
      if (RE2::PartialMatch(v, version) || std::string_view(h).rfind("X-AspNet", 0) == 0) {
        leaks.push_back(seen);
      } else if (std::string_view(h) != "Server") {
        names.push_back(seen);
      }
    }
  }
  if (!leaks.empty())
    return make_check("version_leak", Result::kFail, fmt::format("{}", fmt::join(leaks, "; ")));
  if (!names.empty())
    return make_check("version_leak", Result::kWarn,
                      fmt::format("{} (no version, but names the stack)", fmt::join(names, "; ")));
  const auto server = first_header(page, "Server");
  return make_check("version_leak", Result::kPass,
                    server ? fmt::format("Server: {}", shorten(*server, 60)) : "no Server header");
}

CheckResult judge_cors(const HttpObservation& page, const std::string& origin) {
  const auto allow = first_header(page, "Access-Control-Allow-Origin");
  if (!allow)
    return make_check("cors", Result::kPass,
                      fmt::format("no Access-Control-Allow-Origin for Origin {}", origin));
  const auto creds = first_header(page, "Access-Control-Allow-Credentials");
  const bool with_credentials = creds && ascii_lower(trim(*creds)) == "true";
  const std::string a = trim(*allow);
  if (a == "*" && with_credentials) {
    return make_check("cors", Result::kFail,
                      "Access-Control-Allow-Origin: * with Access-Control-Allow-Credentials: true");
  }
  if (ascii_lower(a) == ascii_lower(origin)) {
    if (with_credentials) {
      return make_check(
          "cors", Result::kFail,
          fmt::format("the unknown origin {} is reflected, with credentials allowed", origin));
    }
    return make_check(
        "cors", Result::kWarn,
        fmt::format("the unknown origin {} is reflected (without credentials)", origin));
  }
  return make_check("cors", Result::kPass,
                    fmt::format("Access-Control-Allow-Origin: {}{}", shorten(a, 60),
                                with_credentials ? " with credentials, for that origin only" : ""));
}

CheckResult judge_cookies(const std::vector<SeenCookie>& cookies, int responses_seen) {
  static const RE2 session_name(
      R"re((?i)(sess|sid|auth|token|jwt|login|remember|identity|user))re");
  static const RE2 csrf_name(R"re((?i)(csrf|xsrf))re");
  std::vector<std::string> problems;
  std::vector<std::string> names;
  for (const auto& c : cookies) {
    std::vector<std::string> parts;
    size_t start = 0;
    while (start <= c.line.size()) {
      const size_t end = std::min(c.line.find(';', start), c.line.size());
      parts.push_back(trim(std::string_view(c.line).substr(start, end - start)));
      start = end + 1;
    }
    const std::string name = parts.empty() ? "" : trim(parts[0].substr(0, parts[0].find('=')));
    bool secure = false, http_only = false, removal = false;
    std::optional<std::string> same_site;
    for (size_t i = 1; i < parts.size(); ++i) {
      const std::string key = ascii_lower(trim(parts[i].substr(0, parts[i].find('='))));
      const std::string value = parts[i].find('=') == std::string::npos
                                    ? ""
                                    : ascii_lower(trim(parts[i].substr(parts[i].find('=') + 1)));
      if (key == "secure") secure = true;
      if (key == "httponly") http_only = true;
      if (key == "samesite") same_site = value;
      if (key == "max-age" && !value.empty() && (value == "0" || value[0] == '-')) removal = true;
    }
    if (name.empty() || removal) continue;  // a deletion carries no value to protect
    names.push_back(name);
    std::vector<std::string> missing;
    if (!secure) missing.emplace_back("Secure");
    if (!same_site) {
      missing.emplace_back("SameSite");
    } else if (*same_site == "none" && !secure) {
      missing.emplace_back("Secure (required by SameSite=None)");
    }
    if (!http_only && RE2::PartialMatch(name, session_name) && !RE2::PartialMatch(name, csrf_name))
      missing.emplace_back("HttpOnly");
    if (!missing.empty())
      problems.push_back(
          fmt::format("{} (from {}) lacks {}", name, c.url, fmt::join(missing, ", ")));
  }
  if (names.empty()) {
    return make_check("cookies", Result::kSkipped,
                      fmt::format("no cookie was set on the {} answers seen", responses_seen));
  }
  if (!problems.empty())
    return make_check("cookies", Result::kFail, fmt::format("{}", fmt::join(problems, "; ")));
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return make_check(
      "cookies", Result::kPass,
      fmt::format("{} cookies, all flagged: {}", names.size(), fmt::join(names, ", ")));
}

std::optional<std::string> refusal_leak(std::string_view body) {
  static const RE2 email(R"re(([A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}))re");
  static const RE2 trace(
      R"re((Traceback \(most recent call last\)|\n\s+at [\w$.<>]+\(|Exception in thread)re"
      R"re(|SQLSTATE\[|ORA-[0-9]{5}|stack trace:|\.java:[0-9]+\)|\.py", line [0-9]+))re");
  std::string address;
  if (RE2::PartialMatch(body, email, &address))
    return fmt::format("an email address ({})", mask_secret(address));
  std::string marker;
  if (RE2::PartialMatch(body, trace, &marker)) return "a stack trace or database error";
  const auto secrets = scan_for_secrets(body);
  if (!secrets.empty())
    return fmt::format("a {} ({})", secrets.front().kind, secrets.front().masked);
  return std::nullopt;
}

CheckResult judge_private_route(const std::string& path, const Fetched& f) {
  if (!f.responded)
    return make_check("private_route", Result::kFail, fmt::format("no answer: {}", f.cause), path);
  const int s = f.obs.status;
  if (s == 401 || s == 403) {
    if (const auto leak = refusal_leak(f.obs.body)) {
      return make_check("private_route", Result::kFail,
                        fmt::format("answers {}, but the refusal body holds {}", s, *leak), path);
    }
    return make_check("private_route", Result::kPass,
                      fmt::format("answers {} ({} bytes of body)", s, f.obs.body.size()), path);
  }
  if (s >= 300 && s < 400) {
    const auto location = first_header(f.obs, "Location");
    return make_check(
        "private_route", Result::kWarn,
        fmt::format("answers {} to {}: browsers are sent away, but an API client should get 401", s,
                    location ? shorten(*location, 80) : "nowhere"),
        path);
  }
  if (s >= 200 && s < 300) {
    return make_check(
        "private_route", Result::kFail,
        fmt::format("answers {} to an anonymous call ({} bytes of body)", s, f.obs.body.size()),
        path);
  }
  return make_check("private_route", Result::kWarn,
                    fmt::format("answers {} instead of 401 or 403", s), path);
}

namespace {

bool is_html(const Fetched& f) {
  const auto ct = first_header(f.obs, "Content-Type");
  if (ct && ascii_lower(*ct).find("text/html") != std::string::npos) return true;
  const std::string head = ascii_lower(std::string_view(f.obs.body).substr(0, 512));
  return head.find("<!doctype html") != std::string::npos ||
         head.find("<html") != std::string::npos;
}

// What the file, when served, starts with or holds.
bool has_signature(const std::string& path, std::string_view body) {
  static const RE2 env_line(R"re((?m)^[A-Za-z_][A-Za-z0-9_]*\s*=)re");
  static const RE2 git_head(R"re(^(ref: refs/|[0-9a-f]{40}))re");
  static const RE2 htpasswd(R"re((?m)^[^:\s<]+:(\$apr1\$|\$2[aby]\$|\{SHA\}|\$[156]\$))re");
  auto starts = [&](std::string_view magic) { return body.substr(0, magic.size()) == magic; };
  if (path.find(".env") != std::string::npos) return RE2::PartialMatch(body, env_line);
  if (path.find(".git/HEAD") != std::string::npos) return RE2::PartialMatch(body, git_head);
  if (path.find(".git/config") != std::string::npos)
    return body.find("[core]") != std::string_view::npos;
  if (path.find(".htpasswd") != std::string::npos) return RE2::PartialMatch(body, htpasswd);
  if (path.find(".DS_Store") != std::string::npos)
    return starts(std::string_view("\0\0\0\1Bud1", 8));
  return starts("PK\x03\x04") || starts("\x1f\x8b") || starts("SQLite format 3") || starts("BZh") ||
         body.find("CREATE TABLE") != std::string_view::npos ||
         body.find("-- MySQL dump") != std::string_view::npos ||
         body.find("PostgreSQL database dump") != std::string_view::npos ||
         body.find("<?php") != std::string_view::npos;
}

}  // namespace

std::optional<std::string> exposed_file(const std::string& path, const Fetched& f,
                                        const Fetched& control) {
  if (f.body_too_large) {
    // Larger than the audit reads: served, unless anything is (then the control was too).
    if (control.body_too_large) return std::nullopt;
    return fmt::format("{} (larger than the audit reads)", path);
  }
  if (!f.responded || f.obs.status < 200 || f.obs.status >= 300) return std::nullopt;
  if (has_signature(path, f.obs.body)) return fmt::format("{} ({} bytes)", path, f.obs.body.size());
  // A catch-all page (a single-page app's index) answers every path the same way.
  const bool like_control =
      control.responded && control.obs.status == f.obs.status && control.obs.body == f.obs.body;
  if (like_control || is_html(f) || f.obs.body.empty()) return std::nullopt;
  return fmt::format("{} ({} bytes, not the page served for unknown paths)", path,
                     f.obs.body.size());
}

bool is_source_map(const Fetched& f) {
  if (!f.responded || f.obs.status < 200 || f.obs.status >= 300) return false;
  const auto j = nlohmann::json::parse(f.obs.body, nullptr, false);
  return j.is_object() && j.contains("mappings");
}

CheckResult judge_latency(const std::vector<int64_t>& samples_us, int64_t budget_us, int wanted) {
  if (samples_us.empty())
    return make_check("latency_p95", Result::kFail, "no request of the page succeeded");
  std::vector<int64_t> s = samples_us;
  std::sort(s.begin(), s.end());
  auto rank = [&](double q) {
    return s[static_cast<size_t>(std::max(0.0, std::ceil(q * static_cast<double>(s.size())) - 1))];
  };
  const double p95_ms = static_cast<double>(rank(0.95)) / 1000.0;
  std::string seen =
      fmt::format("p95 {:.0f} ms, p50 {:.0f} ms over {} requests (budget {} ms)", p95_ms,
                  static_cast<double>(rank(0.5)) / 1000.0, s.size(), budget_us / 1000);
  if (static_cast<int>(s.size()) < wanted)
    seen += fmt::format("; {} of {} failed", wanted - static_cast<int>(s.size()), wanted);
  return make_check("latency_p95", rank(0.95) < budget_us ? Result::kPass : Result::kFail, seen);
}

CheckResult judge_rate_limit(const std::string& path, const std::vector<Attempt>& attempts) {
  if (attempts.empty()) return make_check("rate_limit", Result::kSkipped, "no attempt was made");
  for (size_t i = 0; i < attempts.size(); ++i) {
    if (attempts[i].status == 429 || attempts[i].status == 423 || attempts[i].retry_after) {
      return make_check("rate_limit", Result::kPass,
                        fmt::format("POST {} answered {} after {} failed sign-ins", path,
                                    attempts[i].status, i + 1));
    }
  }
  // A slowdown: the last answers much slower than the first ones.
  auto median = [](std::vector<int64_t> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[v.size() / 2];
  };
  const size_t k = std::min<size_t>(5, attempts.size() / 2);
  std::vector<int64_t> first, last;
  for (size_t i = 0; i < k; ++i) {
    first.push_back(attempts[i].total_us);
    last.push_back(attempts[attempts.size() - 1 - i].total_us);
  }
  const int64_t a = median(first), b = median(last);
  const std::string times = fmt::format("{:.0f} ms to {:.0f} ms", static_cast<double>(a) / 1000.0,
                                        static_cast<double>(b) / 1000.0);
  if (k > 0 && b >= 2 * a + 500'000) {
    return make_check("rate_limit", Result::kPass,
                      fmt::format("POST {} slowed down over {} failed sign-ins ({})", path,
                                  attempts.size(), times));
  }
  const int answered = static_cast<int>(std::count_if(
      attempts.begin(), attempts.end(), [](const Attempt& x) { return x.status != 0; }));
  return make_check(
      "rate_limit", Result::kFail,
      fmt::format("POST {}: {} failed sign-ins, {} answered, no 429 and no slowdown ({})", path,
                  attempts.size(), answered, times));
}

}  // namespace lookout::audit
