// `lookout audit` against a sample client portal started by the test, with a switch for each
// weakness a reviewer looks for: an HTTPS server with a certificate of the test's CA, a plain
// HTTP server for the redirect, a real DNS server (Knot) for the mail domain, and a real SMTP
// server offering STARTTLS as its MX. A hardened portal passes every check, and its written
// config passes `lookout check` and comes up UP; each weakness alone is flagged, and only it.
#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include <mutex>
#include <random>
#include <set>

#include "tests/integration/cert_factory.h"
#include "tests/integration/harness.h"

namespace lookout::testing {
namespace {

constexpr const char* kPassword = "canary-audit-pass-7Hq2";
// Shaped like an AWS access key id, made at run time, for the script scan; masked, only its
// first four characters may be shown.
const std::string& script_key() {
  static const std::string key = [] {
    std::mt19937 rng(std::random_device{}());
    std::string k = std::string("AK") + "IA";
    for (int i = 0; i < 16; ++i) k += "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"[rng() % 32];
    return k;
  }();
  return key;
}

struct Weaknesses {
  bool no_redirect = false;
  bool no_hsts = false;
  bool expiring_cert = false;
  bool loose_cookie = false;
  bool public_route = false;
  bool exposed_env = false;
  bool key_in_script = false;
  bool missing_dmarc = false;
  bool slow = false;
  bool legacy_tls = false;
  bool broken_authz = false;
  bool no_rate_limit = false;
  std::string mx = "10 localhost.";  // empty: the domain sends mail and receives none
};

std::string random_token(std::mt19937_64& rng) {
  return fmt::format("{:016x}{:016x}", rng(), rng());
}

std::string mail_zone(const std::string& domain, bool with_dmarc, const std::string& mx) {
  return fmt::format(
      R"z(
$ORIGIN {0}.
$TTL 60
@ SOA ns.{0}. hostmaster.{0}. 1 3600 600 86400 60
@ NS ns.{0}.
ns A 127.0.0.1
{3}
@ TXT "v=spf1 ip4:127.0.0.1 -all"
s1._domainkey TXT {1}
{2}
)z",
      domain, dkim_key_strings(2048),
      with_dmarc ? fmt::format("_dmarc TXT \"v=DMARC1; p=reject; rua=mailto:dmarc@{}\"", domain)
                 : "",
      mx.empty() ? "" : "@ MX " + mx);
}

// The sample portal: a page with a script, a session API, per-client invoices, a sign-in form
// with a rate limit, and the headers and cookies of a hardened app unless switched off.
class SamplePortal {
 public:
  SamplePortal(const TempDir& dir, const Weaknesses& w) : w_(w) {
    CertFactory certs(dir);
    ca_ = certs.make({.name = "audit-ca", .sans = {}, .until_s = 3650LL * 86'400, .ca = true});
    const int64_t days = w.expiring_cert ? 10 : 90;
    leaf_ = certs.make(
        {.name = "audit-leaf", .sans = {"DNS:localhost", "IP:127.0.0.1"}, .until_s = days * 86'400},
        &ca_);
    https_ =
        std::make_unique<TargetServer>(std::make_unique<httplib::SSLServer>([this](SSL_CTX& ctx) {
          if (SSL_CTX_use_certificate_chain_file(&ctx, leaf_.cert.c_str()) != 1 ||
              SSL_CTX_use_PrivateKey_file(&ctx, leaf_.key.c_str(), SSL_FILETYPE_PEM) != 1) {
            return false;
          }
          if (w_.legacy_tls) {
            SSL_CTX_set_security_level(&ctx, 0);
            SSL_CTX_set_min_proto_version(&ctx, TLS1_VERSION);
            SSL_CTX_set_cipher_list(&ctx, "DEFAULT:@SECLEVEL=0");
          } else {
            SSL_CTX_set_min_proto_version(&ctx, TLS1_2_VERSION);
          }
          return true;
        }));
    routes(https_->routes());
    https_->start();
    http_ = std::make_unique<TargetServer>();
    http_->routes().Get(R"(/.*)", [this](const httplib::Request& req, httplib::Response& res) {
      if (w_.no_redirect) {
        res.set_content(page(), "text/html");
        return;
      }
      res.status = 301;
      res.set_header("Location", fmt::format("https://localhost:{}{}", https_->port(), req.path));
    });
    http_->start();
  }

  std::string url() const { return fmt::format("https://localhost:{}/", https_->port()); }
  std::string http_url() const { return fmt::format("http://localhost:{}/", http_->port()); }
  const std::string& ca_file() const { return ca_.cert; }
  const std::string& cert() const { return leaf_.cert; }
  const std::string& key() const { return leaf_.key; }
  // POSTs to the sign-in form, for the rate-limit check's bound.
  int sign_in_attempts() const { return sign_in_attempts_.load(); }

 private:
  std::string page() const {
    return "<!doctype html><html><head><title>Portal</title><script "
           "src=\"/static/app.js\"></script></head>"
           "<body><h1>Client portal</h1><form method=post action=/login>Sign "
           "in</form></body></html>";
  }

  std::string client_of(const httplib::Request& req) {
    const std::string auth = req.get_header_value("Authorization");
    std::lock_guard lock(mu_);
    if (auth.rfind("Bearer ", 0) != 0) return "";
    const auto it = tokens_.find(auth.substr(7));
    return it == tokens_.end() ? "" : it->second;
  }

  void routes(httplib::Server& s) {
    s.set_post_routing_handler([this](const httplib::Request&, httplib::Response& res) {
      if (!w_.no_hsts)
        res.set_header("Strict-Transport-Security", "max-age=31536000; includeSubDomains");
      res.set_header("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'");
      res.set_header("X-Content-Type-Options", "nosniff");
      res.set_header("Referrer-Policy", "strict-origin-when-cross-origin");
    });
    s.Get("/", [this](const httplib::Request&, httplib::Response& res) {
      if (w_.slow) std::this_thread::sleep_for(700ms);
      res.set_header("Set-Cookie", "theme=dark; Path=/; Secure; SameSite=Lax");
      res.set_content(page(), "text/html");
    });
    s.Get("/static/app.js", [this](const httplib::Request&, httplib::Response& res) {
      std::string js = "document.title = 'Portal';\nconst region = 'eu-west-1';\n";
      if (w_.key_in_script) js += fmt::format("const uploadKey = \"{}\";\n", script_key());
      res.set_content(js, "application/javascript");
    });
    s.Post("/api/session", [this](const httplib::Request& req, httplib::Response& res) {
      if (req.get_param_value("email") != "ops@acme.test" ||
          req.get_param_value("password") != kPassword) {
        res.status = 401;
        res.set_content("{\"error\":\"wrong email or password\"}", "application/json");
        return;
      }
      std::lock_guard lock(mu_);
      const std::string token = random_token(rng_);
      tokens_[token] = "acme";
      const std::string flags =
          w_.loose_cookie ? "; Path=/" : "; Path=/; Secure; HttpOnly; SameSite=Strict";
      res.set_header("Set-Cookie", "session=" + random_token(rng_) + flags);
      res.set_content(nlohmann::json{{"token", token}}.dump(), "application/json");
    });
    s.Get("/api/me", [this](const httplib::Request& req, httplib::Response& res) {
      const std::string client = client_of(req);
      if (client.empty()) {
        res.status = 401;
        return;
      }
      res.set_content(nlohmann::json{{"client", client}}.dump(), "application/json");
    });
    s.Get("/api/invoices", [this](const httplib::Request& req, httplib::Response& res) {
      if (client_of(req).empty() && !w_.public_route) {
        res.status = 401;
        res.set_content("{\"error\":\"sign in first\"}", "application/json");
        return;
      }
      res.set_content(
          R"j([{"id":1000,"client":"acme","contact":"billing@acme.test","total":120.5}])j",
          "application/json");
    });
    s.Get(R"(/api/invoices/(\d+))", [this](const httplib::Request& req, httplib::Response& res) {
      const std::string client = client_of(req);
      if (client.empty()) {
        res.status = 401;
        return;
      }
      const std::string owner = req.matches[1] == "1000" ? "acme" : "globex";
      if (owner != client && !w_.broken_authz) {
        res.status = 404;
        return;
      }
      res.set_content(nlohmann::json{{"id", std::stoi(req.matches[1])}, {"client", owner}}.dump(),
                      "application/json");
    });
    s.Post("/login", [this](const httplib::Request&, httplib::Response& res) {
      const int n = ++sign_in_attempts_;
      if (!w_.no_rate_limit && n > 5) {
        res.status = 429;
        res.set_header("Retry-After", "60");
        return;
      }
      res.status = 401;
      res.set_content("wrong email or password", "text/plain");
    });
    s.Get("/.env", [this](const httplib::Request&, httplib::Response& res) {
      if (!w_.exposed_env) {
        res.status = 404;
        return;
      }
      res.set_content("DATABASE_URL=postgres://portal@db/portal\nAPP_ENV=production\n",
                      "text/plain");
    });
  }

  Weaknesses w_;
  TestCert ca_, leaf_;
  std::unique_ptr<TargetServer> https_, http_;
  std::mutex mu_;
  std::mt19937_64 rng_{std::random_device{}()};
  std::map<std::string, std::string> tokens_;
  std::atomic<int> sign_in_attempts_{0};
};

const char* kJourney = R"t(
[[monitor]]
name = "client-journey"
type = "journey"
ca_file = "CA_FILE"
  [[monitor.step]]
  name = "sign in"
  method = "POST"
  url = "BASE/api/session"
  form = { email = "ops@acme.test", password = "${env:AUDIT_JOURNEY_PASS}" }
  expect.status = [200]
  extract.token = { json = "/token" }
  [[monitor.step]]
  name = "own profile"
  url = "BASE/api/me"
  headers = { Authorization = "Bearer {{token}}" }
  expect.status = [200]
  [[monitor.step]]
  name = "another client's invoice is refused"
  url = "BASE/api/invoices/1001"
  headers = { Authorization = "Bearer {{token}}" }
  expect.status = [403, 404]
)t";

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
    s.replace(at, from.size(), to);
  return s;
}

// A portal, its mail domain's DNS and MX, and the audit's command line against them.
struct AuditScene {
  explicit AuditScene(const Weaknesses& w)
      : portal(dir, w),
        knot(dir, {{"portal.test", mail_zone("portal.test", !w.missing_dmarc, w.mx)}}),
        smtp(dir, SmtpServer::Options{.auth = "", .cert = portal.cert(), .key = portal.key()}) {
    std::string base = portal.url();
    base.pop_back();
    dir.write("journey.toml",
              replace_all(replace_all(kJourney, "CA_FILE", portal.ca_file()), "BASE", base));
  }
  std::vector<std::string> args(const std::vector<std::string>& extra = {}) const {
    std::vector<std::string> a{"audit",
                               portal.url(),
                               "--http-url",
                               portal.http_url(),
                               "--ca-file",
                               portal.ca_file(),
                               "--private",
                               "/api/invoices",
                               "--journey",
                               dir.file("journey.toml"),
                               "--mail-domain",
                               "portal.test",
                               "--dkim-selector",
                               "s1",
                               "--resolver",
                               knot.address(),
                               "--mx-port",
                               std::to_string(smtp.port()),
                               "--latency-samples",
                               "5",
                               "--rate-limit-check",
                               "/login",
                               "--timeout",
                               "5s"};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }
  std::map<std::string, std::string> env() const { return {{"AUDIT_JOURNEY_PASS", kPassword}}; }

