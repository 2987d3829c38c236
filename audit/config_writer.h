// The audit as monitoring: a lookout config whose monitors keep each passing item true (the
// certificate, the redirects, the headers, the private routes, the journeys, the mail domain's
// records and MX certificates, the p95). Pure: what the audit saw in, TOML text out.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "audit/audit.h"
#include "probes/http_expect.h"

namespace lookout::audit {

// The headers of `page` a monitor can require, each with a part of its value that must stay,
// for the header checks that passed.
std::vector<std::pair<std::string, std::string>> kept_headers(
    const HttpObservation& page, const std::vector<CheckResult>& checks);

// The journey monitors of a lookout config's text, as TOML (their ${env:...} references kept
// as written). Empty when there are none or the text does not parse.
std::string journey_monitors_toml(std::string_view config_text);

// `journeys` is journey_monitors_toml() of the --journey file; `today` dates the header.
std::string write_config(const AuditOptions& o, const AuditReport& r, const std::string& journeys,
                         const std::string& today);

// A TOML basic string.
std::string toml_quote(std::string_view s);

}  // namespace lookout::audit
