#include "probes/http_exchange.h"

#include <fmt/format.h>

#include <algorithm>

#include "core/curl_bridge.h"
#include "core/units.h"
#include "probes/curl_errors.h"

namespace lookout {
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

}  // namespace

PhaseTimings read_phases(CURL* easy, bool responded) {
  const CurlTimes t = read_times(easy);
  PhaseTimings p;
  if (t.dns > 0 || t.connect > 0) p.dns_us = t.dns;
  if (t.connect > 0) p.connect_us = std::max<curl_off_t>(0, t.connect - t.dns);
  if (t.tls > 0) p.tls_us = std::max<curl_off_t>(0, t.tls - t.connect);
  if (t.first_byte > 0) p.first_byte_us = std::max<curl_off_t>(0, t.first_byte - t.pretransfer);
  if (responded) p.total_us = t.total;
  return p;
}

bool tcp_connected(CURL* easy, curl_off_t connect_time) {
  char* peer = nullptr;
  curl_easy_getinfo(easy, CURLINFO_PRIMARY_IP, &peer);
  return connect_time > 0 || (peer != nullptr && *peer != '\0');
}

void open_cookie_jar(CURL* easy) {
  // Any cookie line turns the engine on; ALL then empties the jar.
  curl_easy_setopt(easy, CURLOPT_COOKIELIST, "Set-Cookie: lookout=1; domain=jar.invalid");
  curl_easy_setopt(easy, CURLOPT_COOKIELIST, "ALL");
}

void close_cookie_jar(CURL* easy) {
  // NULL discards the cookies and turns the engine off.
  curl_easy_setopt(easy, CURLOPT_COOKIEFILE, nullptr);
}

bool HttpExchange::start(CURL* e, const HttpCall& call, Done done) {
  if (easy_ != nullptr || e == nullptr) return false;
  const HttpRequest& o = *call.options;
  // Options of an earlier call on this handle must not leak into this one; the reset keeps
  // the cookie jar.
  curl_easy_reset(e);
  curl_slist_free_all(std::exchange(headers_, nullptr));
  for (const auto& line : call.header_lines) headers_ = curl_slist_append(headers_, line.c_str());
  url_ = call.url;
  body_ = call.body;
  max_body_ = o.max_body;
  max_redirects_ = o.max_redirects;
  timeout_ = call.timeout;
  curl_easy_setopt(e, CURLOPT_URL, url_.c_str());
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, o.follow_redirects ? 1L : 0L);
  curl_easy_setopt(e, CURLOPT_MAXREDIRS, static_cast<long>(o.max_redirects));
  set_transfer_defaults(e, call.timeout, o.ca_file, o.insecure);
  source_.connect_from(e);
  if (o.tls_resume.count() > 0) curl_.resume_tls_sessions(e, url_, o.tls_resume);
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(call.timeout.count()));
  if (call.fresh_connection) curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
  if (!call.keep_connection) curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
  if (call.legacy_tls_only) {
    curl_easy_setopt(e, CURLOPT_SSLVERSION,
                     static_cast<long>(CURL_SSLVERSION_TLSv1_0) |
                         static_cast<long>(CURL_SSLVERSION_MAX_TLSv1_1));
    curl_easy_setopt(e, CURLOPT_SSL_CIPHER_LIST, "DEFAULT:@SECLEVEL=0");
  }
  if (call.http_version != 0) curl_easy_setopt(e, CURLOPT_HTTP_VERSION, call.http_version);
  curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");  // the body cap counts decoded bytes
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers_);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf_);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &HttpExchange::on_body);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, this);
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &HttpExchange::on_header);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, this);
  if (call.method == "HEAD") {
    curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
  } else if (call.method != "GET") {
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, call.method.c_str());
  }
  if (body_) {
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, static_cast<long>(body_->size()));
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, body_->c_str());
  } else if (call.method == "POST") {
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, 0L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, "");
  }
  errbuf_[0] = '\0';
  body_overflow_ = false;
  obs_ = HttpObservation{};
  if (!curl_.add(
          e, [this](CURLcode code, bool out_of_descriptors) { finish(code, out_of_descriptors); }))
    return false;
  easy_ = e;
  done_ = std::move(done);
  return true;
}

