// What the web tests share: monitors and a snapshot put together by hand, on a fixed day.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "web/snapshot.h"

namespace lookout::test {

// 2026-11-01T00:00:00Z
inline const WallTime kWebDay{std::chrono::sys_days{std::chrono::year{2026} / 11 / 1}};

inline MonitorView monitor_view(std::string name, std::string group, State state,
                                bool is_public = true) {
  MonitorView v;
  v.name = std::move(name);
  v.group = std::move(group);
  v.type = "http";
  v.is_public = is_public;
  v.state = state;
  return v;
}

inline Snapshot snapshot_of(std::string title, std::vector<MonitorView> views) {
  Snapshot s;
  s.title = std::move(title);
  s.built_at = kWebDay;
  for (auto& v : views) s.monitors.push_back(std::make_shared<const MonitorView>(std::move(v)));
  s.monitors_total = s.monitors.size();
  return s;
}

}  // namespace lookout::test
