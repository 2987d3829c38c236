// When a notification that did not go out is tried again, and when it no longer is. Pure, so
// the schedule is tested without a channel or a clock.
#pragma once

#include <optional>

#include "alerting/channels/channel.h"
#include "core/clock.h"

namespace lookout {

// Delay before attempt `attempts + 1`: 1 s doubling to at most 5 min, with +-25 % jitter
// (`jitter01` in [0, 1)), so that retries of many rows do not all fall on the same moment.
Duration retry_backoff(int attempts, double jitter01);

// A provider's Retry-After (an answer's header, on a 429 or 503) wins when it asks for longer,
// up to an hour, so a provider that asks for a day does not hold an alert back that long.
inline constexpr Duration kMaxRetryAfter{3'600'000};
Duration retry_delay(int attempts, double jitter01, std::optional<Duration> retry_after);

// Of two waits a provider asked for (its Retry-After header and the hint in its body, such as
// Telegram's parameters.retry_after), the longer: a retry comes no sooner than either says.
std::optional<Duration> longer_wait(std::optional<Duration> a, std::optional<Duration> b);

// An outbox row's status after an attempt, as stored.
enum class DeliveryStatus { kSent, kFailed, kGaveUp, kPending };
const char* to_string(DeliveryStatus s);  // sent | failed | gave_up | pending

// A permanent failure is never retried; a failure worth retrying is, until the row is
// `give_up_after` old.
DeliveryStatus status_after_attempt(DeliveryOutcome::Kind outcome, WallTime created, WallTime now,
                                    Duration give_up_after);

}  // namespace lookout
