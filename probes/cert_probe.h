// The cert probe: a TLS handshake (directly, or after STARTTLS on an SMTP server) through the
// loop's libcurl multi with CONNECT_ONLY. A verify callback installed in libcurl's SSL_CTX
// records the chain OpenSSL builds and the first error, so an expired, untrusted or
// self-signed certificate still comes with its subject, issuer and dates.
#pragma once

#include <curl/curl.h>

#include <memory>

#include "config/config.h"
#include "config/kinds/cert_spec.h"
#include "probes/cert_check.h"
#include "probes/probe_session.h"

namespace lookout {

class CertProbe final : public ProbeSession {
 public:
  CertProbe(const MonitorConfig& m, ProbeContext& ctx, std::shared_ptr<const Redactor> redactor);
  ~CertProbe() override;

  // Called by OpenSSL during the handshake (public for the C callback).
  void on_verify(int ok, void* store_ctx);

 private:
  bool begin() override;
  void abort() override;
  ProbeResult timed_out() override;
  ProbeResult judge(CURLcode code, bool out_of_descriptors);

  const CertSpec& spec_;  // m_'s
  std::string url_;
  CURL* easy_ = nullptr;
  char errbuf_[CURL_ERROR_SIZE]{};
  CertObservation obs_;
  bool saw_chain_ = false;
};

}  // namespace lookout
