// Maintenance windows, from the config's [[maintenance]] blocks and from the admin API, in one
// place: the loop owns this book, asks it whether a monitor is in maintenance, and publishes
// what it lists. Pure; storage persists what it decides.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "store/records.h"

namespace lookout {

// What the admin API hands in, as given (checked here).
struct MaintenanceDraft {
  std::string title, body, start, duration;
  std::vector<std::string> monitors;
};

// A change asked for through the admin API: a new window, or the deletion of `remove_id`.
struct MaintenanceCommand {
  std::string remove_id;
  MaintenanceDraft draft;
};

struct MaintenanceChange {
  enum class Code { kDone, kInvalid, kUnknown, kFromConfig } code = Code::kDone;
  std::string error;  // kInvalid: what to fix
  MaintenanceRecord window;
};

// A window as listed: its id ("7" made through the API, "config-2" for the config's second
// block, which only a config change removes) and where it came from.
struct ListedMaintenance {
  std::string id;
  bool from_config = false;
  MaintenanceRecord window;
  bool active(WallTime now) const { return window.start <= now && now < window.end(); }
};

// Glob match on a monitor name, as the config's maintenance and route matches use.
bool maintenance_covers(const MaintenanceRecord& w, const std::string& monitor, WallTime t);

class MaintenanceBook {
 public:
  // What storage kept of the API's windows, and the config's blocks (again on every reload).
  void load(std::vector<MaintenanceRecord> stored);
  void set_config(const std::vector<MaintenanceWindow>& blocks);

  // `matches_any` says whether a name or glob matches a configured monitor. A window that has
  // already ended is refused: it would change nothing and could only confuse the list.
  MaintenanceChange add(const MaintenanceDraft& draft, WallTime now,
                        const std::function<bool(const std::string&)>& matches_any);
  // `id` as listed. A config block is kFromConfig (the API answers 409).
  MaintenanceChange remove(const std::string& id);

  bool covers(const std::string& monitor, WallTime t) const;
  // The first start or end of a window after `t`: when what covers() says may next change.
  std::optional<WallTime> next_edge(WallTime t) const;
  // Upcoming and active windows, soonest first (ended ones are not listed).
  std::vector<ListedMaintenance> listed(WallTime now) const;

 private:
  std::vector<MaintenanceRecord> config_, api_;
  int64_t next_id_ = 1;
};

}  // namespace lookout
