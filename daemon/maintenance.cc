// Maintenance windows through the admin API, on the loop: the alert engine's book (which also
// holds the config's [[maintenance]] blocks) decides, storage keeps the API's windows, and the
// next snapshot lists them.
#include <fnmatch.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "core/units.h"
#include "daemon/daemon.h"

namespace lookout {

std::optional<MaintenanceChange> Daemon::request_maintenance(MaintenanceCommand command) {
  return maintenance_requests_.ask(std::move(command), *ack_async_);
}

void Daemon::drain_maintenance_requests() {
  auto requests = maintenance_requests_.take();
  if (requests.empty()) return;
  MaintenanceBook& book = alerts_->maintenance();
  const auto matches_any = [this](const std::string& glob) {
    return std::any_of(
        config_->monitors.begin(), config_->monitors.end(),
        [&](const MonitorConfig& m) { return fnmatch(glob.c_str(), m.name.c_str(), 0) == 0; });
  };
  std::vector<MaintenanceChange> answers;
  bool changed = false;
  for (auto& req : requests) {
    const MaintenanceCommand& c = req.command;
    MaintenanceChange change = c.remove_id.empty() ? book.add(c.draft, clock_.wall(), matches_any)
                                                   : book.remove(c.remove_id);
    if (change.code == MaintenanceChange::Code::kDone) {
      const MaintenanceRecord& w = change.window;
      if (c.remove_id.empty()) {
        spdlog::info("maintenance {} \"{}\" planned from {} for {}", w.id, w.title,
                     rfc3339(w.start), format_duration(w.duration));
        store_->put_maintenance(w.id, w);
      } else {
        spdlog::info("maintenance {} \"{}\" deleted", w.id, w.title);
        store_->put_maintenance(w.id, std::nullopt);
      }
      changed = true;
    }
    answers.push_back(std::move(change));
  }
  if (changed) {
    dirty_ = true;
    publish_snapshot();
  }
  answer_once_committed(
      decltype(maintenance_requests_)::answering(std::move(requests), std::move(answers)));
}

}  // namespace lookout
