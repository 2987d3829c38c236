#include "alerting/backoff.h"

#include <algorithm>
#include <cmath>

namespace lookout {

Duration retry_backoff(int attempts, double jitter01) {
  const double base = std::min(300.0, std::pow(2.0, std::max(0, attempts - 1)));
  return Duration{static_cast<int64_t>(base * 1000.0 * (0.75 + 0.5 * jitter01))};
}

Duration retry_delay(int attempts, double jitter01, std::optional<Duration> retry_after) {
  const Duration backoff = retry_backoff(attempts, jitter01);
  if (!retry_after) return backoff;
  return std::max(backoff, std::min(*retry_after, kMaxRetryAfter));
}

std::optional<Duration> longer_wait(std::optional<Duration> a, std::optional<Duration> b) {
  if (!a) return b;
  if (!b) return a;
  return std::max(*a, *b);
}

const char* to_string(DeliveryStatus s) {
  switch (s) {
    case DeliveryStatus::kSent:
      return "sent";
    case DeliveryStatus::kFailed:
      return "failed";
    case DeliveryStatus::kGaveUp:
      return "gave_up";
    case DeliveryStatus::kPending:
      return "pending";
  }
  return "pending";
}

DeliveryStatus status_after_attempt(DeliveryOutcome::Kind outcome, WallTime created, WallTime now,
                                    Duration give_up_after) {
  switch (outcome) {
    case DeliveryOutcome::Kind::kDelivered:
      return DeliveryStatus::kSent;
    case DeliveryOutcome::Kind::kPermanent:
      return DeliveryStatus::kFailed;
    case DeliveryOutcome::Kind::kRetry:
      break;
  }
  return now - created >= give_up_after ? DeliveryStatus::kGaveUp : DeliveryStatus::kPending;
}

}  // namespace lookout
