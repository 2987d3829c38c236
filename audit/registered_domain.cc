#include "audit/registered_domain.h"

#include <libpsl.h>

#include "audit/url.h"

namespace lookout::audit {

std::string registered_domain(std::string_view host) {
  const std::string name(host);
  if (name.find('.') == std::string::npos || is_address(name)) return "";
  // Loaded once; psl_latest prefers the system's list, which Debian updates, over the copy
  // compiled into libpsl.
  static const psl_ctx_t* const psl = [] {
    const psl_ctx_t* latest = psl_latest(nullptr);
    return latest != nullptr ? latest : psl_builtin();
  }();
  if (psl == nullptr) return "";
  const char* domain = psl_registrable_domain(psl, name.c_str());
  return domain != nullptr ? std::string(domain) : std::string();
}

}  // namespace lookout::audit
