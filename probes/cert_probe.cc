#include "probes/cert_probe.h"

#include <fmt/format.h>
#include <openssl/ssl.h>

#include <nlohmann/json.hpp>

#include "core/curl_bridge.h"
#include "core/units.h"
#include "probes/cert_observe.h"
#include "probes/curl_errors.h"
#include "probes/http_exchange.h"

namespace lookout {
namespace {

int ctx_index() {
  static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

int verify_callback(int ok, X509_STORE_CTX* store) {
  auto* ssl =
      static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
  if (ssl != nullptr) {
    auto* self = static_cast<CertProbe*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ctx_index()));
    if (self != nullptr) self->on_verify(ok, store);
  }
  // The verdict is lookout's, after the handshake, with the details in hand.
  return 1;
}

CURLcode on_ssl_ctx(CURL*, void* ssl_ctx, void* self) {
  auto* ctx = static_cast<SSL_CTX*>(ssl_ctx);
  SSL_CTX_set_ex_data(ctx, ctx_index(), self);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, verify_callback);
  return CURLE_OK;
}

}  // namespace

void CertProbe::on_verify(int ok, void* store_ctx) {
  if (observe_verification(ok, static_cast<X509_STORE_CTX*>(store_ctx), spec_.cert.host, obs_))
    saw_chain_ = true;
}

CertProbe::CertProbe(const MonitorConfig& m, ProbeContext& ctx,
                     std::shared_ptr<const Redactor> redactor)
    : ProbeSession(m, ctx, std::move(redactor)), spec_(m.spec_as<CertSpec>()) {
  const std::string host = spec_.cert.host.find(':') != std::string::npos
                               ? "[" + spec_.cert.host + "]"
                               : spec_.cert.host;
  url_ = fmt::format("{}://{}:{}/", spec_.cert.starttls_smtp ? "smtp" : "https", host,
                     spec_.cert.port);
}

CertProbe::~CertProbe() { abort(); }

bool CertProbe::begin() {
  easy_ = ctx_.curl.acquire();
  if (easy_ == nullptr) return false;
  CURL* e = easy_;
  obs_ = CertObservation{};
  saw_chain_ = false;
  errbuf_[0] = '\0';
  curl_easy_setopt(e, CURLOPT_URL, url_.c_str());
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, spec_.cert.starttls_smtp ? "smtp" : "https");
  set_transfer_defaults(e, m_.timeout, spec_.ca_file, false);
  ctx_.source.connect_from(e);
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(m_.timeout.count()));
  curl_easy_setopt(e, CURLOPT_CONNECT_ONLY, 1L);
  curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
  curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
  // The name is checked here, with the names the certificate holds, for the cause.
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
  curl_easy_setopt(e, CURLOPT_SSL_CTX_FUNCTION, &on_ssl_ctx);
  curl_easy_setopt(e, CURLOPT_SSL_CTX_DATA, this);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf_);
  if (spec_.cert.starttls_smtp)
    curl_easy_setopt(e, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_ALL));
  return ctx_.curl.add(e, [this](CURLcode code, bool out_of_descriptors) {
    finish(judge(code, out_of_descriptors));
  });
}

void CertProbe::abort() { ctx_.curl.release(std::exchange(easy_, nullptr)); }

// As libcurl's own timeout would have ended the handshake, with the phase it was in.
ProbeResult CertProbe::timed_out() { return judge(CURLE_OPERATION_TIMEDOUT, false); }

ProbeResult CertProbe::judge(CURLcode code, bool out_of_descriptors) {
  ProbeResult r;
  curl_off_t connect = 0, tls = 0, dns = 0;
  curl_easy_getinfo(easy_, CURLINFO_NAMELOOKUP_TIME_T, &dns);
  curl_easy_getinfo(easy_, CURLINFO_CONNECT_TIME_T, &connect);
  curl_easy_getinfo(easy_, CURLINFO_APPCONNECT_TIME_T, &tls);
  if (connect > 0) {
    r.timings.dns_us = dns;
    r.timings.connect_us = std::max<curl_off_t>(0, connect - dns);
  }
  if (tls > 0) r.timings.tls_us = std::max<curl_off_t>(0, tls - connect);
  if (saw_chain_ && (code == CURLE_OK || code == CURLE_PEER_FAILED_VERIFICATION) &&
      !out_of_descriptors) {
    const CertVerdict v = judge_certificate(spec_.cert, obs_, ctx_.clock.wall());
    r.outcome = v.outcome;
    r.kind = v.kind;
    r.cause = v.cause;
    r.cert_not_after = v.not_after;
    if (tls > 0) {
      r.timings.total_us = tls;
      r.samples_us.push_back(tls);
    }
    r.detail = nlohmann::json{{"chain", chain_json(obs_.chain)}}.dump();
    // A subject names the host, which may be a secret.
    if (redactor_) r.detail = redactor_->apply(std::move(r.detail));
  } else if (code == CURLE_OK && !out_of_descriptors) {
    r.outcome = Outcome::kDown;
    r.kind = ErrorKind::kProtocol;
    r.cause = "the connection ended without a certificate";
  } else {
    CurlFailureContext c;
    c.source = ctx_.source.text();
    c.code = code;
    c.out_of_descriptors = out_of_descriptors;
    c.errbuf = errbuf_;
    c.timeout = m_.timeout;
    c.http = false;
    c.timeout_phase = !tcp_connected(easy_, connect) ? "while connecting"
                      : spec_.cert.starttls_smtp
                          ? "before the TLS handshake finished (SMTP and STARTTLS)"
                          : "during the TLS handshake";
    c.host = spec_.cert.host;
    c.starttls_server = fmt::format("{}:{}", spec_.cert.host, spec_.cert.port);
    CurlFailure f = curl_failure(c);
    r.outcome = Outcome::kDown;
    r.kind = f.kind;
    r.cause = std::move(f.cause);
  }
  return r;
}

}  // namespace lookout
