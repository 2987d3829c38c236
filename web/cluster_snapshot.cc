#include "web/cluster_snapshot.h"

namespace lookout {

MonitorView clustered_view(const MonitorView& view, const ClusterMonitorStatus& status) {
  MonitorView out = view;
  if (view.state != State::kMaintenance) {
    out.state = status.state;
    out.since = status.since;
  }
  out.last_check = status.last_check;
  out.last_outcome = status.last_outcome;
  out.latency_us = status.latency_us;
  out.cause = status.cause;
  out.cluster = MonitorView::Clustered{status.locations, status.decided_by};
  return out;
}

void show_cluster_status(const ClusterStatus& status, Snapshot& s) {
  for (auto& view : s.monitors) {
    const auto it = status.monitors.find(view->name);
    if (it != status.monitors.end()) {
      view = std::make_shared<const MonitorView>(clustered_view(*view, it->second));
    }
  }
  s.open_incidents = status.open_incidents;
}

}  // namespace lookout
