// Certificates made by the tests with OpenSSL, with any validity window: valid, expiring,
// expired, not yet valid, self-signed, for the wrong name, signed by an expired intermediate.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tests/integration/harness.h"

namespace lookout::testing {

struct TestCert {
  std::string cert;   // PEM file: this certificate, then its intermediates (a chain file)
  std::string key;    // PEM private key
  int64_t not_after;  // Unix seconds
  std::string pem;    // this certificate alone
};

class CertFactory {
 public:
  explicit CertFactory(const TempDir& dir) : dir_(dir) {}
  struct Spec {
    std::string name;               // file stem and CN
    std::vector<std::string> sans;  // "DNS:x" or "IP:1.2.3.4"
    int64_t from_s = -86'400;       // not-before, relative to now
    int64_t until_s = 90 * 86'400;  // not-after, relative to now
    bool ca = false;
  };
  // Signed by `issuer` (self-signed when null).
  TestCert make(const Spec& spec, const TestCert* issuer = nullptr);

 private:
  const TempDir& dir_;
};

}  // namespace lookout::testing
