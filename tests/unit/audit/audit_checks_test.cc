// The audit's judges, its secret scanner, its targets and its config writer, on hand-made answers.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>

#include "audit/config_writer.h"
#include "audit/dnssec_check.h"
#include "audit/registered_domain.h"
#include "audit/report.h"
#include "audit/secret_scan.h"
#include "audit/url.h"
#include "audit/web_checks.h"
#include "config/kinds/dns_spec.h"
#include "config/kinds/dnssec_spec.h"
#include "config/kinds/http_spec.h"

namespace lookout::audit {
namespace {

HttpObservation answer(int status, std::vector<std::pair<std::string, std::string>> headers,
                       std::string body = "") {
  HttpObservation o;
  o.status = status;
  o.headers = std::move(headers);
  o.body = std::move(body);
  return o;
}

Fetched fetched(const std::string& url, int status,
                std::vector<std::pair<std::string, std::string>> headers = {},
                std::string body = "") {
  Fetched f;
  f.url = url;
  f.responded = true;
  f.obs = answer(status, std::move(headers), std::move(body));
  return f;
}

TEST(AuditRedirect, PermanentToHttpsOnTheSameHostPasses) {
  EXPECT_EQ(judge_redirect(fetched("http://a.example/", 301, {{"Location", "https://a.example/"}}),
                           "a.example", false)
                .result,
            Result::kPass);
  EXPECT_EQ(
      judge_redirect(fetched("http://a.example/", 308, {{"location", "https://www.a.example/x"}}),
                     "a.example", false)
          .result,
      Result::kPass);
  const auto temporary = judge_redirect(
      fetched("http://a.example/", 302, {{"Location", "https://a.example/"}}), "a.example", false);
  EXPECT_EQ(temporary.result, Result::kWarn);
  EXPECT_NE(temporary.evidence.find("temporary"), std::string::npos);
  EXPECT_EQ(
      judge_redirect(fetched("http://a.example/", 301, {{"Location", "http://a.example/login"}}),
                     "a.example", false)
          .result,
      Result::kFail);
  EXPECT_EQ(
      judge_redirect(fetched("http://a.example/", 301, {{"Location", "https://evil.example/"}}),
                     "a.example", false)
          .result,
      Result::kWarn);
  EXPECT_EQ(judge_redirect(fetched("http://a.example/", 200), "a.example", false).result,
            Result::kFail);
  Fetched none;
  none.url = "http://a.example/";
  none.cause = "cannot connect";
  const auto down = judge_redirect(none, "a.example", true);
  EXPECT_EQ(down.result, Result::kFail);
  EXPECT_EQ(down.id, "https_redirect_www");
}

TEST(AuditHeaders, Hsts) {
  EXPECT_EQ(judge_hsts(answer(200, {})).result, Result::kFail);
  EXPECT_EQ(judge_hsts(answer(200, {{"Strict-Transport-Security", "max-age=86400"}})).result,
            Result::kFail);
  EXPECT_EQ(judge_hsts(answer(200, {{"Strict-Transport-Security", "includeSubDomains"}})).result,
            Result::kFail);
  EXPECT_EQ(
      judge_hsts(answer(200, {{"strict-transport-security", "max-age=\"15552000\"; preload"}}))
          .result,
      Result::kPass);
  const auto year = judge_hsts(
      answer(200, {{"Strict-Transport-Security", "max-age=31536000; includeSubDomains"}}));
  EXPECT_EQ(year.result, Result::kPass);
  EXPECT_NE(year.evidence.find("365 days"), std::string::npos);
}

TEST(AuditHeaders, ContentSecurityPolicy) {
  EXPECT_EQ(judge_csp(answer(200, {})).result, Result::kFail);
  const auto report_only =
      judge_csp(answer(200, {{"Content-Security-Policy-Report-Only", "default-src 'self'"}}));
  EXPECT_EQ(report_only.result, Result::kFail);
  EXPECT_NE(report_only.evidence.find("Report-Only"), std::string::npos);
  EXPECT_EQ(judge_csp(answer(200, {{"Content-Security-Policy", "default-src 'self'"}})).result,
            Result::kPass);
  EXPECT_EQ(judge_csp(answer(200, {{"Content-Security-Policy",
                                    "default-src 'self'; script-src 'self' 'unsafe-inline'"}}))
                .result,
            Result::kWarn);
  EXPECT_EQ(judge_csp(answer(200, {{"Content-Security-Policy",
                                    "script-src 'self' 'unsafe-inline' 'nonce-abc'"}}))
                .result,
            Result::kPass);
  EXPECT_EQ(
      judge_csp(answer(200, {{"Content-Security-Policy", "default-src 'self' 'unsafe-eval'"}}))
          .result,
      Result::kWarn);
  EXPECT_EQ(judge_csp(answer(200, {{"Content-Security-Policy", "img-src *"}})).result,
            Result::kWarn);
}

TEST(AuditHeaders, NosniffFramesAndReferrer) {
  EXPECT_EQ(judge_nosniff(answer(200, {{"X-Content-Type-Options", "NoSniff"}})).result,
            Result::kPass);
  EXPECT_EQ(judge_nosniff(answer(200, {{"X-Content-Type-Options", "sniff"}})).result,
            Result::kFail);
  EXPECT_EQ(judge_nosniff(answer(200, {})).result, Result::kFail);

  EXPECT_EQ(judge_frame_protection(answer(200, {{"X-Frame-Options", "DENY"}})).result,
            Result::kPass);
  EXPECT_EQ(
      judge_frame_protection(answer(200, {{"Content-Security-Policy", "frame-ancestors 'self'"}}))
          .result,
      Result::kPass);
  EXPECT_EQ(judge_frame_protection(answer(200, {{"Content-Security-Policy", "frame-ancestors *"},
                                                {"X-Frame-Options", "DENY"}}))
                .result,
            Result::kFail);
  EXPECT_EQ(
      judge_frame_protection(answer(200, {{"X-Frame-Options", "ALLOW-FROM https://x.example"}}))
          .result,
      Result::kWarn);
  EXPECT_EQ(judge_frame_protection(answer(200, {})).result, Result::kFail);

  EXPECT_EQ(judge_referrer_policy(answer(200, {})).result, Result::kWarn);
  EXPECT_EQ(judge_referrer_policy(answer(200, {{"Referrer-Policy", "unsafe-url"}})).result,
            Result::kFail);
  EXPECT_EQ(judge_referrer_policy(answer(200, {{"Referrer-Policy", "no-referrer-when-downgrade"}}))
                .result,
            Result::kWarn);
  EXPECT_EQ(judge_referrer_policy(
                answer(200, {{"Referrer-Policy", "unsafe-url, strict-origin-when-cross-origin"}}))
                .result,
            Result::kPass);
}

TEST(AuditHeaders, VersionLeaks) {
  EXPECT_EQ(judge_version_leak(answer(200, {{"Server", "nginx"}})).result, Result::kPass);
  EXPECT_EQ(judge_version_leak(answer(200, {})).result, Result::kPass);
  const auto nginx = judge_version_leak(answer(200, {{"Server", "nginx/1.22.1"}}));
  EXPECT_EQ(nginx.result, Result::kFail);
  EXPECT_NE(nginx.evidence.find("nginx/1.22.1"), std::string::npos);
  EXPECT_EQ(judge_version_leak(answer(200, {{"X-Powered-By", "PHP/8.1.2"}})).result, Result::kFail);
  EXPECT_EQ(
      judge_version_leak(answer(200, {{"Server", "Apache"}, {"X-AspNet-Version", "4"}})).result,
      Result::kFail);
  EXPECT_EQ(judge_version_leak(answer(200, {{"X-Powered-By", "Express"}})).result, Result::kWarn);
}

TEST(AuditHeaders, CorsWithCredentials) {
  const std::string origin = "https://lookout-audit.invalid";
  EXPECT_EQ(judge_cors(answer(200, {}), origin).result, Result::kPass);
  EXPECT_EQ(judge_cors(answer(200, {{"Access-Control-Allow-Origin", "*"}}), origin).result,
            Result::kPass);
  EXPECT_EQ(judge_cors(answer(200, {{"Access-Control-Allow-Origin", "*"},
                                    {"Access-Control-Allow-Credentials", "true"}}),
                       origin)
                .result,
            Result::kFail);
  EXPECT_EQ(judge_cors(answer(200, {{"Access-Control-Allow-Origin", origin},
                                    {"Access-Control-Allow-Credentials", "true"}}),
                       origin)
                .result,
            Result::kFail);
  EXPECT_EQ(judge_cors(answer(200, {{"Access-Control-Allow-Origin", origin}}), origin).result,
            Result::kWarn);
  EXPECT_EQ(judge_cors(answer(200, {{"Access-Control-Allow-Origin", "https://app.example"},
                                    {"Access-Control-Allow-Credentials", "true"}}),
                       origin)
                .result,
            Result::kPass);
}

TEST(AuditCookies, EveryCookieSecureWithSameSiteAndSessionsHttpOnly) {
  EXPECT_EQ(judge_cookies({}, 4).result, Result::kSkipped);
  EXPECT_EQ(judge_cookies({{"/", "sid=abc; Path=/; Secure; HttpOnly; SameSite=Lax"},
                           {"/", "theme=dark; Secure; SameSite=Strict"}},
                          2)
                .result,
            Result::kPass);
  // A CSRF cookie must be readable by the page's script; a deletion carries nothing.
  EXPECT_EQ(judge_cookies(
                {{"/", "XSRF-TOKEN=abc; Secure; SameSite=Lax"}, {"/", "session=; Max-Age=0"}}, 2)
                .result,
            Result::kPass);
  const auto missing = judge_cookies({{"/login", "session_id=abc; Path=/"}}, 1);
  EXPECT_EQ(missing.result, Result::kFail);
  EXPECT_NE(missing.evidence.find("session_id (from /login) lacks Secure, SameSite, HttpOnly"),
            std::string::npos)
      << missing.evidence;
  EXPECT_EQ(judge_cookies({{"/", "theme=dark; SameSite=None"}}, 1).result, Result::kFail);
  EXPECT_EQ(judge_cookies({{"/", "auth=x; Secure; SameSite=Lax"}}, 1).result,
            Result::kFail);  // not HttpOnly
}

TEST(AuditPrivateRoutes, RefusalWithoutData) {
  EXPECT_EQ(
      judge_private_route("/admin", fetched("https://a/admin", 401, {}, "{\"error\":\"sign in\"}"))
          .result,
      Result::kPass);
  EXPECT_EQ(judge_private_route("/admin", fetched("https://a/admin", 403)).result, Result::kPass);
  const auto leak = judge_private_route(
      "/admin", fetched("https://a/admin", 403, {}, "{\"owner\":\"jane.doe@acme.example\"}"));
  EXPECT_EQ(leak.result, Result::kFail);
  EXPECT_NE(leak.evidence.find("an email address (jane…)"), std::string::npos) << leak.evidence;
  EXPECT_EQ(leak.evidence.find("jane.doe"), std::string::npos);
  EXPECT_EQ(judge_private_route(
                "/x", fetched("https://a/x", 401, {},
                              "Traceback (most recent call last):\n  File \"app.py\", line 3"))
                .result,
            Result::kFail);
  EXPECT_EQ(judge_private_route("/x", fetched("https://a/x", 302, {{"Location", "/login"}})).result,
            Result::kWarn);
  EXPECT_EQ(judge_private_route("/x", fetched("https://a/x", 200, {}, "[]")).result, Result::kFail);
  EXPECT_EQ(judge_private_route("/x", fetched("https://a/x", 404)).result, Result::kWarn);
  EXPECT_EQ(judge_private_route("/x", fetched("https://a/x", 401)).id, "private_route:/x");
}

TEST(AuditExposedFiles, TheFileNotTheCatchAllPage) {
  const Fetched spa = fetched("https://a/x", 200, {{"Content-Type", "text/html"}},
                              "<!doctype html><div id=app></div>");
  const Fetched not_found = fetched("https://a/x", 404);
  EXPECT_FALSE(exposed_file("/.env", spa, spa));
  EXPECT_FALSE(exposed_file("/.env", not_found, not_found));
  EXPECT_TRUE(
      exposed_file("/.env", fetched("https://a/.env", 200, {}, "# prod\nDB_PASSWORD=x\n"), spa));
  EXPECT_TRUE(exposed_file("/.git/HEAD",
                           fetched("https://a/.git/HEAD", 200, {}, "ref: refs/heads/main\n"), spa));
  EXPECT_TRUE(exposed_file("/.git/config",
                           fetched("https://a/.git/config", 200, {}, "[core]\n\tbare = false\n"),
                           not_found));
  EXPECT_TRUE(exposed_file(
      "/backup.zip",
      fetched("https://a/backup.zip", 200, {}, std::string("PK\x03\x04", 4) + "data"), not_found));
  // Something else than the catch-all page, and not a page: served.
  EXPECT_TRUE(exposed_file(
      "/dump.sql",
      fetched("https://a/dump.sql", 200, {{"Content-Type", "application/octet-stream"}}, "x"),
      spa));
  // Text that is not the file (a soft 404 in text) is no finding when it matches the control.
  const Fetched soft =
      fetched("https://a/x", 200, {{"Content-Type", "text/plain"}}, "nothing here");
  EXPECT_FALSE(exposed_file("/.env", soft, soft));
  Fetched big;
  big.body_too_large = true;
  EXPECT_TRUE(exposed_file("/backup.tar.gz", big, not_found));
  EXPECT_FALSE(exposed_file("/backup.tar.gz", big, big));

  EXPECT_TRUE(is_source_map(
      fetched("https://a/app.js.map", 200, {}, R"({"version":3,"mappings":"AAAA"})")));
  EXPECT_FALSE(is_source_map(fetched("https://a/app.js.map", 200, {}, "<!doctype html>")));
  EXPECT_FALSE(is_source_map(fetched("https://a/app.js.map", 404, {}, R"({"mappings":""})")));
}

TEST(AuditLatency, NearestRankP95AgainstTheBudget) {
  std::vector<int64_t> s;
  for (int i = 1; i <= 20; ++i) s.push_back(i * 1000);
  const auto pass = judge_latency(s, 20'000, 20);
  EXPECT_EQ(pass.result, Result::kPass);
  EXPECT_NE(pass.evidence.find("p95 19 ms"), std::string::npos) << pass.evidence;
  EXPECT_EQ(judge_latency(s, 19'000, 20).result, Result::kFail);
  const auto partial = judge_latency({1000, 2000}, 500'000, 5);
  EXPECT_NE(partial.evidence.find("3 of 5 failed"), std::string::npos);
  EXPECT_EQ(judge_latency({}, 500'000, 5).result, Result::kFail);
}

TEST(AuditRateLimit, TooManyRequestsOrASlowdownPasses) {
  std::vector<Attempt> flat(30, Attempt{401, 20'000, false});
  EXPECT_EQ(judge_rate_limit("/login", flat).result, Result::kFail);
  auto limited = std::vector<Attempt>(5, Attempt{401, 20'000, false});
  limited.push_back({429, 1'000, true});
  const auto pass = judge_rate_limit("/login", limited);
  EXPECT_EQ(pass.result, Result::kPass);
  EXPECT_NE(pass.evidence.find("after 6 failed sign-ins"), std::string::npos);
  std::vector<Attempt> slower;
  slower.reserve(30);
  for (int i = 0; i < 30; ++i) slower.push_back({401, 20'000 + i * 100'000, false});
  EXPECT_EQ(judge_rate_limit("/login", slower).result, Result::kPass);
  EXPECT_EQ(judge_rate_limit("/login", {}).result, Result::kSkipped);
}

TEST(AuditSecrets, KnownShapesAndNamedRandomValuesMasked) {
  // Credential shapes made here at run time, so the source holds no key-like literal.
  std::mt19937 rng(7);
  auto random = [&](size_t n, std::string_view alphabet) {
    std::string out;
    for (size_t i = 0; i < n; ++i) out += alphabet[rng() % alphabet.size()];
    return out;
  };
  const std::string upper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  const std::string mixed = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  const std::string live = random(24, mixed);
  const std::string js =
      "const a = 1;\n"
      "const aws = '" +
      std::string("AK") + "IA" + random(16, upper) + "';\n" + "const stripe = \"" +
      std::string("sk_") + "live_" + live + "\";\n" + "const pub = '" + std::string("pk_") +
      "live_" + live + "';\n" + "const jwt = '" + std::string("ey") + "J" + random(20, mixed) +
      ".ey" + "J" + random(20, mixed) + "." + random(30, mixed) + "';\n" + "config.apiKey = \"" +
      random(8, "abcdefgh") + random(12, mixed) + "\";\n" +
      "const password = \"please-change-me-now\";\n" + "-----BEGIN RSA " + "PRIVATE KEY-----\n" +
      "const slack = '" + std::string("xo") + "xb-" + random(12, "0123456789") + "-" +
      random(10, mixed) + "';\n";
  const auto found = scan_for_secrets(js);
  std::vector<std::string> kinds;
  for (const auto& f : found) {
    kinds.push_back(f.kind);
    EXPECT_LE(f.masked.size(), std::string("AKIA…").size()) << f.masked;
  }
  const std::vector<std::string> expected{"AWS access key",
                                          "Stripe live secret key",
                                          "JWT",
                                          "value assigned to config.apiKey",
                                          "private key",
                                          "Slack token"};
  EXPECT_EQ(kinds, expected);
  EXPECT_EQ(found[0].line, 2);
  EXPECT_EQ(found[0].masked, std::string("AK") + "IA…");
  EXPECT_EQ(found[4].line, 8);
  EXPECT_TRUE(scan_for_secrets("const token = document.querySelector('meta').content;").empty());
  EXPECT_EQ(mask_secret("short"), "…");
  EXPECT_EQ(mask_secret("12345678"), "12…");
  EXPECT_GT(shannon_entropy("Zk29xQ7vLp3mW8rT5nB1"), 4.0);
  EXPECT_EQ(shannon_entropy("aaaa"), 0.0);
}

TEST(AuditSecrets, ScriptsOfAPage) {
  const auto s = find_scripts(
      "<html><SCRIPT src=\"/a.js\"></SCRIPT><script type=module src='b.js' defer></script>"
      "<script>var x = 1;</script><script src=//cdn.example/c.js></script></html>");
  EXPECT_EQ(s.sources, (std::vector<std::string>{"/a.js", "b.js", "//cdn.example/c.js"}));
  EXPECT_EQ(s.inline_code, "var x = 1;");
  EXPECT_EQ(resolve_url("https://a.example/app/page", "b.js"), "https://a.example/app/b.js");
  EXPECT_EQ(resolve_url("https://a.example/app/page", "//cdn.example/c.js"),
            "https://cdn.example/c.js");
  EXPECT_TRUE(same_origin("https://a.example/x", "https://A.example:443/y"));
  EXPECT_FALSE(same_origin("https://a.example/x", "http://a.example/x"));
  EXPECT_FALSE(same_origin("https://a.example/x", "https://a.example:8443/x"));
}

TEST(AuditTargets, DerivedFromTheUrl) {
  std::string error;
  AuditOptions o;
  o.url = "https://Portal.Acme.example/login?next=1";
  auto t = derive_targets(o, error);
  ASSERT_TRUE(t) << error;
  EXPECT_EQ(t->host, "portal.acme.example");
  EXPECT_EQ(t->port, 443);
  EXPECT_EQ(t->http_url, "http://Portal.Acme.example/login?next=1");
  EXPECT_EQ(t->www_http_url, "http://www.Portal.Acme.example/login?next=1");
  EXPECT_EQ(t->registered_domain, "acme.example");

  o.url = "http://acme.example";
  t = derive_targets(o, error);
  ASSERT_TRUE(t) << error;
  EXPECT_EQ(t->https_url, "https://acme.example/");

  o.url = "https://127.0.0.1:8443/";
  o.http_url = "http://127.0.0.1:8080/";
  t = derive_targets(o, error);
  ASSERT_TRUE(t) << error;
  EXPECT_EQ(t->port, 8443);
  EXPECT_EQ(t->http_url, "http://127.0.0.1:8080/");
  EXPECT_EQ(t->www_http_url, "");
  EXPECT_EQ(t->registered_domain, "");
  EXPECT_EQ(registered_domain("localhost"), "");
  EXPECT_EQ(registered_domain("co.uk"), "");  // a public suffix is nobody's registration
  EXPECT_EQ(registered_domain("www.shop.acme.co.uk"), "acme.co.uk");
  EXPECT_EQ(registered_domain("status.acme.com"), "acme.com");

  o.http_url = "https://127.0.0.1:8080/";
  EXPECT_FALSE(derive_targets(o, error));
  EXPECT_NE(error.find("--http-url"), std::string::npos);
  o.http_url.clear();
  o.url = "http://acme.example:8080/";
  t = derive_targets(o, error);
  ASSERT_TRUE(t) << error;
  EXPECT_EQ(t->https_url, "https://acme.example:8080/");
  EXPECT_EQ(t->http_url, "http://acme.example:8080/");
  o.url = "mailto:ops@acme.example";
  EXPECT_FALSE(derive_targets(o, error));
}

TEST(AuditReport, TableWrapsAndCounts) {
  EXPECT_EQ(wrap("one two three", 7), (std::vector<std::string>{"one two", "three"}));
  EXPECT_EQ(wrap("abcdefghijkl", 8), (std::vector<std::string>{"abcdefgh", "ijkl"}));
  AuditReport r;
  r.targets.https_url = "https://a.example/";
  r.checks.push_back(make_check("hsts", Result::kFail, "no Strict-Transport-Security header"));
  r.checks.push_back(make_check("nosniff", Result::kPass, "X-Content-Type-Options: nosniff"));
  const std::string table = render_table(r, 120);
  EXPECT_NE(table.find("FAIL     Strict-Transport-Security"), std::string::npos) << table;
  EXPECT_NE(table.find("fix: Send Strict-Transport-Security"), std::string::npos) << table;
  EXPECT_EQ(table.find("fix: Send X-Content-Type-Options"), std::string::npos)
      << table;  // passes show no fix
  EXPECT_NE(table.find("1 pass, 1 fail, 0 warn, 0 skipped"), std::string::npos);
  for (size_t start = 0, end; (end = table.find('\n', start)) != std::string::npos;
       start = end + 1) {
    EXPECT_LE(end - start, 130u) << table.substr(start, end - start);
  }
  const auto j = to_json(r);
  EXPECT_EQ(j["checks"][0]["id"], "hsts");
  EXPECT_EQ(j["checks"][0]["result"], "fail");
  EXPECT_EQ(j["summary"]["fail"], 1);
  EXPECT_EQ(exit_code(r.checks), 1);
  r.checks[0].result = Result::kWarn;
  EXPECT_EQ(exit_code(r.checks), 0);
}

ProbeResult dnssec_run(Outcome outcome, const char* security, std::string cause = {}) {
  ProbeResult r;
  r.outcome = outcome;
  r.cause = std::move(cause);
  if (security != nullptr) r.detail = nlohmann::json{{"security", security}}.dump();
  return r;
}

TEST(AuditDnssec, SecurePassesUnsignedIsSkippedBogusFails) {
  const std::string host = "portal.acme.example";
  auto judged = [&](const ProbeResult& r) { return judge_dnssec(r, host); };
  EXPECT_EQ(judged(dnssec_run(Outcome::kUp, "secure")).result, Result::kPass);
  // A signed denial still proves the chain: the zone validates.
  EXPECT_EQ(judged(dnssec_run(Outcome::kDown, "secure", "no A records")).result, Result::kPass);
  const CheckResult expiring = judged(dnssec_run(
      Outcome::kDegraded, "secure", "the signature of acme.example DNSKEY expires in 1 day"));
  EXPECT_EQ(expiring.result, Result::kWarn);
  EXPECT_EQ(expiring.evidence, "the signature of acme.example DNSKEY expires in 1 day");
  const CheckResult unsigned_zone = judged(dnssec_run(Outcome::kDown, "insecure", "insecure: x"));
  EXPECT_EQ(unsigned_zone.result, Result::kSkipped);
  EXPECT_EQ(unsigned_zone.evidence, "portal.acme.example is not signed");
  const CheckResult bogus =
      judged(dnssec_run(Outcome::kDown, "bogus", "bogus: signature expired from 9.9.9.9"));
  EXPECT_EQ(bogus.result, Result::kFail);
  EXPECT_EQ(bogus.evidence, "bogus: signature expired from 9.9.9.9");
  // The root's keys withheld by the resolver: nothing known about the host's zone.
  const CheckResult stripped = judged(dnssec_run(
      Outcome::kDown, "bogus",
      "bogus: no DNSKEY rrset from 10.0.0.53 for trust anchor . while building chain of trust"));
  EXPECT_EQ(stripped.result, Result::kWarn);
  EXPECT_EQ(stripped.evidence.rfind("not validated: the resolver passes no DNSSEC records", 0), 0u);
  const CheckResult mute = judged(dnssec_run(Outcome::kDown, nullptr, "no validated answer"));
  EXPECT_EQ(mute.result, Result::kWarn);
  EXPECT_EQ(mute.evidence, "not validated: no validated answer");
}

TEST(AuditConfigWriter, WritesOnlyWhatPassedAndLoads) {
  AuditOptions o;
  o.url = "https://portal.acme.example/";
  o.mail_domain = "acme.example";
  o.dkim_selectors = {"s1"};
  o.resolver = "127.0.0.1:5353";
  o.journey_file = "journey.toml";
  std::string error;
  AuditReport r;
  r.targets = *derive_targets(o, error);
  for (const char* kind :
       {"tls_certificate", "https_redirect", "hsts", "nosniff", "csp", "frame_protection",
        "referrer_policy", "spf", "mx_starttls", "latency_p95"}) {
    r.checks.push_back(make_check(kind, Result::kPass, ""));
  }
  r.checks.push_back(make_check("https_redirect_www", Result::kFail, ""));
  r.checks.push_back(make_check("dmarc", Result::kFail, ""));
  r.checks.push_back(make_check("dkim", Result::kPass, "", "s1"));
  r.checks.push_back(make_check("dnssec", Result::kPass, ""));
  r.facts.dnssec_record = "AAAA";  // an IPv6-only host
  r.page = answer(200, {{"Strict-Transport-Security", "max-age=63072000"},
                        {"Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'"},
                        {"X-Content-Type-Options", "nosniff"},
                        {"Referrer-Policy", "no-referrer"}});
  r.facts.refused = {{"/api/invoices", 401}, {"/admin/", 403}};
  r.facts.mx_hosts = {"mx1.acme.example"};
  const std::string journeys = journey_monitors_toml(
      "[[monitor]]\nname = \"j\"\ntype = \"journey\"\n[[monitor.step]]\nname = \"s\"\n"
      "url = \"https://portal.acme.example/api\"\nheaders = { Authorization = \"Bearer "
      "${env:TOKEN}\" }\n"
      "[[monitor]]\nname = \"other\"\ntype = \"http\"\nurl = \"https://x.example/\"\n");
  const std::string text = write_config(o, r, journeys, "2026-11-29");
  const LoadResult loaded =
      parse_config(text, "written.toml", [](const std::string& name) -> std::optional<std::string> {
        if (name == "TOKEN") return "t0ken-value";
        return std::nullopt;
      });
  ASSERT_TRUE(loaded.ok()) << (loaded.errors.empty() ? "" : loaded.errors.front().str()) << "\n"
                           << text;
  std::vector<std::string> names;
  for (const auto& m : loaded.config->monitors) names.push_back(m.name);
  const std::vector<std::string> expected{"portal-acme-example-certificate",
                                          "portal-acme-example-domain",
                                          "portal-acme-example-dnssec",
                                          "portal-acme-example-https-redirect",
                                          "portal-acme-example-security-headers",
                                          "portal-acme-example-private-api-invoices",
                                          "portal-acme-example-private-admin",
                                          "j",
                                          "portal-acme-example-spf",
                                          "portal-acme-example-dkim-s1",
                                          "portal-acme-example-mx",
                                          "portal-acme-example-mx-mx1-acme-example-certificate",
                                          "portal-acme-example-latency"};
  EXPECT_EQ(names, expected) << text;
  const MonitorConfig* headers = loaded.config->find("portal-acme-example-security-headers");
  ASSERT_NE(headers, nullptr);
  EXPECT_EQ(headers->spec_as<HttpSpec>().expect.headers.size(),
            4u);  // HSTS, nosniff, CSP (with frame-ancestors), Referrer-Policy
  EXPECT_EQ(loaded.config->find("portal-acme-example-dkim-s1")->spec_as<DnsSpec>().dns.query,
            "s1._domainkey.acme.example");
  EXPECT_NE(text.find("domain = \"acme.example\""), std::string::npos) << text;
  EXPECT_EQ(loaded.config->find("portal-acme-example-mx")->spec_as<DnsSpec>().dns.resolver,
            "127.0.0.1:5353");
  EXPECT_EQ(text.find("t0ken-value"), std::string::npos);
  const auto& dnssec = loaded.config->find("portal-acme-example-dnssec")->spec_as<DnssecSpec>();
  EXPECT_EQ(dnssec.query, "portal.acme.example");
  EXPECT_EQ(dnssec.record_name, "AAAA");
  EXPECT_EQ(dnssec.resolver, "127.0.0.1:5353");
  EXPECT_EQ(toml_quote("a\"b\\c\n\x01"), "\"a\\\"b\\\\c\\n\\u0001\"");
}

}  // namespace
}  // namespace lookout::audit
