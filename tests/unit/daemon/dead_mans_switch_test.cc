// When lookout's notifications make it count itself unhealthy for the dead man's switch.
#include "daemon/dead_mans_switch.h"

#include <gtest/gtest.h>

namespace lookout {
namespace {

const WallTime kNow = from_unix_ms(1'790'000'000'000);

TEST(DeadMansSwitch, ANotificationDueForMoreThanTheLimitIsStuck) {
  DispatchStats stats;
  EXPECT_FALSE(stuck_notification(stats, kNow, kNotificationStuckAfter)) << "nothing pending";
  stats.oldest_due = kNow - Duration{5 * 60'000};
  stats.oldest_due_channel = "pager";
  EXPECT_FALSE(stuck_notification(stats, kNow, kNotificationStuckAfter)) << "exactly the limit";
  stats.oldest_due = kNow + Duration{60'000};
  EXPECT_FALSE(stuck_notification(stats, kNow, kNotificationStuckAfter))
      << "still gathering in its group: not due yet";
  stats.oldest_due = kNow - Duration{5 * 60'000 + 1'000};
  const auto why = stuck_notification(stats, kNow, kNotificationStuckAfter);
  ASSERT_TRUE(why);
  EXPECT_EQ(*why, "a notification through pager has been due for 5m1s and is not delivered");
}

}  // namespace
}  // namespace lookout