  TempDir dir;
  SamplePortal portal;
  KnotServer knot;
  SmtpServer smtp;
};

// check id -> result, from `lookout audit --json`.
std::map<std::string, std::string> results_of(const RunResult& r) {
  std::map<std::string, std::string> out;
  const auto j = nlohmann::json::parse(r.out, nullptr, false);
  if (!j.is_object() || !j.contains("checks")) {
    ADD_FAILURE() << "no JSON report: " << r.out << r.err;
    return out;
  }
  for (const auto& c : j["checks"])
    out[c["id"].get<std::string>()] = c["result"].get<std::string>();
  return out;
}

std::set<std::string> flagged(const std::map<std::string, std::string>& results) {
  std::set<std::string> out;
  for (const auto& [id, result] : results) {
    if (result == "fail" || result == "warn") out.insert(id);
  }
  return out;
}

TEST(Audit, HardenedPortalPassesEveryCheckAndItsConfigComesUp) {
  AuditScene scene(Weaknesses{});
  const std::string written = scene.dir.file("written.toml");
  const RunResult r = run_lookout(scene.args({"--json", "--write-config", written}), scene.env());
  const auto results = results_of(r);
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  for (const auto& [id, result] : results) {
    // localhost has no www. twin to ask for, and no zone of a registered domain to validate.
    if (id == "https_redirect_www" || id == "dnssec") {
      EXPECT_EQ(result, "skipped");
    } else {
      EXPECT_EQ(result, "pass") << id << "\n" << r.out;
    }
  }
  for (const char* id : {"https_redirect",
                         "tls_certificate",
                         "tls_versions",
                         "hsts",
                         "csp",
                         "nosniff",
                         "frame_protection",
                         "referrer_policy",
                         "version_leak",
                         "cors",
                         "cookies",
                         "private_route:/api/invoices",
                         "journey:client-journey",
                         "exposed_files",
                         "source_maps",
                         "browser_secrets",
                         "spf",
                         "dmarc",
                         "dkim:s1",
                         "mx_starttls",
                         "latency_p95",
                         "rate_limit"}) {
    EXPECT_TRUE(results.count(id)) << "no check " << id;
  }
  // The opt-in rate-limit check stopped at the first 429, within its bound of 30.
  EXPECT_EQ(scene.portal.sign_in_attempts(), 6);

  const std::string config = read_file(written);
  // The journey's password stays a reference, never a value, in the report and the file.
  EXPECT_NE(config.find("${env:AUDIT_JOURNEY_PASS}"), std::string::npos);
  for (const std::string& text : {config, r.out, r.err})
    EXPECT_EQ(text.find(kPassword), std::string::npos);

  const RunResult check = run_lookout({"check", "-c", written}, scene.env());
  EXPECT_EQ(check.code, 0) << check.err << config;
  int code = -1;
  const auto runs = probe_json(written, code, scene.env());
  EXPECT_EQ(code, 0);
  std::set<std::string> names;
  for (const auto& [name, run] : runs) {
    names.insert(name);
    EXPECT_EQ(run["outcome"], "up") << name << ": " << run.dump();
  }
  const std::set<std::string> expected{"localhost-certificate",
                                       "localhost-https-redirect",
                                       "localhost-security-headers",
                                       "localhost-private-api-invoices",
                                       "client-journey",
                                       "localhost-spf",
                                       "localhost-dmarc",
                                       "localhost-dkim-s1",
                                       "localhost-mx",
                                       "localhost-mx-localhost-certificate",
                                       "localhost-latency"};
  EXPECT_EQ(names, expected) << config;
}

TEST(Audit, TableShowsWhyAndHowToFixFailures) {
  AuditScene scene(Weaknesses{.no_hsts = true});
  const RunResult r = run_lookout(scene.args(), scene.env());
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("RESULT   CHECK"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("FAIL     Strict-Transport-Security"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("fix: Send Strict-Transport-Security"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("pass, 1 fail,"), std::string::npos) << r.out;
}

struct WeaknessCase {
  const char* name;
  Weaknesses w;
  std::set<std::string> flagged;
};

class AuditWeakness : public ::testing::TestWithParam<WeaknessCase> {};

TEST_P(AuditWeakness, IsFlaggedAndNothingElse) {
  const WeaknessCase& c = GetParam();
  AuditScene scene(c.w);
  const RunResult r = run_lookout(scene.args({"--json"}), scene.env());
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  EXPECT_EQ(flagged(results_of(r)), c.flagged) << r.out;
  // A secret found in a script is shown masked: its first four characters at most.
  EXPECT_EQ(r.out.find(script_key()), std::string::npos);
  EXPECT_EQ(r.out.find(script_key().substr(0, 5)), std::string::npos);
  EXPECT_EQ(r.out.find(kPassword), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(
    Each, AuditWeakness,
    ::testing::Values(
        WeaknessCase{"no_redirect", {.no_redirect = true}, {"https_redirect"}},
        WeaknessCase{"no_hsts", {.no_hsts = true}, {"hsts"}},
        WeaknessCase{"expiring_cert", {.expiring_cert = true}, {"tls_certificate"}},
        WeaknessCase{"legacy_tls", {.legacy_tls = true}, {"tls_versions"}},
        WeaknessCase{"loose_cookie", {.loose_cookie = true}, {"cookies"}},
        WeaknessCase{"public_route", {.public_route = true}, {"private_route:/api/invoices"}},
        WeaknessCase{"broken_authz", {.broken_authz = true}, {"journey:client-journey"}},
        WeaknessCase{"exposed_env", {.exposed_env = true}, {"exposed_files"}},
        WeaknessCase{"key_in_script", {.key_in_script = true}, {"browser_secrets"}},
        WeaknessCase{"missing_dmarc", {.missing_dmarc = true}, {"dmarc"}},
        WeaknessCase{"slow", {.slow = true}, {"latency_p95"}},
        WeaknessCase{"no_rate_limit", {.no_rate_limit = true}, {"rate_limit"}},
        WeaknessCase{"all_at_once",
                     {true, true, true, true, true, true, true, true, true, true, true, true},
                     {"https_redirect", "hsts", "tls_certificate", "tls_versions", "cookies",
                      "private_route:/api/invoices", "journey:client-journey", "exposed_files",
                      "browser_secrets", "dmarc", "latency_p95", "rate_limit"}}),
    [](const ::testing::TestParamInfo<WeaknessCase>& info) {
      return std::string(info.param.name);
    });

// A domain that sends mail (SPF, DKIM, DMARC) and receives none has no inbound server to
// check: no MX, or the null MX of RFC 7505, is skipped with its reason, not a failure.
TEST(Audit, AMailDomainWithoutInboundMailSkipsTheMxCheck) {
  for (const std::string mx : {"", "0 ."}) {
    AuditScene scene(Weaknesses{.mx = mx});
    const RunResult r = run_lookout(scene.args({"--json"}), scene.env());
    EXPECT_EQ(r.code, 0) << "MX " << mx << ": " << r.out << r.err;
    const auto j = nlohmann::json::parse(r.out, nullptr, false);
    ASSERT_TRUE(j.is_object()) << r.out << r.err;
    bool seen = false;
    for (const auto& c : j["checks"]) {
      if (c["id"] != "mx_starttls") {
        if (c["id"] != "https_redirect_www" && c["id"] != "dnssec") {
          EXPECT_EQ(c["result"], "pass") << c.dump();
        }
        continue;
      }
      seen = true;
      EXPECT_EQ(c["result"], "skipped") << c.dump();
      const std::string evidence = c["evidence"];
      EXPECT_NE(evidence.find("portal.test receives no mail: "), std::string::npos) << evidence;
      EXPECT_NE(evidence.find(mx.empty() ? "no MX records for portal.test" : "null MX"),
                std::string::npos)
          << evidence;
    }
    EXPECT_TRUE(seen);
  }
}

TEST(Audit, BadArgumentsExitTwoAndSendNothing) {
  TempDir dir;
  dir.write("not-a-journey.toml",
            "[[monitor]]\nname = \"x\"\ntype = \"http\"\nurl = \"http://127.0.0.1:1/\"\n");
  dir.write("broken.toml", "[[monitor]]\nname = \"x\"\ntype = \"journey\"\nbogus = 1\n");
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases{
      {{"audit", "ftp://example.test/"}, "not an http:// or https:// URL"},
      {{"audit", "https://127.0.0.1:1/", "--private", "admin"}, "must be a path starting with /"},
      {{"audit", "https://127.0.0.1:1/", "--dkim-selector", "s1"},
       "--dkim-selector needs --mail-domain"},
      {{"audit", "https://127.0.0.1:1/", "--mail-domain", "acme.test", "--resolver", "not-an-ip"},
       "--resolver"},
      {{"audit", "https://127.0.0.1:1/", "--ca-file", dir.file("missing.pem")},
       "not a readable file"},
      {{"audit", "https://127.0.0.1:1/", "--latency-samples", "500"}, "between 1 and 100"},
      {{"audit", "https://127.0.0.1:1/", "--journey", dir.file("not-a-journey.toml")},
       "no monitor of type \"journey\""},
      {{"audit", "https://127.0.0.1:1/", "--journey", dir.file("broken.toml")}, "broken.toml:4:1"},
      {{"audit", "https://127.0.0.1:1/", "--http-url", "ftp://127.0.0.1/"}, "--http-url"},
  };
  for (const auto& [args, message] : cases) {
    const RunResult r = run_lookout(args);
    EXPECT_EQ(r.code, 2) << fmt::format("{}", fmt::join(args, " "));
    EXPECT_NE(r.err.find(message), std::string::npos) << r.err;
    EXPECT_EQ(r.out, "");
  }
}

}  // namespace
}  // namespace lookout::testing
