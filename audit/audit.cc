#include "audit/audit.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <re2/re2.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "audit/dnssec_check.h"
#include "audit/registered_domain.h"
#include "audit/secret_scan.h"
#include "audit/url.h"
#include "audit/web_checks.h"
#include "config/kinds/cert_spec.h"
#include "config/kinds/dns_spec.h"
#include "config/kinds/dnssec_spec.h"
#include "core/curl_bridge.h"
#include "core/event_loop.h"
#include "core/random.h"
#include "core/text.h"
#include "core/units.h"
#include "probes/http_exchange.h"
#include "probes/http_probe.h"
#include "probes/journey_probe.h"
#include "probes/probe.h"

namespace lookout::audit {
namespace {

constexpr size_t kMaxScripts = 20;
constexpr size_t kMaxMxHosts = 5;
constexpr int kRateLimitAttempts = 30;
constexpr uint64_t kMaxBody = 2 * 1024 * 1024;
constexpr const char* kForeignOrigin = "https://lookout-audit.invalid";

// Files a scanner asks for first: environment files, the repository, password files, backups.
constexpr const char* kExposedPaths[] = {
    "/.env",         "/.env.bak",   "/.git/HEAD",      "/.git/config",       "/.htpasswd",
    "/.DS_Store",    "/backup.zip", "/backup.tar.gz",  "/backup.sql",        "/dump.sql",
    "/database.sql", "/db.sqlite",  "/config.php.bak", "/wp-config.php.bak", "/index.php~"};

std::string path_of(const std::string& url) {
  const UrlParts u = parse_url(url);
  return u.ok ? u.path : url;
}

Result result_of(Outcome o) {
  switch (o) {
    case Outcome::kUp:
      return Result::kPass;
    case Outcome::kDegraded:
      return Result::kWarn;
    case Outcome::kDown:
      return Result::kFail;
  }
  return Result::kFail;
}

// The loop, the libcurl bridge and the probes' context for one audit; every call runs the loop
// until what it started is done.
class Runner {
 public:
  Runner(const AuditOptions& o, const Clock& clock)
      : o_(o), curl_(loop_, clock), ctx_{loop_, curl_, clock, {}} {
    direct_.ca_file = o.ca_file;
    direct_.follow_redirects = false;
    direct_.max_body = kMaxBody;
    following_ = direct_;
    following_.follow_redirects = true;
    following_.max_redirects = 5;
    any_cert_ = direct_;
    any_cert_.insecure = true;
  }

  HttpCall call(const std::string& url, bool follow = false) const {
    HttpCall c;
    c.url = url;
    c.method = "GET";
    c.header_lines = header_lines({});
    c.options = follow ? &following_ : &direct_;
    c.timeout = o_.timeout;
    return c;
  }
  const HttpRequest& any_cert() const { return any_cert_; }

  std::vector<Fetched> fetch_all(const std::vector<HttpCall>& calls) {
    std::vector<Fetched> out(calls.size());
    std::vector<std::unique_ptr<HttpExchange>> exchanges;
    std::vector<CURL*> handles;
    for (size_t i = 0; i < calls.size(); ++i) {
      out[i].url = calls[i].url;
      CURL* e = curl_.acquire();
      if (e == nullptr) {
        out[i].cause = "no transfer handle";
        continue;
      }
      handles.push_back(e);
      auto x = std::make_unique<HttpExchange>(curl_);
      const bool started = x->start(e, calls[i], [&out, i](HttpExchangeResult r) {
        out[i].responded = r.responded;
        out[i].obs = std::move(r.obs);
        out[i].cause = std::move(r.cause);
        out[i].body_too_large = r.kind == ErrorKind::kBodyTooLarge;
        out[i].timings = r.timings;
      });
      if (!started) out[i].cause = "the request could not be started";
      exchanges.push_back(std::move(x));
    }
    loop_.run();
    exchanges.clear();
    for (CURL* e : handles) curl_.release(e);
    for (const auto& f : out) note_cookies(f.url, f);
    return out;
  }
  Fetched fetch(const HttpCall& c) { return std::move(fetch_all({c}).front()); }

  ProbeResult run(Probe& probe) {
    ProbeResult out;
    out.cause = "the check could not be started";
    if (probe.start([&out](ProbeResult r) { out = std::move(r); })) loop_.run();
    return out;
  }
  ProbeResult run(const MonitorConfig& m) {
    auto probe = make_probe(m, ctx_, no_secrets_);
    return run(*probe);
  }
  ProbeContext& context() { return ctx_; }

