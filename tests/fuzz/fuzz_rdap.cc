// RDAP answers (as a registry, or anyone on the path of a plain-http rdap_url, may send them)
// to an expiry; the same bytes as a bootstrap list, and a lookup in it.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "probes/rdap.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  const lookout::RdapDomain d = lookout::parse_rdap_domain(body);
  if (d.expires && !d.problem.empty()) __builtin_trap();
  if (!d.expires && d.problem.empty()) __builtin_trap();
  std::string error;
  if (auto b = lookout::parse_rdap_bootstrap(body, error)) {
    (void)lookout::rdap_base_for(*b, "portal.acme.example");
    (void)lookout::rdap_base_for(*b, body.substr(0, 80));
  } else if (error.empty()) {
    __builtin_trap();
  }
  (void)lookout::rdap_domain_url(body.substr(0, 80), "acme.example");
  return 0;
}
