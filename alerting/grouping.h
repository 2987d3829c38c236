// Alert storms, as pure logic. When a shared dependency fails, hundreds of monitors open
// incidents within seconds; on-call wants one message that says so, not hundreds. The
// notifications of one route to one channel (and one SMS number) that fall within the route's
// group_wait of the first go out together; later ones wait until group_interval has passed
// since the group's previous send. A test notification has no route and always goes alone.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "alerting/incidents.h"
#include "daemon/clock.h"

namespace lookout {

struct GroupTiming {
  Duration wait{0};
  Duration interval{0};
};

// Route, channel and recipient; empty for a row that never groups (a test).
std::string group_key(const OutboxRow& row);

class GroupSchedule {
 public:
  // When a new notification of `key`, made at `created_ms`, may go: with the group that is
  // forming, else group_wait after it but no sooner than group_interval after the last send.
  int64_t admit(const std::string& key, int64_t created_ms, GroupTiming timing);
  // A batch of `key` left: the next notification starts a new group.
  void sent(const std::string& key, int64_t now_ms);

 private:
  struct Group {
    std::optional<int64_t> forming_until;  // the send time of the group being gathered
    std::optional<int64_t> last_sent;
  };
  std::map<std::string, Group> groups_;
};

// Worst first: down, degraded, an acknowledgement, a resolution, a test; within each, by
// monitor name.
void order_worst_first(std::vector<OutboxRow>& rows);

}  // namespace lookout