  void note_cookies(const std::string& where, const Fetched& f) {
    if (!f.responded) return;
    ++responses_;
    for (auto& line : header_values(f.obs, "Set-Cookie"))
      cookies_.push_back(SeenCookie{path_of(where), std::move(line)});
  }
  void note_step_cookies(const std::string& step, const HttpObservation& obs) {
    ++responses_;
    for (auto& line : header_values(obs, "Set-Cookie"))
      cookies_.push_back(SeenCookie{"step '" + step + "'", std::move(line)});
  }
  const std::vector<SeenCookie>& cookies() const { return cookies_; }
  int responses() const { return responses_; }

  MonitorConfig monitor(std::string type, const std::string& name,
                        std::shared_ptr<const KindSpec> spec) const {
    MonitorConfig m;
    m.name = name;
    m.type = std::move(type);
    m.timeout = o_.timeout;
    m.spec = std::move(spec);
    return m;
  }
  const std::string& ca_file() const { return o_.ca_file; }

 private:
  const AuditOptions& o_;
  EventLoop loop_;
  CurlBridge curl_;
  ProbeContext ctx_;
  HttpRequest direct_, following_, any_cert_;
  std::shared_ptr<const Redactor> no_secrets_ = std::make_shared<Redactor>();
  std::vector<SeenCookie> cookies_;
  int responses_ = 0;
};

std::string cert_evidence(const ProbeResult& r, const std::string& host, WallTime now) {
  if (r.outcome != Outcome::kUp || !r.cert_not_after) return r.cause;
  std::string issuer;
  const auto detail = nlohmann::json::parse(r.detail, nullptr, false);
  if (detail.is_object() && detail.contains("chain") && !detail["chain"].empty())
    issuer = detail["chain"][0].value("issuer", "");
  const auto days =
      std::chrono::duration_cast<std::chrono::hours>(*r.cert_not_after - now).count() / 24;
  return fmt::format("valid for {} until {} ({} days left){}", host,
                     rfc3339(*r.cert_not_after).substr(0, 10), days,
                     issuer.empty() ? "" : ", issued by " + shorten(issuer, 60));
}

void check_https(Runner& run, const Targets& t, const Clock& clock, AuditReport& report) {
  const Fetched http = run.fetch(run.call(t.http_url));
  report.checks.push_back(judge_redirect(http, t.host, false));
  if (t.www_http_url.empty()) {
    report.checks.push_back(make_check("https_redirect_www", Result::kSkipped,
                                       fmt::format("{} has no www. form", t.host)));
  } else {
    const Fetched www = run.fetch(run.call(t.www_http_url));
    if (!www.responded && www.cause.rfind("cannot resolve", 0) == 0) {
      report.checks.push_back(make_check("https_redirect_www", Result::kSkipped,
                                         fmt::format("www.{} does not resolve", t.host)));
    } else {
      report.checks.push_back(judge_redirect(www, t.host, true));
    }
  }

  auto cert_spec = std::make_shared<CertSpec>();
  cert_spec->cert.host = t.host;
  cert_spec->cert.port = t.port;
  cert_spec->cert.warn_within = Duration{30LL * 86'400'000};
  cert_spec->cert.fail_within = Duration{21LL * 86'400'000};
  cert_spec->ca_file = run.ca_file();
  const ProbeResult c = run.run(run.monitor("cert", "certificate", cert_spec));
  report.checks.push_back(
      make_check("tls_certificate", result_of(c.outcome), cert_evidence(c, t.host, clock.wall())));

  // Only the handshake matters here, so the certificate is not verified.
  HttpCall legacy = run.call(t.https_url);
  legacy.method = "HEAD";
  legacy.options = &run.any_cert();
  legacy.legacy_tls_only = true;
  const Fetched old = run.fetch(legacy);
  if (old.responded || old.timings.tls_us) {
    report.checks.push_back(
        make_check("tls_versions", Result::kFail, "the server completed a TLS 1.0/1.1 handshake"));
  } else if (old.cause.find("TLS") != std::string::npos) {
    report.checks.push_back(
        make_check("tls_versions", Result::kPass, "TLS 1.0 and 1.1 handshakes are refused"));
  } else {
    report.checks.push_back(
        make_check("tls_versions", Result::kWarn, fmt::format("could not tell: {}", old.cause)));
  }
}

void check_headers(const Fetched& page, AuditReport& report) {
  if (!page.responded) {
    const std::string why = fmt::format("the page did not answer: {}", page.cause);
    for (const char* kind : {"hsts", "csp", "nosniff", "frame_protection", "referrer_policy",
                             "version_leak", "cors"}) {
      report.checks.push_back(make_check(kind, Result::kFail, why));
    }
    return;
  }
  report.checks.push_back(judge_hsts(page.obs));
  report.checks.push_back(judge_csp(page.obs));
  report.checks.push_back(judge_nosniff(page.obs));
  report.checks.push_back(judge_frame_protection(page.obs));
  report.checks.push_back(judge_referrer_policy(page.obs));
  report.checks.push_back(judge_version_leak(page.obs));
  report.checks.push_back(judge_cors(page.obs, kForeignOrigin));
}

void check_private_routes(Runner& run, const AuditOptions& o, const Targets& t,
                          AuditReport& report) {
  if (o.private_paths.empty()) {
    report.checks.push_back(
        make_check("private_route", Result::kSkipped, "no --private PATH given"));
    return;
  }
  std::vector<HttpCall> calls;
  for (const auto& p : o.private_paths) calls.push_back(run.call(resolve_url(t.https_url, p)));
  const auto answers = run.fetch_all(calls);
  for (size_t i = 0; i < answers.size(); ++i) {
    CheckResult c = judge_private_route(o.private_paths[i], answers[i]);
    if (c.result == Result::kPass)
      report.facts.refused.emplace_back(o.private_paths[i], answers[i].obs.status);
    report.checks.push_back(std::move(c));
  }
}

void check_exposed_files(Runner& run, const Targets& t, AuditReport& report) {
  std::vector<HttpCall> calls;
  calls.push_back(run.call(resolve_url(t.https_url, "/lookout-audit-" + random_hex(8) + ".txt")));
  for (const char* p : kExposedPaths) calls.push_back(run.call(resolve_url(t.https_url, p)));
  const auto answers = run.fetch_all(calls);
  if (!answers[0].responded) {
    report.checks.push_back(
        make_check("exposed_files", Result::kSkipped,
                   fmt::format("the app did not answer: {}", answers[0].cause)));
    return;
  }
  std::vector<std::string> served;
  for (size_t i = 1; i < answers.size(); ++i) {
    if (auto e = exposed_file(kExposedPaths[i - 1], answers[i], answers[0]))
      served.push_back(std::move(*e));
  }
  if (!served.empty()) {
    report.checks.push_back(make_check("exposed_files", Result::kFail,
                                       fmt::format("served: {}", fmt::join(served, ", "))));
  } else {
    report.checks.push_back(
        make_check("exposed_files", Result::kPass,
                   fmt::format("none of {} well-known paths is served", std::size(kExposedPaths))));
  }
}

void check_scripts(Runner& run, const Targets& t, const Fetched& page, AuditReport& report) {
  if (!page.responded) {
    const std::string why = fmt::format("the page did not answer: {}", page.cause);
    report.checks.push_back(make_check("source_maps", Result::kSkipped, why));
    report.checks.push_back(make_check("browser_secrets", Result::kSkipped, why));
    return;
  }
  const PageScripts scripts = find_scripts(page.obs.body);
  std::vector<HttpCall> calls;
  std::set<std::string> seen;
  size_t foreign = 0;
  for (const auto& src : scripts.sources) {
    const std::string url = resolve_url(t.https_url, src);
    if (url.empty() || !same_origin(url, t.https_url)) {
      ++foreign;
      continue;
    }
    if (seen.insert(url).second && calls.size() < kMaxScripts) calls.push_back(run.call(url, true));
  }
  const auto bodies = run.fetch_all(calls);

  // Source maps: next to each script, and where a script says its map is.
  static const RE2 map_comment(R"re([#@] sourceMappingURL=([^\s'"*]+))re");
  std::vector<HttpCall> map_calls;
  std::set<std::string> map_urls;
  for (const auto& s : bodies) {
    std::vector<std::string> candidates{s.url + ".map"};
    std::string named;
    if (s.responded && RE2::PartialMatch(s.obs.body, map_comment, &named) &&
        named.rfind("data:", 0) != 0) {
      candidates.push_back(resolve_url(s.url, named));
    }
    for (const auto& m : candidates) {
      if (!m.empty() && same_origin(m, t.https_url) && map_urls.insert(m).second)
        map_calls.push_back(run.call(m));
    }
  }
  std::vector<std::string> maps;
  for (const auto& m : run.fetch_all(map_calls)) {
    if (is_source_map(m)) maps.push_back(path_of(m.url));
  }
  if (calls.empty()) {
    report.checks.push_back(
        make_check("source_maps", Result::kSkipped, "the page loads no script of its own"));
  } else if (!maps.empty()) {
    report.checks.push_back(
        make_check("source_maps", Result::kFail, fmt::format("served: {}", fmt::join(maps, ", "))));
  } else {
    report.checks.push_back(
        make_check("source_maps", Result::kPass,
                   fmt::format("no map for the page's {} scripts", calls.size())));
  }

