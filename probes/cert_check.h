// The verdict of a cert run as a pure function: what the handshake showed (the chain OpenSSL
// built, the first verification error, whether the leaf names the host) and the time now in;
// up, degraded or down with a cause naming the certificate, its issuer and the date out.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "config/kinds/cert_spec.h"
#include "core/clock.h"
#include "probes/probe.h"

namespace lookout {

struct CertInfo {
  std::string subject;  // one line, as "CN=portal.test, O=Acme"
  std::string issuer;
  WallTime not_before;
  WallTime not_after;
};

struct CertObservation {
  std::vector<CertInfo> chain;  // leaf first, as verified (or as far as it could be built)
  int verify_error = 0;         // X509_V_OK (0) or the first X509_V_ERR_* seen
  int error_depth = 0;          // where in the chain it was seen
  std::string verify_error_text;
  bool name_ok = false;
  std::vector<std::string> names;  // the leaf's DNS and IP names, for the cause
};

struct CertVerdict {
  Outcome outcome = Outcome::kUp;
  ErrorKind kind = ErrorKind::kNone;
  std::string cause;
  std::optional<WallTime> not_after;  // the earliest of the chain
};

CertVerdict judge_certificate(const CertCheck& check, const CertObservation& obs, WallTime now);

}  // namespace lookout
