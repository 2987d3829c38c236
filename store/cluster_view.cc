#include "store/cluster_view.h"

#include <algorithm>
#include <array>
#include <map>
#include <string>

#include "store/lease_plan.h"

namespace lookout {
namespace {

bool probed_from(const MonitorConfig& m, const std::string& location) {
  if (!m.spec->probed()) return false;
  return !m.locations ||
         std::find(m.locations->begin(), m.locations->end(), location) != m.locations->end();
}

}  // namespace

std::vector<ClusterNodeView> cluster_nodes(const std::vector<NodeRow>& nodes,
                                           const std::vector<LeaseRow>& leases,
                                           const std::vector<MonitorConfig>& monitors) {
  std::array<std::vector<const MonitorConfig*>, kLeaseShards> by_shard;
  for (const auto& m : monitors) by_shard.at(shard_of(m.name)).push_back(&m);
  std::map<std::string, std::vector<const LeaseRow*>> held;
  for (const auto& l : leases) {
    if (!l.holder.empty() && l.remaining_ms > 0) held[l.holder].push_back(&l);
  }
  const LeaseSpace eval = LeaseSpace::evaluation();
  std::vector<ClusterNodeView> out;
  out.reserve(nodes.size());
  for (const NodeRow& n : nodes) {
    ClusterNodeView v{n, 0, 0};
    const auto it = held.find(n.node);
    if (it != held.end()) {
      const LeaseSpace probe = LeaseSpace::probing(n.location);
      for (const LeaseRow* l : it->second) {
        if (const auto shard = probe.shard(l->name)) {
          const auto& ms = by_shard.at(*shard);
          v.probing +=
              static_cast<size_t>(std::count_if(ms.begin(), ms.end(), [&](const MonitorConfig* m) {
                return probed_from(*m, n.location);
              }));
        } else if (const auto decided = eval.shard(l->name)) {
          v.deciding += by_shard.at(*decided).size();
        }
      }
    }
    out.push_back(std::move(v));
  }
  return out;
}

}  // namespace lookout