  std::vector<std::string> found;
  auto scan = [&](const std::string& where, std::string_view text) {
    for (const auto& f : scan_for_secrets(text))
      found.push_back(fmt::format("{}:{} {} {}", where, f.line, f.kind, f.masked));
  };
  scan(path_of(t.https_url), page.obs.body);
  size_t scanned = 0;
  for (const auto& s : bodies) {
    if (!s.responded) continue;
    ++scanned;
    scan(path_of(s.url), s.obs.body);
  }
  const std::string scope = fmt::format(
      "the page and {} of its scripts{}{}", scanned,
      foreign > 0 ? fmt::format(" ({} on other origins not read)", foreign) : "",
      seen.size() > kMaxScripts ? fmt::format(", the first {} of {}", kMaxScripts, seen.size())
                                : "");
  if (!found.empty()) {
    report.checks.push_back(make_check("browser_secrets", Result::kFail,
                                       fmt::format("{} in {}", fmt::join(found, "; "), scope)));
  } else {
    report.checks.push_back(
        make_check("browser_secrets", Result::kPass, "nothing found in " + scope));
  }
}

void check_journeys(Runner& run, const Config* journey, AuditReport& report) {
  std::vector<const MonitorConfig*> journeys;
  if (journey != nullptr) {
    for (const auto& m : journey->monitors) {
      if (m.spec_if<JourneySpec>() != nullptr) journeys.push_back(&m);
    }
  }
  if (journeys.empty()) {
    report.checks.push_back(make_check("journey", Result::kSkipped, "no --journey FILE given"));
    return;
  }
  for (const auto* m : journeys) {
    JourneyProbe probe(*m, run.context(), journey->redactor);
    probe.observe([&run](const std::string& step, const HttpObservation& obs) {
      run.note_step_cookies(step, obs);
    });
    const ProbeResult r = run.run(probe);
    const std::string evidence =
        r.outcome == Outcome::kUp
            ? fmt::format("{} steps passed in {:.0f} ms", m->spec_as<JourneySpec>().steps.size(),
                          static_cast<double>(r.timings.total_us.value_or(0)) / 1000.0)
            : r.cause;
    report.checks.push_back(make_check("journey", result_of(r.outcome), evidence, m->name));
  }
}

