// `lookout audit`: the launch-readiness checks of a web app seen from outside, run once on a
// loop of their own through the probes' HTTP exchange, cert, dns, latency and journey code.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "audit/check.h"
#include "config/config.h"
#include "core/clock.h"
#include "probes/http_expect.h"

namespace lookout::audit {

struct AuditOptions {
  std::string url;       // the app, https:// (an http:// URL is audited on https://)
  std::string http_url;  // where the plain-HTTP redirect is checked; derived when empty
  std::vector<std::string> private_paths;
  std::string journey_file;  // a lookout config whose journey monitors are run
  std::string mail_domain;
  std::vector<std::string> dkim_selectors;
  std::string resolver;  // IP[:port] for the mail domain's DNS checks; empty: the system's
  std::string ca_file;   // trusted for the app's and the MX hosts' certificates
  std::optional<std::string> rate_limit_path;
  int latency_samples = 20;
  Duration latency_budget{500};
  Duration timeout{10'000};  // each request, handshake and DNS question
  uint16_t mx_port = 25;
};

// The targets an audit derives from its options, checked before anything is sent.
struct Targets {
  std::string https_url;
  std::string host;  // lower case, without brackets
  uint16_t port = 443;
  std::string http_url;
  std::string www_http_url;       // empty when the host has no www. form (an address, localhost)
  std::string registered_domain;  // acme.co.uk for portal.acme.co.uk; empty for an address
};
// The targets, or the reason the options are wrong (exit 2).
std::optional<Targets> derive_targets(const AuditOptions& o, std::string& error);

// What the audit saw that the monitors written from it need.
struct AuditFacts {
  std::vector<std::string> mx_hosts;                 // MX hosts whose STARTTLS certificate passed
  std::vector<std::pair<std::string, int>> refused;  // private paths that refused, and how
  std::string dnssec_record = "A";                   // the host's record that validated
};

struct AuditReport {
  Targets targets;
  HttpObservation page;  // the app's page: status and headers (its body is not kept)
  std::vector<CheckResult> checks;
  AuditFacts facts;
};

// Runs every check. `journey` is the loaded journey file (when given). Never throws for what
// the app does; a check that cannot run says why in its evidence.
AuditReport run_audit(const AuditOptions& o, const Targets& t, const Config* journey,
                      const Clock& clock);

}  // namespace lookout::audit
