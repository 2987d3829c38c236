// The monitor kinds' probes by the kind's name: one line per kind, beside the config's line
// for the same kind (config/kinds/registry.cc).
#include "config/config.h"
#include "probes/cert_probe.h"
#include "probes/dns_probe.h"
#include "probes/dnssec_probe.h"
#include "probes/domain_probe.h"
#include "probes/exec_probe.h"
#include "probes/grpc_probe.h"
#include "probes/http_probe.h"
#include "probes/journey_probe.h"
#include "probes/latency_probe.h"
#include "probes/ping_probe.h"
#include "probes/probe.h"
#include "probes/tcp_probe.h"
#include "probes/websocket_probe.h"

namespace lookout {
namespace {

using Factory = std::unique_ptr<Probe> (*)(const MonitorConfig&, ProbeContext&,
                                           std::shared_ptr<const Redactor>);

template <typename P>
std::unique_ptr<Probe> make(const MonitorConfig& m, ProbeContext& ctx,
                            std::shared_ptr<const Redactor> redactor) {
  return std::make_unique<P>(m, ctx, std::move(redactor));
}

struct ProbeKind {
  std::string_view name;
  Factory make;
};

const ProbeKind kProbeKinds[] = {
    {"http", make<HttpProbe>},
    {"latency", make<LatencyProbe>},
    {"journey", make<JourneyProbe>},
    {"cert", make<CertProbe>},
    {"dns", make<DnsProbe>},
    {"grpc", make<GrpcProbe>},
    {"websocket", make<WebSocketProbe>},
    {"tcp", make<TcpProbe>},
    {"ping", make<PingProbe>},
    {"domain", make<DomainProbe>},
    {"exec", make<ExecProbe>},
    {"dnssec", make<DnssecProbe>},
};

const ProbeKind* find(std::string_view kind) {
  for (const auto& k : kProbeKinds) {
    if (k.name == kind) return &k;
  }
  return nullptr;
}

}  // namespace

std::unique_ptr<Probe> make_probe(const MonitorConfig& m, ProbeContext& ctx,
                                  std::shared_ptr<const Redactor> redactor) {
  const ProbeKind* k = find(m.type);
  return k != nullptr ? k->make(m, ctx, std::move(redactor)) : nullptr;
}

bool has_probe(std::string_view kind) { return find(kind) != nullptr; }

}  // namespace lookout