std::string with_port(const std::string& resolver) {
  if (resolver.empty() || resolver.find(':') != std::string::npos) return resolver;
  return resolver + ":53";
}

// The host's address validated as a validating resolver would, from the root's anchor, through
// --resolver when given.
void check_dnssec(Runner& run, const AuditOptions& o, const Targets& t, AuditReport& report) {
  if (t.registered_domain.empty()) {
    report.checks.push_back(
        make_check("dnssec", Result::kSkipped,
                   fmt::format("{} is an address or a name of no registered domain", t.host)));
    return;
  }
  auto validate = [&](uint16_t record, const char* record_name) {
    auto spec = std::make_shared<DnssecSpec>();
    spec->query = t.host;
    spec->record = record;
    spec->record_name = record_name;
    spec->resolver = with_port(o.resolver);
    spec->trust_anchor_file = kRootTrustAnchorFile;
    return run.run(run.monitor("dnssec", "dnssec", spec));
  };
  ProbeResult r = validate(1, "A");
  if (r.kind == ErrorKind::kNoRecords) {
    // An IPv6-only host: its monitor must ask for what it has.
    ProbeResult v6 = validate(28, "AAAA");
    if (v6.kind != ErrorKind::kNoRecords) {
      r = std::move(v6);
      report.facts.dnssec_record = "AAAA";
    }
  }
  report.checks.push_back(judge_dnssec(r, t.host));
}

