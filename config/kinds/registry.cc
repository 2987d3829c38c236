#include "config/kinds/registry.h"

#include "core/text.h"

namespace lookout::config_detail {

// One line per kind, each defined in its own file.
extern const KindParser kHttpKind;
extern const KindParser kJourneyKind;
extern const KindParser kCertKind;
extern const KindParser kDnsKind;
extern const KindParser kLatencyKind;
extern const KindParser kHeartbeatKind;
extern const KindParser kTcpKind;
extern const KindParser kPingKind;
extern const KindParser kDomainKind;
extern const KindParser kGrpcKind;
extern const KindParser kWebSocketKind;
extern const KindParser kExecKind;
extern const KindParser kDnssecKind;

namespace {
const KindParser* const kKinds[] = {&kHttpKind,    &kJourneyKind,   &kCertKind,      &kDnsKind,
                                    &kLatencyKind, &kHeartbeatKind, &kTcpKind,       &kPingKind,
                                    &kDomainKind,  &kGrpcKind,      &kWebSocketKind, &kExecKind,
                                    &kDnssecKind};
}  // namespace

std::span<const KindParser* const> kinds() { return kKinds; }

const KindParser* find_kind(std::string_view name) {
  for (const KindParser* k : kKinds) {
    if (k->name == name) return k;
  }
  return nullptr;
}

std::string kind_names() {
  std::vector<std::string_view> names;
  for (const KindParser* k : kKinds) names.push_back(k->name);
  return or_list(names);
}

}  // namespace lookout::config_detail

namespace lookout {

std::vector<std::string> monitor_kinds() {
  std::vector<std::string> out;
  for (const auto* k : config_detail::kinds()) out.emplace_back(k->name);
  return out;
}

}  // namespace lookout
