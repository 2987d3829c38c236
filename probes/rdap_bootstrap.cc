// The RDAP bootstrap list shipped with lookout, parsed once on first use.
#include <spdlog/spdlog.h>

#include "probes/rdap.h"
#include "probes/rdap_dns_json.h"  // generated from data/rdap-dns.json

namespace lookout {

const RdapBootstrap& shipped_rdap_bootstrap() {
  static const RdapBootstrap list = [] {
    std::string error;
    auto b = parse_rdap_bootstrap(kRdapDnsJson, error);
    // The build checks the file (a unit test parses it), so this is a broken build, not a
    // config mistake: domains then need rdap_url or whois.
    if (!b) {
      spdlog::error("the RDAP bootstrap list compiled into lookout is invalid: {}", error);
      return RdapBootstrap{};
    }
    return std::move(*b);
  }();
  return list;
}

}  // namespace lookout