void check_email(Runner& run, const AuditOptions& o, AuditReport& report) {
  if (o.mail_domain.empty()) {
    for (const char* kind : {"spf", "dmarc", "dkim", "mx_starttls"}) {
      report.checks.push_back(make_check(kind, Result::kSkipped, "no --mail-domain given"));
    }
    return;
  }
  auto dns = [&](MailCheck check, const std::string& query, uint16_t record,
                 const char* record_name) {
    auto spec = std::make_shared<DnsSpec>();
    spec->dns.query = query;
    spec->dns.record = record;
    spec->dns.record_name = record_name;
    spec->dns.resolver = with_port(o.resolver);
    spec->dns.alert_on_change = false;
    spec->dns.check = check;
    return run.run(run.monitor("dns", "mail", spec));
  };
  auto record_check = [&](const char* kind, MailCheck check, const std::string& query,
                          std::string_view subject = {}) {
    const ProbeResult r = dns(check, query, 16, "TXT");
    std::string evidence = r.cause;
    if (r.outcome == Outcome::kUp && r.answers) {
      evidence =
          fmt::format("{}: {}", query, shorten(r.answers->empty() ? "" : r.answers->front(), 90));
    }
    report.checks.push_back(make_check(kind, result_of(r.outcome), evidence, subject));
  };
  record_check("spf", MailCheck::kSpf, o.mail_domain);
  record_check("dmarc", MailCheck::kDmarc, "_dmarc." + o.mail_domain);
  if (o.dkim_selectors.empty()) {
    report.checks.push_back(
        make_check("dkim", Result::kSkipped,
                   "no --dkim-selector given: a DKIM key is found only by its selector"));
  }
  for (const auto& s : o.dkim_selectors)
    record_check("dkim", MailCheck::kDkim, fmt::format("{}._domainkey.{}", s, o.mail_domain), s);

  const ProbeResult mx = dns(MailCheck::kNone, o.mail_domain, 15, "MX");
  if (mx.kind == ErrorKind::kNoRecords) {
    // A domain that sends mail and receives none has no inbound server to check.
    report.checks.push_back(
        make_check("mx_starttls", Result::kSkipped,
                   fmt::format("{} receives no mail: {}", o.mail_domain, mx.cause)));
    return;
  }
  if (mx.outcome != Outcome::kUp || !mx.answers) {
    report.checks.push_back(make_check("mx_starttls", Result::kFail,
                                       fmt::format("MX of {}: {}", o.mail_domain, mx.cause)));
    return;
  }
  std::vector<std::string> hosts;
  for (const auto& a : *mx.answers) {
    const auto sp = a.find(' ');
    if (sp == std::string::npos) continue;
    std::string host = a.substr(sp + 1);
    if (!host.empty() && host.back() == '.') host.pop_back();
    if (!host.empty() && hosts.size() < kMaxMxHosts) hosts.push_back(host);
  }
  if (hosts.empty()) {
    report.checks.push_back(
        make_check("mx_starttls", Result::kSkipped,
                   fmt::format("{} receives no mail: its MX is the null MX (\"0 .\", RFC 7505)",
                               o.mail_domain)));
    return;
  }
  std::vector<std::string> good, bad;
  for (const auto& h : hosts) {
    auto spec = std::make_shared<CertSpec>();
    spec->cert.host = h;
    spec->cert.port = o.mx_port;
    spec->cert.starttls_smtp = true;
    spec->ca_file = run.ca_file();
    const ProbeResult r = run.run(run.monitor("cert", "mx", spec));
    if (r.outcome == Outcome::kDown) {
      bad.push_back(fmt::format("{}: {}", h, r.cause));
    } else {
      good.push_back(h);
      report.facts.mx_hosts.push_back(h);
    }
  }
  if (!bad.empty()) {
    report.checks.push_back(
        make_check("mx_starttls", Result::kFail, fmt::format("{}", fmt::join(bad, "; "))));
  } else {
    report.checks.push_back(
        make_check("mx_starttls", Result::kPass,
                   fmt::format("STARTTLS with a valid certificate on {}", fmt::join(good, ", "))));
  }
}

void check_latency(Runner& run, const AuditOptions& o, const Targets& t, AuditReport& report) {
  auto spec = std::make_shared<HttpSpec>();
  spec->http.url = Secret::plain(t.https_url);
  spec->http.max_body = kMaxBody;
  spec->http.ca_file = run.ca_file();
  spec->samples = o.latency_samples;
  const ProbeResult r = run.run(run.monitor("latency", "latency", spec));
  CheckResult c = judge_latency(
      r.samples_us, std::chrono::duration_cast<std::chrono::microseconds>(o.latency_budget).count(),
      o.latency_samples);
  if (r.samples_us.empty() && !r.cause.empty()) c.evidence = r.cause;
  report.checks.push_back(std::move(c));
}

