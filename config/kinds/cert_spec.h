// The cert kind: a TLS endpoint's certificate chain, judged by its expiry and its validity
// for the host (probes/cert_probe).
#pragma once

#include <cstdint>
#include <string>

#include "config/config.h"

namespace lookout {

struct CertCheck {
  std::string host;  // SNI and the name the certificate must carry
  uint16_t port = 443;
  Duration warn_within{21LL * 86'400'000};
  Duration fail_within{7LL * 86'400'000};
  bool starttls_smtp = false;  // starttls = "smtp"
  bool operator==(const CertCheck&) const = default;
};

struct CertSpec : SpecOf<CertSpec> {
  CertCheck cert;
  std::string ca_file;  // empty: the system store
  bool operator==(const CertSpec&) const = default;
};

}  // namespace lookout
