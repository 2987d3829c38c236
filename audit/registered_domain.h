// The domain a host name was registered under (portal.acme.co.uk -> acme.co.uk), by the Public
// Suffix List as libpsl reads it from Debian's publicsuffix package (its built-in copy when that
// file is missing).
#pragma once

#include <string>
#include <string_view>

namespace lookout::audit {

// Empty for an address, a name with a single label (localhost), or a public suffix itself.
std::string registered_domain(std::string_view host);

}  // namespace lookout::audit
