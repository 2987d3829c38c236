// What an OpenSSL verification shows, for every kind that makes a TLS handshake and judges the
// certificate with judge_certificate (probes/cert_check.h): called from the verify callback,
// it records the chain OpenSSL built, the first error and whether the leaf names the host, so
// an expired, untrusted or self-signed certificate still comes with its subject, issuer and
// dates, worded the same in every kind.
#pragma once

#include <openssl/x509.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "probes/cert_check.h"

namespace lookout {

// Records one call of the verify callback into `obs`; true once the leaf (depth 0) was seen,
// when the chain is as complete as it will get. `host` is the name (or IP address) the
// certificate must carry. A host name mismatch reported by OpenSSL (when the caller set the
// host in the verify parameters) shows as `name_ok`, not as the verification error, so that a
// wrong name reads the same whether or not OpenSSL checked it.
bool observe_verification(int ok, X509_STORE_CTX* store, const std::string& host,
                          CertObservation& obs);

// The chain as a run's detail shows it: subject, issuer, not_before, not_after per certificate.
nlohmann::json chain_json(const std::vector<CertInfo>& chain);

}  // namespace lookout
