// Maintenance windows through the admin API, on the loop: the alert engine's book (which also
// holds the config's [[maintenance]] blocks) decides, storage keeps the API's windows (a
// cluster's PostgreSQL in cluster mode), and the next snapshot lists them.
#include <fnmatch.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <memory>

#include "core/units.h"
#include "daemon/daemon.h"

namespace lookout {

namespace {

bool maintenance_matches_any(const Config& config, const std::string& glob) {
  return std::any_of(config.monitors.begin(), config.monitors.end(), [&](const MonitorConfig& m) {
    return fnmatch(glob.c_str(), m.name.c_str(), 0) == 0;
  });
}

}  // namespace

std::optional<MaintenanceChange> Daemon::request_maintenance(MaintenanceCommand command) {
  return maintenance_requests_.ask(std::move(command), *ack_async_);
}

void Daemon::drain_maintenance_requests() {
  auto requests = maintenance_requests_.take();
  if (requests.empty()) return;
  if (cluster_) {
    drain_cluster_maintenance(std::move(requests));
    return;
  }
  MaintenanceBook& book = alerts_->maintenance();
  const auto matches_any = [this](const std::string& glob) {
    return maintenance_matches_any(*config_, glob);
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

// In cluster mode the windows live in PostgreSQL, shared by the nodes: a draft is checked here
// as on one node, the database numbers it, and each request is answered once its statement
// committed and this node's list (so its book and snapshot) has the change.
void Daemon::drain_cluster_maintenance(
    std::deque<LoopRequests<MaintenanceCommand, MaintenanceChange>::Request> requests) {
  for (auto& req : requests) {
    auto held = std::make_shared<LoopRequests<MaintenanceCommand, MaintenanceChange>::Request>(
        std::move(req));
    const MaintenanceCommand& c = held->command;
    const bool adding = c.remove_id.empty();
    auto answer = [this, held, adding](MaintenanceChange change) {
      if (change.code == MaintenanceChange::Code::kDone) {
        const MaintenanceRecord& w = change.window;
        if (adding) {
          spdlog::info("maintenance {} \"{}\" planned from {} for {}", w.id, w.title,
                       rfc3339(w.start), format_duration(w.duration));
        } else {
          spdlog::info("maintenance {} \"{}\" deleted", w.id, w.title);
        }
        dirty_ = true;
        publish_snapshot();
      }
      held->answer.set_value(std::move(change));
    };
    if (adding) {
      MaintenanceChange checked = check_maintenance(
          c.draft, clock_.wall(),
          [this](const std::string& glob) { return maintenance_matches_any(*config_, glob); });
      if (checked.code != MaintenanceChange::Code::kDone) {
        answer(std::move(checked));
        continue;
      }
      cluster_->add_maintenance(std::move(checked.window), std::move(answer));
      continue;
    }
    if (const auto block = alerts_->maintenance().config_block(c.remove_id)) {
      answer(MaintenanceChange{*block, {}, {}});
      continue;
    }
    const auto id = api_maintenance_id(c.remove_id);
    if (!id) {
      answer(MaintenanceChange{MaintenanceChange::Code::kUnknown, {}, {}});
      continue;
    }
    cluster_->remove_maintenance(*id, std::move(answer));
  }
}

}  // namespace lookout
