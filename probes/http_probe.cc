#include "probes/http_probe.h"

#include <fmt/format.h>

#include <strings.h>

#include <algorithm>

#include "daemon/curl_bridge.h"
#include "daemon/units.h"

namespace lookout {

HttpProbe::HttpProbe(const MonitorConfig& m, ProbeContext& ctx, std::shared_ptr<const Redactor> redactor)
    : m_(m), ctx_(ctx), redactor_(std::move(redactor)) {
  std::string ua = fmt::format("User-Agent: lookout/{}", LOOKOUT_VERSION);
  bool has_ua = false;
  for (const auto& [k, v] : m_.http.headers) {
    headers_ = curl_slist_append(headers_, fmt::format("{}: {}", k, v.reveal()).c_str());
    if (strcasecmp(k.c_str(), "User-Agent") == 0) has_ua = true;
  }
  if (!has_ua) headers_ = curl_slist_append(headers_, ua.c_str());
}

HttpProbe::~HttpProbe() {
  ctx_.curl.release(easy_);
  curl_slist_free_all(headers_);
}

void HttpProbe::setup() {
  const auto& h = m_.http;
  CURL* e = easy_;
  curl_easy_setopt(e, CURLOPT_URL, h.url.reveal().c_str());
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, h.follow_redirects ? 1L : 0L);
  curl_easy_setopt(e, CURLOPT_MAXREDIRS, static_cast<long>(h.max_redirects));
  set_transfer_defaults(e, m_.timeout, h.ca_file, h.insecure);
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(m_.timeout.count()));
  // A fresh connection per run, so connect and TLS times are real and a dead server is seen.
  curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
  curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
  curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");  // the body cap counts decoded bytes
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers_);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf_);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &HttpProbe::on_body);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, this);
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &HttpProbe::on_header);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, this);
  if (h.method == "HEAD") {
    curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
  } else if (h.method != "GET") {
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, h.method.c_str());
  }
  if (h.body) {
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, static_cast<long>(h.body->reveal().size()));
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, h.body->reveal().c_str());
  } else if (h.method == "POST") {
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, 0L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, "");
  }
}

bool HttpProbe::start(Done done) {
  if (running_) return false;
  easy_ = ctx_.curl.acquire();
  if (easy_ == nullptr) return false;
  setup();
  errbuf_[0] = '\0';
  body_overflow_ = false;
  obs_ = HttpObservation{};
  result_ = ProbeResult{};
  result_.started_at = ctx_.clock.wall();
  result_.started_mono = ctx_.clock.mono();
  if (!ctx_.curl.add(easy_, [this](CURLcode code) { finish(code); })) {
    ctx_.curl.release(std::exchange(easy_, nullptr));
    return false;
  }
  running_ = true;
  done_ = std::move(done);
  return true;
}

void HttpProbe::cancel() {
  if (!running_) return;
  ctx_.curl.release(std::exchange(easy_, nullptr));
  running_ = false;
  ProbeResult r = std::move(result_);
  r.outcome = Outcome::kDown;
  r.kind = ErrorKind::kCancelled;
  r.cause = "cancelled";
  Done done = std::move(done_);
  done(std::move(r));  // may destroy this
}

size_t HttpProbe::on_body(char* data, size_t size, size_t n, void* p) {
  auto* self = static_cast<HttpProbe*>(p);
  const size_t len = size * n;
  if (self->obs_.body.size() + len > self->m_.http.max_body) {
    self->body_overflow_ = true;
    return 0;  // aborts the transfer: the rest is not downloaded
  }
  self->obs_.body.append(data, len);
  return len;
}

size_t HttpProbe::on_header(char* data, size_t size, size_t n, void* p) {
  auto* self = static_cast<HttpProbe*>(p);
  const size_t len = size * n;
  std::string_view line(data, len);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  if (line.rfind("HTTP/", 0) == 0) {
    self->obs_.headers.clear();  // a new response (after a redirect or a 100): keep only the last
    return len;
  }
  const auto colon = line.find(':');
  if (colon != std::string_view::npos && colon > 0) {
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    self->obs_.headers.emplace_back(std::string(line.substr(0, colon)), std::string(value));
  }
  return len;
}

