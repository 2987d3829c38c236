// Alert storms, as pure logic. When a shared dependency fails, hundreds of monitors open
// incidents within seconds; on-call wants one message that says so, not hundreds, and yet a
// lone incident must page at once. A group is one route, one channel and one SMS number.
// Leading (the default): a quiet group's first notification goes at once and makes the group
// hot for group_wait; what arrives while it is hot gathers and goes as one message when it
// cools, so nothing waits longer than group_wait and a storm is two messages. Alertmanager: the
// first notification waits group_wait for company, later ones until group_interval has passed since
// the group's previous send. A test notification has no route and always goes alone.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "alerting/incidents.h"
#include "config/config.h"
#include "core/clock.h"

namespace lookout {

struct GroupTiming {
  Duration wait{0};
  Duration interval{0};  // alertmanager mode only
  GroupMode mode = GroupMode::kLeading;
};

// Route, channel and recipient; empty for a row that never groups (a test).
std::string group_key(const OutboxRow& row);

class GroupSchedule {
 public:
  // When a new notification of `key`, made at `created_ms`, may go: with the group that is
  // forming, else by the mode (see the top of this file).
  int64_t admit(const std::string& key, int64_t created_ms, GroupTiming timing);
  // A batch of `key` left: the next notification starts a new group.
  void sent(const std::string& key, int64_t now_ms);

 private:
  struct Group {
    std::optional<int64_t> forming_until;  // the send time of the group being gathered
    bool forming_leads = false;            // leading: it is a quiet group's first message
    Duration wait{0};                      // leading: how long its send keeps the group hot
    std::optional<int64_t> hot_until;      // leading
    std::optional<int64_t> last_sent;      // alertmanager
  };
  std::map<std::string, Group> groups_;
};

// Worst first: down, degraded, a post, an acknowledgement, a resolution, a test; within each,
// by monitor name (posts as they came).
void order_worst_first(std::vector<OutboxRow>& rows);

}  // namespace lookout