void HttpExchange::cancel() {
  if (easy_ != nullptr) curl_.remove(std::exchange(easy_, nullptr));
  done_ = nullptr;
}

size_t HttpExchange::on_body(char* data, size_t size, size_t n, void* p) {
  auto* self = static_cast<HttpExchange*>(p);
  const size_t len = size * n;
  if (self->obs_.body.size() + len > self->max_body_) {
    self->body_overflow_ = true;
    return 0;  // aborts the transfer: the rest is not downloaded
  }
  self->obs_.body.append(data, len);
  return len;
}

size_t HttpExchange::on_header(char* data, size_t size, size_t n, void* p) {
  auto* self = static_cast<HttpExchange*>(p);
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
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
      value.remove_prefix(1);
    self->obs_.headers.emplace_back(std::string(line.substr(0, colon)), std::string(value));
  }
  return len;
}

void HttpExchange::failure(CURLcode code, bool out_of_descriptors, HttpExchangeResult& r) const {
  CurlFailureContext c;
  c.source = source_.text();
  c.code = code;
  c.out_of_descriptors = out_of_descriptors;
  c.errbuf = errbuf_;
  c.timeout = timeout_;
  c.max_redirects = max_redirects_;
  c.body_overflow = body_overflow_;
  c.max_body = max_body_;
  const CurlTimes t = read_times(easy_);
  if (code == CURLE_OPERATION_TIMEDOUT) {
    c.timeout_phase = !tcp_connected(easy_, t.connect)              ? "while connecting"
                      : (t.tls == 0 && url_.rfind("https", 0) == 0) ? "during the TLS handshake"
                      : t.first_byte == 0                           ? "waiting for the response"
                                                                    : "reading the response";
  } else if (code == CURLE_COULDNT_RESOLVE_HOST) {
    char* host = nullptr;
    CURLU* u = curl_url();
    if (curl_url_set(u, CURLUPART_URL, url_.c_str(), 0) == CURLUE_OK)
      curl_url_get(u, CURLUPART_HOST, &host, 0);
    c.host = host != nullptr ? host : "";
    curl_free(host);
    curl_url_cleanup(u);
  }
  CurlFailure f = curl_failure(c);
  r.kind = f.kind;
  r.cause = std::move(f.cause);
  if (code == CURLE_OPERATION_TIMEDOUT && t.first_byte != 0)
    r.cause += fmt::format(" ({} bytes of body so far)", obs_.body.size());
}

HttpExchangeResult HttpExchange::timed_out() { return result(CURLE_OPERATION_TIMEDOUT, false); }

void HttpExchange::finish(CURLcode code, bool out_of_descriptors) {
  HttpExchangeResult r = result(code, out_of_descriptors);
  easy_ = nullptr;
  Done done = std::move(done_);
  done(std::move(r));  // may destroy this
}

HttpExchangeResult HttpExchange::result(CURLcode code, bool out_of_descriptors) {
  HttpExchangeResult r;
  r.responded = code == CURLE_OK;
  if (r.responded) {
    long status = 0;
    curl_easy_getinfo(easy_, CURLINFO_RESPONSE_CODE, &status);
    obs_.status = static_cast<int>(status);
  } else {
    failure(code, out_of_descriptors, r);
  }
  r.timings = read_phases(easy_, r.responded);
  if (r.timings.total_us)
    obs_.total =
        std::chrono::duration_cast<Duration>(std::chrono::microseconds{*r.timings.total_us});
  r.obs = std::move(obs_);
  obs_ = HttpObservation{};
  return r;
}

}  // namespace lookout
