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
  // kUnavailable: the store that keeps the API's windows (a cluster's PostgreSQL) could not
  // take the change now.
  enum class Code { kDone, kInvalid, kUnknown, kFromConfig, kUnavailable } code = Code::kDone;
  std::string error;  // kInvalid: what to fix; kUnavailable: what failed and what to do
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

// The checks of MaintenanceBook::add without numbering or keeping the window: kDone with the
// window (id 0), or kInvalid saying what to fix. A cluster's windows are numbered by its
// database, so its nodes check a draft here and the database numbers what passes.
MaintenanceChange check_maintenance(const MaintenanceDraft& draft, WallTime now,
                                    const std::function<bool(const std::string&)>& matches_any);
// The number of a window made through the API, from its id as listed ("7"); nullopt for any
// other text.
std::optional<int64_t> api_maintenance_id(const std::string& id);

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
  // For an id of the config's form ("config-2"): kFromConfig when it names one of the blocks,
  // else kUnknown. nullopt for any other id.
  std::optional<MaintenanceChange::Code> config_block(const std::string& id) const;

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
