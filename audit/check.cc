#include "audit/check.h"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

namespace lookout::audit {
namespace {

struct Entry {
  std::string_view kind;
  std::string_view title;  // "{}" is the subject
  std::string_view criteria;
  std::string_view why;
  std::string_view fix;
};

constexpr Entry kCatalogue[] = {
    {"https_redirect", "HTTP redirects to HTTPS",
     "http:// answers 301 or 308 to the https:// URL of the same host",
     "A visitor who types the bare name must land on the encrypted site, and only a permanent "
     "redirect is remembered.",
     "Answer every plain-HTTP request with 301 (or 308) to https:// on the same host; in nginx: "
     "return 301 https://$host$request_uri;"},
    {"https_redirect_www", "www. redirects to HTTPS",
     "http://www. answers 301 or 308 to an https:// URL",
     "Old links and habits use www.; it must not serve the app, or anything, unencrypted.",
     "Redirect http://www. (and https://www.) with 301 to the canonical https:// host."},
    {"tls_certificate", "TLS certificate", "valid chain, names the host, more than 21 days left",
     "An expired or wrong certificate locks every user out with a browser warning they are taught "
     "never to click through.",
     "Renew automatically (ACME) at least 30 days before expiry, serve the full chain, and include "
     "every served name in the SAN list."},
    {"tls_versions", "TLS 1.2 or newer only", "a TLS 1.0 or 1.1 handshake is refused",
     "TLS 1.0 and 1.1 are deprecated (RFC 8996) and fail every compliance review (PCI DSS, SOC 2 "
     "questionnaires).",
     "Allow only TLSv1.2 and TLSv1.3; in nginx: ssl_protocols TLSv1.2 TLSv1.3;"},
    {"hsts", "Strict-Transport-Security", "present, max-age of at least 180 days (15552000 s)",
     "Without HSTS a network attacker can downgrade the first visit to plain HTTP and take the "
     "session cookie.",
     "Send Strict-Transport-Security: max-age=31536000; includeSubDomains on every HTTPS answer."},
    {"csp", "Content-Security-Policy",
     "present and enforced; scripts not opened to 'unsafe-inline' or 'unsafe-eval'",
     "A content security policy is the second wall against cross-site scripting: injected script "
     "does not run.",
     "Send a Content-Security-Policy with default-src 'self' and script-src without "
     "'unsafe-inline' (use nonces or hashes)."},
    {"nosniff", "X-Content-Type-Options", "nosniff",
     "Without it a browser may guess an upload or a JSON answer is script or HTML and run it.",
     "Send X-Content-Type-Options: nosniff on every answer."},
    {"frame_protection", "Frame protection",
     "X-Frame-Options DENY or SAMEORIGIN, or CSP frame-ancestors",
     "A page that other sites can frame can be clickjacked: the user clicks your buttons on their "
     "page.",
     "Send Content-Security-Policy: frame-ancestors 'none' (or 'self'), or X-Frame-Options: DENY."},
    {"referrer_policy", "Referrer-Policy",
     "present and not unsafe-url or no-referrer-when-downgrade",
     "Full URLs, with ids and tokens in them, otherwise travel to every third party the page links "
     "to.",
     "Send Referrer-Policy: strict-origin-when-cross-origin (or no-referrer)."},
    {"version_leak", "No version in Server or X-Powered-By",
     "no software version in Server, X-Powered-By or X-AspNet-Version",
     "A version number tells an attacker which published exploits to try first.",
     "Hide versions: nginx server_tokens off; Express app.disable('x-powered-by'); PHP expose_php "
     "= Off."},
    {"cors", "CORS with credentials",
     "never Access-Control-Allow-Origin * or a reflected origin together with credentials",
     "A reflected origin with credentials lets any web site read the signed-in user's data through "
     "their browser.",
     "Allow only a fixed list of origins, and send Access-Control-Allow-Credentials only for "
     "them."},
    {"cookies", "Cookie flags", "every cookie Secure and with SameSite; session cookies HttpOnly",
     "A cookie without Secure leaks over plain HTTP, without HttpOnly to injected script, without "
     "SameSite to cross-site requests.",
     "Set cookies with Secure; SameSite=Lax (or Strict); and HttpOnly for anything that "
     "authenticates."},
    {"private_route", "Private route {} refuses anonymous calls",
     "401 or 403 without credentials, and nothing in the refusal body",
     "A private route that answers anonymous calls is a data breach waiting for its first crawler.",
     "Require authentication before the handler runs (middleware on the whole route group), and "
     "answer 401 with a short body."},
    {"journey", "Journey {} (object-level authorization)",
     "every step of the journey passes, including the refused ones",
     "Broken object-level authorization (another client's invoice by changing an id) is the most "
     "common API flaw (OWASP API1).",
     "Check in every handler that the signed-in client owns the object it asks for; answer 403 or "
     "404 otherwise."},
    {"exposed_files", "No exposed files",
     "/.env, /.git/*, .htpasswd and backup files are not served",
     "These files hold credentials and source code; scanners request them within hours of a "
     "launch.",
     "Serve only the build output folder; deny dotfiles and backups in the web server (location ~ "
     "/\\. { deny all; })."},
    {"source_maps", "No public source maps", "no .map file is served next to the page's scripts",
     "A source map publishes the original source, comments and internal routes included.",
     "Do not deploy .map files (or upload them to the error tracker only)."},
    {"browser_secrets", "No secrets in the browser's scripts",
     "no private key, cloud or payment key, chat token, JWT or named secret in the page or its "
     "scripts",
     "Everything sent to the browser is public: a key in a script is a key given to everyone.",
     "Revoke the key now, move the call that needs it to the server, and scan the build in CI."},
    {"spf", "SPF record", "one v=spf1 record, ending in -all or ~all, at most 10 DNS lookups",
     "Without a strict SPF record anyone can send mail that claims to come from your domain.",
     "Publish one TXT record: v=spf1 include:<your mail provider> -all"},
    {"dmarc", "DMARC record", "_dmarc record with v=DMARC1 and a policy",
     "DMARC tells receivers to reject forged mail from your domain and reports who tries.",
     "Publish _dmarc TXT: v=DMARC1; p=quarantine; rua=mailto:dmarc@<domain> (then p=reject)."},
    {"dkim", "DKIM key {}", "a valid v=DKIM1 key of at least 1024 bits under the selector",
     "Without a DKIM signature receivers cannot tell your mail from a forgery, and DMARC alignment "
     "fails.",
     "Publish the mail provider's DKIM key at <selector>._domainkey.<domain> and sign outgoing "
     "mail."},
    {"mx_starttls", "Mail servers offer STARTTLS",
     "every MX host offers STARTTLS with a valid certificate for its name",
     "Mail to you crosses the internet in clear text otherwise, password resets included.",
     "Enable STARTTLS on every MX host with a certificate for its MX name; consider MTA-STS."},
    {"dnssec", "DNSSEC validates",
     "when the zone is signed, the host's address validates from the root's trust anchor",
     "A signed zone whose signatures lapse, or whose DS no longer matches its keys, vanishes for "
     "every validating resolver (most large ISPs and public resolvers) with SERVFAIL.",
     "Let the DNS provider sign the zone and renew its signatures automatically, and update the "
     "DS at the registrar with every key-signing key rollover."},
    {"latency_p95", "Latency p95", "p95 of the page's requests under the budget",
     "Slow pages lose users before errors do; the p95 is what one request in twenty feels like.",
     "Profile the slow requests (first byte vs transfer), cache what can be cached, and watch the "
     "p95 continuously."},
    {"rate_limit", "Sign-in rate limit", "a burst of failed sign-ins gets 429 or a slowdown",
     "Without a limit a password list can be tried against every account at full speed.",
     "Limit failed sign-ins per address and per account (429 with Retry-After), with a growing "
     "delay."},
};

const Entry& entry(std::string_view kind) {
  const auto it = std::find_if(std::begin(kCatalogue), std::end(kCatalogue),
                               [&](const Entry& e) { return e.kind == kind; });
  if (it == std::end(kCatalogue))
    throw std::logic_error(fmt::format("no audit check named {}", kind));
  return *it;
}

}  // namespace

const char* to_string(Result r) {
  switch (r) {
    case Result::kPass:
      return "pass";
    case Result::kWarn:
      return "warn";
    case Result::kFail:
      return "fail";
    case Result::kSkipped:
      return "skipped";
  }
  return "skipped";
}

CheckResult make_check(std::string_view kind, Result result, std::string evidence,
                       std::string_view subject) {
  const Entry& e = entry(kind);
  CheckResult c;
  c.id = subject.empty() ? std::string(kind) : fmt::format("{}:{}", kind, subject);
  if (subject.empty()) {
    std::string title(e.title);
    if (const auto at = title.find(" {}"); at != std::string::npos) title.erase(at, 3);
    c.title = std::move(title);
  } else {
    c.title = fmt::format(fmt::runtime(e.title), subject);
  }
  c.criteria = e.criteria;
  c.result = result;
  c.evidence = std::move(evidence);
  c.why = e.why;
  c.fix = e.fix;
  return c;
}

int exit_code(const std::vector<CheckResult>& checks) {
  return std::any_of(checks.begin(), checks.end(),
                     [](const CheckResult& c) { return c.result == Result::kFail; })
             ? 1
             : 0;
}

}  // namespace lookout::audit