void check_rate_limit(Runner& run, const AuditOptions& o, const Targets& t, AuditReport& report) {
  if (!o.rate_limit_path) {
    report.checks.push_back(
        make_check("rate_limit", Result::kSkipped, "opt-in: --rate-limit-check PATH"));
    return;
  }
  std::vector<Attempt> attempts;
  for (int i = 0; i < kRateLimitAttempts; ++i) {
    HttpCall c = run.call(resolve_url(t.https_url, *o.rate_limit_path));
    c.method = "POST";
    c.body = fmt::format(
        "username=lookout-audit%40example.invalid&email=lookout-audit%40example.invalid&password={"
        "}",
        random_hex(12));
    c.header_lines.emplace_back("Content-Type: application/x-www-form-urlencoded");
    const Fetched f = run.fetch(c);
    Attempt a;
    a.status = f.responded ? f.obs.status : 0;
    a.total_us = f.timings.total_us.value_or(0);
    a.retry_after = f.responded && !header_values(f.obs, "Retry-After").empty();
    attempts.push_back(a);
    if (a.status == 429 || a.status == 423 || a.retry_after) break;
  }
  report.checks.push_back(judge_rate_limit(*o.rate_limit_path, attempts));
}

}  // namespace

std::optional<Targets> derive_targets(const AuditOptions& o, std::string& error) {
  const UrlParts u = parse_url(o.url);
  if (!u.ok) {
    error = fmt::format(
        "\"{}\" is not a URL; give the app's address, like https://portal.example.com/", o.url);
    return std::nullopt;
  }
  if (u.scheme != "https" && u.scheme != "http") {
    error = fmt::format("\"{}\" is not an http:// or https:// URL", o.url);
    return std::nullopt;
  }
  Targets t;
  t.host = u.host;
  std::transform(t.host.begin(), t.host.end(), t.host.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  if (t.host.size() > 2 && t.host.front() == '[') t.host = t.host.substr(1, t.host.size() - 2);
  t.port = u.port.empty() ? 443 : static_cast<uint16_t>(std::stoi(u.port));
  const std::string authority = u.host + (u.port.empty() ? "" : ":" + u.port);
  const std::string rest = (u.path.empty() ? "/" : u.path) + (u.query.empty() ? "" : "?" + u.query);
  t.https_url = "https://" + authority + rest;
  // The contract's default: port 80 when the URL names none, else the same port.
  t.http_url = o.http_url.empty() ? "http://" + authority + rest : o.http_url;
  const UrlParts http = parse_url(t.http_url);
  if (!http.ok || http.scheme != "http") {
    error = fmt::format("--http-url \"{}\" is not an http:// URL", o.http_url);
    return std::nullopt;
  }
  if (!is_address(http.host) && http.host.find('.') != std::string::npos &&
      http.host.rfind("www.", 0) != 0) {
    t.www_http_url = with_host(t.http_url, "www." + http.host);
  }
  t.registered_domain = registered_domain(t.host);
  return t;
}

AuditReport run_audit(const AuditOptions& o, const Targets& t, const Config* journey,
                      const Clock& clock) {
  AuditReport report;
  report.targets = t;
  Runner run(o, clock);

  HttpCall page_call = run.call(t.https_url, true);
  page_call.header_lines.push_back(fmt::format("Origin: {}", kForeignOrigin));
  const Fetched page = run.fetch(page_call);
  report.page.status = page.obs.status;
  report.page.headers = page.obs.headers;

  check_https(run, t, clock, report);
  check_headers(page, report);
  const size_t cookies_at = report.checks.size();
  check_private_routes(run, o, t, report);
  check_journeys(run, journey, report);
  check_exposed_files(run, t, report);
  check_scripts(run, t, page, report);
  check_email(run, o, report);
  check_dnssec(run, o, t, report);
  check_latency(run, o, t, report);
  check_rate_limit(run, o, t, report);
  // Judged last, on every answer of the app (the journey's steps included); shown with the headers.
  report.checks.insert(report.checks.begin() + static_cast<std::ptrdiff_t>(cookies_at),
                       judge_cookies(run.cookies(), run.responses()));
  return report;
}

}  // namespace lookout::audit
