// lookout's own dead man's switch ([heartbeat]): an outside check (healthchecks.io, Cronitor,
// another lookout's /ping/TOKEN) is requested every `every`, and only while lookout is healthy,
// so that when lookout dies, wedges or cannot deliver, the outside check misses it and alerts.
#pragma once

#include <curl/curl.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "alerting/dispatcher.h"
#include "config/config.h"
#include "core/event_loop.h"
#include "web/server.h"

namespace lookout {

class CurlBridge;
class Transfer;

// How long a due notification may stay undelivered before lookout counts itself unhealthy.
inline constexpr Duration kNotificationStuckAfter{5 * 60'000};

// Why lookout is not healthy because of its notifications (one due for longer than `limit` and
// still not delivered), or nullopt. Pure.
std::optional<std::string> stuck_notification(const DispatchStats& stats, WallTime now,
                                              Duration limit);

class DeadMansSwitch {
 public:
  using Health = std::function<HealthReport()>;
  // `changed` runs when what configured() or last_success() say changes (for the snapshot).
  DeadMansSwitch(CurlBridge& curl, const Clock& clock, Health health,
                 std::function<void()> changed);
  ~DeadMansSwitch();
  DeadMansSwitch(const DeadMansSwitch&) = delete;
  DeadMansSwitch& operator=(const DeadMansSwitch&) = delete;

  // Starts, changes or (nullopt) stops it; the first request goes at once. `redactor` masks
  // the URL's token in what is logged.
  void configure(const std::optional<DeadMansSwitchConfig>& cfg,
                 std::shared_ptr<const Redactor> redactor);
  bool configured() const { return cfg_.has_value(); }
  // When the outside check last answered with a 2xx.
  std::optional<WallTime> last_success() const { return last_success_; }

 private:
  void tick();
  void answered(CURLcode code, long status, const std::string& detail);

  CurlBridge& curl_;
  const Clock& clock_;
  Health health_;
  std::function<void()> changed_;
  Timer timer_;
  std::optional<DeadMansSwitchConfig> cfg_;
  std::shared_ptr<const Redactor> redactor_;
  std::unique_ptr<Transfer> transfer_;  // the request in flight
  std::optional<WallTime> last_success_;
  // Only changes are logged: a check that fails every minute says so once, and once more when
  // it works again.
  std::string skipped_because_;
  bool failing_ = false;
};

}  // namespace lookout