namespace {

struct CurlTimes {
  curl_off_t dns = 0, connect = 0, tls = 0, pretransfer = 0, first_byte = 0, total = 0;
};

CurlTimes read_times(CURL* e) {
  CurlTimes t;
  curl_easy_getinfo(e, CURLINFO_NAMELOOKUP_TIME_T, &t.dns);
  curl_easy_getinfo(e, CURLINFO_CONNECT_TIME_T, &t.connect);
  curl_easy_getinfo(e, CURLINFO_APPCONNECT_TIME_T, &t.tls);
  curl_easy_getinfo(e, CURLINFO_PRETRANSFER_TIME_T, &t.pretransfer);
  curl_easy_getinfo(e, CURLINFO_STARTTRANSFER_TIME_T, &t.first_byte);
  curl_easy_getinfo(e, CURLINFO_TOTAL_TIME_T, &t.total);
  return t;
}

PhaseTimings phases(const CurlTimes& t, bool got_response) {
  PhaseTimings p;
  if (t.dns > 0 || t.connect > 0) p.dns_us = t.dns;
  if (t.connect > 0) p.connect_us = std::max<curl_off_t>(0, t.connect - t.dns);
  if (t.tls > 0) p.tls_us = std::max<curl_off_t>(0, t.tls - t.connect);
  if (t.first_byte > 0) p.first_byte_us = std::max<curl_off_t>(0, t.first_byte - t.pretransfer);
  if (got_response) p.total_us = t.total;
  return p;
}

}  // namespace

ProbeResult HttpProbe::failure(CURLcode code) const {
  ProbeResult r;
  r.outcome = Outcome::kDown;
  const std::string detail = errbuf_[0] != '\0' ? std::string(errbuf_) : std::string(curl_easy_strerror(code));
  const CurlTimes t = read_times(easy_);
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT: {
      r.kind = ErrorKind::kTimeout;
      const char* phase = t.connect == 0            ? "while connecting"
                          : (t.tls == 0 && m_.http.url.reveal().rfind("https", 0) == 0)
                              ? "during the TLS handshake"
                          : t.first_byte == 0 ? "waiting for the response"
                                              : "reading the response";
      r.cause = fmt::format("timed out after {} {}", format_duration(m_.timeout), phase);
      if (t.first_byte != 0) r.cause += fmt::format(" ({} bytes of body so far)", obs_.body.size());
      break;
    }
    case CURLE_COULDNT_RESOLVE_HOST:
      r.kind = ErrorKind::kDns;
      r.cause = fmt::format("cannot resolve host {}", m_.host);
      break;
    case CURLE_COULDNT_CONNECT:
      r.kind = ErrorKind::kConnect;
      r.cause = "cannot connect: " + detail;
      break;
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
      r.kind = ErrorKind::kConnect;
      r.cause = "connection failed: " + detail;
      break;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
      r.kind = ErrorKind::kTls;
      r.cause = "TLS failed: " + detail;
      break;
    case CURLE_TOO_MANY_REDIRECTS:
      r.kind = ErrorKind::kRedirects;
      r.cause = fmt::format("more than {} redirects", m_.http.max_redirects);
      break;
    case CURLE_WRITE_ERROR:
      if (body_overflow_) {
        r.kind = ErrorKind::kBodyTooLarge;
        r.cause = fmt::format("body is larger than max_body {}; the rest was not downloaded", format_size(m_.http.max_body));
      } else {
        r.kind = ErrorKind::kInternal;
        r.cause = "could not store the response: " + detail;
      }
      break;
    case CURLE_GOT_NOTHING:
      r.kind = ErrorKind::kProtocol;
      r.cause = "the server closed the connection without a reply";
      break;
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_HTTP2:
    case CURLE_PARTIAL_FILE:
    case CURLE_BAD_CONTENT_ENCODING:
      r.kind = ErrorKind::kProtocol;
      r.cause = "not a valid HTTP response: " + detail;
      break;
    default:
      r.kind = ErrorKind::kProtocol;
      r.cause = detail;
      break;
  }
  r.timings = phases(t, false);
  return r;
}

void HttpProbe::finish(CURLcode code) {
  running_ = false;
  ProbeResult r;
  if (code != CURLE_OK) {
    r = failure(code);
  } else {
    long status = 0;
    curl_easy_getinfo(easy_, CURLINFO_RESPONSE_CODE, &status);
    const CurlTimes t = read_times(easy_);
    obs_.status = static_cast<int>(status);
    obs_.total = std::chrono::duration_cast<Duration>(std::chrono::microseconds{t.total});
    Verdict v = evaluate(m_.expect, obs_);
    r.outcome = v.outcome;
    r.kind = v.kind;
    r.cause = std::move(v.cause);
    r.http_status = obs_.status;
    r.timings = phases(t, true);
  }
  r.started_at = result_.started_at;
  r.started_mono = result_.started_mono;
  ctx_.curl.release(std::exchange(easy_, nullptr));
  if (!r.cause.empty() && redactor_) r.cause = redactor_->apply(std::move(r.cause));
  obs_.body.clear();
  obs_.body.shrink_to_fit();
  Done done = std::move(done_);
  done(std::move(r));  // may destroy this
}

}  // namespace lookout
