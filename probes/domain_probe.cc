#include "probes/domain_probe.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/curl_bridge.h"
#include "core/secret.h"
#include "core/units.h"
#include "probes/rdap.h"
#include "probes/whois_expiry.h"

namespace lookout {
namespace {

constexpr uint64_t kRdapMaxBody = 256 * 1024;
// How long a registry is left alone after a rate limit that named no time.
constexpr Duration kRateLimitPause{3'600'000};

std::string domain_url_host(const std::string& url) {
  std::string host;
  CURLU* u = curl_url();
  char* h = nullptr;
  if (curl_url_set(u, CURLUPART_URL, url.c_str(), 0) == CURLUE_OK &&
      curl_url_get(u, CURLUPART_HOST, &h, 0) == CURLUE_OK && h != nullptr) {
    host = h;
  }
  curl_free(h);
  curl_url_cleanup(u);
  return host.empty() ? url : host;
}

std::string domain_stamp_s(WallTime t) {
  std::string s = rfc3339(t);
  const auto dot = s.find('.');
  if (dot != std::string::npos) s.erase(dot, s.size() - 1 - dot);
  return s;
}

}  // namespace

DomainProbe::DomainProbe(const MonitorConfig& m, ProbeContext& ctx,
                         std::shared_ptr<const Redactor> redactor)
    : ProbeSession(m, ctx, std::move(redactor)), spec_(m.spec_as<DomainSpec>()) {
  rdap_options_.max_body = kRdapMaxBody;
  rdap_options_.follow_redirects = true;  // RFC 7480: a server may refer to another by redirect
  rdap_options_.max_redirects = 5;
  if (!spec_.whois_host.empty()) {
    whois_host_ = spec_.whois_host;
    whois_port_ = spec_.whois_port;
  } else if (auto known = known_whois_server(spec_.domain)) {
    whois_host_ = *known;
  }
}

DomainProbe::~DomainProbe() { abort(); }

std::string DomainProbe::whois_server() const {
  return whois_host_.find(':') != std::string::npos
             ? fmt::format("[{}]:{}", whois_host_, whois_port_)
             : fmt::format("{}:{}", whois_host_, whois_port_);
}

bool DomainProbe::begin() {
  detail_ = nlohmann::json{{"domain", spec_.domain}};
  fallback_why_.clear();
  rdap_server_.clear();
  http_status_ = 0;
  timings_ = PhaseTimings{};
  stage_ = Stage::kDone;
  const WallTime now = ctx_.clock.wall();
  if (next_try_ && now < *next_try_) {
    // The registry asked to be left alone until then: the run is judged without asking.
    next_turn([this] { finish_rate_limited(); });
    return true;
  }
  next_try_.reset();
  std::optional<std::string> base;
  if (spec_.rdap_url) {
    base = spec_.rdap_url->reveal();
  } else {
    base = rdap_base_for(shipped_rdap_bootstrap(), spec_.domain);
  }
  if (base) return start_rdap(*base);
  const std::string tld = spec_.domain.substr(spec_.domain.rfind('.') + 1);
  fallback_why_ = fmt::format("no RDAP server for .{} in lookout's bootstrap list", tld);
  detail_["rdap"] = nullptr;
  next_turn([this, tld] {
    if (!start_whois()) {
      fail(ErrorKind::kInternal,
           fmt::format("no RDAP server for .{} in lookout's bootstrap list and no WHOIS server "
                       "known; set rdap_url or whois",
                       tld));
    }
  });
  return true;
}

bool DomainProbe::start_rdap(const std::string& base) {
  const std::string url = rdap_domain_url(base, spec_.domain);
  rdap_server_ = spec_.rdap_url && spec_.rdap_url->is_secret() ? std::string("rdap_url")
                                                               : domain_url_host(url);
  detail_["rdap"] = {{"server", rdap_server_}};
  easy_ = ctx_.curl.acquire();
  if (easy_ == nullptr) return false;
  rdap_ = std::make_unique<HttpExchange>(ctx_.curl, ctx_.source);
  HttpCall call;
  call.url = url;
  call.header_lines = {"Accept: application/rdap+json"};
  call.options = &rdap_options_;
  call.timeout = m_.timeout;
  stage_ = Stage::kRdap;
  return rdap_->start(easy_, call, [this](HttpExchangeResult x) { on_rdap(std::move(x)); });
}

void DomainProbe::on_rdap(HttpExchangeResult x) {
  std::optional<Duration> retry_after;
  curl_off_t seconds = 0;
  // libcurl reads both forms of Retry-After (seconds, or an HTTP date) as seconds from now.
  if (curl_easy_getinfo(easy_, CURLINFO_RETRY_AFTER, &seconds) == CURLE_OK && seconds > 0)
    retry_after = Duration{static_cast<int64_t>(seconds) * 1000};
  ctx_.curl.release(std::exchange(easy_, nullptr));
  timings_ = x.timings;
  if (!x.responded) {
    if (x.kind == ErrorKind::kResources) {
      fail(x.kind, std::move(x.cause));
      return;
    }
    fail(x.kind, fmt::format("RDAP server {}: {}", rdap_server_, x.cause));
    return;
  }
  const int status = x.obs.status;
  http_status_ = status;
  detail_["rdap"]["status"] = status;
  const int64_t response_us = x.timings.total_us.value_or(0);
  if (status == 429) {
    rate_limited(fmt::format("{} (429)", rdap_server_), retry_after.value_or(kRateLimitPause));
    return;
  }
  if (status == 404) {
    fallback_why_ = fmt::format("RDAP answered 404 at {}", rdap_server_);
    if (!start_whois()) {
      http_status_ = status;
      fail(ErrorKind::kExpectation, fmt::format("no registration data for {}", spec_.domain));
    }
    return;
  }
  if (status < 200 || status > 299) {
    fail(ErrorKind::kExpectation, fmt::format("RDAP answered {} at {}", status, rdap_server_));
    return;
  }
  const RdapDomain d = parse_rdap_domain(x.obs.body);
  if (d.expires) {
    judge(*d.expires, "rdap", response_us);
    return;
  }
  fallback_why_ =
      fmt::format("no expiration date in the RDAP answer from {} ({})", rdap_server_, d.problem);
  if (!start_whois()) fail(d.json ? ErrorKind::kExpectation : ErrorKind::kProtocol, fallback_why_);
}

bool DomainProbe::start_whois() {
  if (whois_host_.empty()) return false;
  if (!whois_) whois_ = std::make_unique<WhoisClient>(ctx_.loop, ctx_.clock, ctx_.source);
  detail_["whois"] = {{"server", whois_server()}};
  stage_ = Stage::kWhois;
  const bool started = whois_->start(whois_host_, whois_port_, spec_.domain,
                                     [this](WhoisClient::Result w) { on_whois(std::move(w)); });
  if (!started) fail(ErrorKind::kInternal, "cannot set up the resolver for the WHOIS query");
  return true;
}

void DomainProbe::on_whois(WhoisClient::Result w) {
  // RDAP's timings stand when it answered; without it the WHOIS exchange's are the run's.
  if (!timings_.connect_us) {
    timings_.dns_us = w.dns_us;
    timings_.connect_us = w.connect_us;
    timings_.first_byte_us = w.reply_us;
  }
  // A cause says what RDAP said first when it was asked.
  const std::string before = rdap_server_.empty() ? std::string() : fallback_why_ + "; ";
  if (!w.answered) {
    if (w.kind == ErrorKind::kResources) {
      fail(w.kind, std::move(w.cause));
      return;
    }
    fail(w.kind, fmt::format("{}WHOIS server {}: {}", before, whois_server(), w.cause));
    return;
  }
  const WhoisAnswer a = parse_whois_answer(w.text);
  if (a.expires) {
    detail_["whois"]["line"] = a.expiry_line;
    judge(*a.expires, "whois", w.connect_us.value_or(0) + w.reply_us.value_or(0));
    return;
  }
  if (a.rate_limited) {
    rate_limited(fmt::format("{} (query limit)", whois_server()), kRateLimitPause);
    return;
  }
  if (a.not_found) {
    fail(ErrorKind::kExpectation, fmt::format("no registration data for {}", spec_.domain));
    return;
  }
  fail(ErrorKind::kExpectation,
       fmt::format("{}no expiration date in the WHOIS answer from {}", before, whois_server()));
}

ProbeResult DomainProbe::base_result() const {
  ProbeResult r;
  r.timings = timings_;
  r.http_status = http_status_;
  return r;
}

void DomainProbe::judge(WallTime expires, const char* source, int64_t response_us) {
  known_expiry_ = expires;
  limited_by_.clear();
  const DomainVerdict v =
      judge_domain_expiry(expires, ctx_.clock.wall(), spec_.warn_within, spec_.fail_within);
  ProbeResult r = base_result();
  r.outcome = v.outcome;
  r.kind = v.kind;
  r.cause = v.cause;
  r.timings.total_us = elapsed_us();
  r.samples_us.push_back(response_us > 0 ? response_us : *r.timings.total_us);
  detail_["source"] = source;
  detail_["expires"] = domain_stamp_s(expires);
  detail_["days_left"] = v.days_left;
  r.detail = detail_.dump();
  stage_ = Stage::kDone;
  finish(std::move(r));
}

void DomainProbe::rate_limited(const std::string& by, Duration wait) {
  next_try_ = ctx_.clock.wall() + wait;
  // Logged once per limit: the runs until the next try are judged quietly.
  if (limited_by_ != by) {
    const std::string message =
        fmt::format("monitor {}: rate-limited by {}; not asked again before {}; {}", m_.name, by,
                    domain_stamp_s(*next_try_),
                    known_expiry_ ? "runs until then are judged on the expiry seen before"
                                  : "runs until then are degraded (no expiry seen yet)");
    spdlog::warn("{}", secrets() != nullptr ? secrets()->apply(message) : message);
  }
  limited_by_ = by;
  finish_rate_limited();
}

void DomainProbe::finish_rate_limited() {
  const WallTime now = ctx_.clock.wall();
  const DomainVerdict v = judge_rate_limited(known_expiry_, now, spec_.warn_within,
                                             spec_.fail_within, limited_by_, *next_try_);
  ProbeResult r = base_result();
  r.outcome = v.outcome;
  r.kind = v.kind;
  r.cause = v.cause;
  // A refusal is no measure of the registry's latency: the run adds no sample.
  r.timings.total_us = elapsed_us();
  detail_["rate_limited"] = {{"by", limited_by_}, {"next_try", domain_stamp_s(*next_try_)}};
  if (known_expiry_) {
    detail_["source"] = "earlier run";
    detail_["expires"] = domain_stamp_s(*known_expiry_);
    detail_["days_left"] = v.days_left;
  } else {
    detail_["source"] = nullptr;
  }
  r.detail = detail_.dump();
  stage_ = Stage::kDone;
  finish(std::move(r));
}

void DomainProbe::fail(ErrorKind kind, std::string cause) {
  ProbeResult r = base_result();
  r.outcome = Outcome::kDown;
  r.kind = kind;
  r.cause = std::move(cause);
  detail_["source"] = nullptr;
  r.detail = detail_.dump();
  stage_ = Stage::kDone;
  finish(std::move(r));
}

ProbeResult DomainProbe::timed_out() {
  ProbeResult r = base_result();
  const std::string after = format_duration(deadline());
  if (stage_ == Stage::kWhois && whois_) {
    r.cause =
        fmt::format("timeout after {} {} WHOIS server {}", after, whois_->phase(), whois_server());
  } else {
    r.cause = fmt::format("timeout after {} waiting for RDAP server {}", after, rdap_server_);
  }
  detail_["source"] = nullptr;
  r.detail = detail_.dump();
  return r;
}

void DomainProbe::abort() {
  rdap_.reset();  // cancels a transfer in flight before its handle goes back
  if (easy_ != nullptr) ctx_.curl.release(std::exchange(easy_, nullptr));
  if (whois_) whois_->cancel();
}

}  // namespace lookout
