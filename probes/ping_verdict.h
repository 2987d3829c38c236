// What a ping run's echoes add up to: the loss and the median round trip judged against
// expect.max_loss and expect.max_rtt. Pure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "probes/probe.h"

namespace lookout {

struct PingVerdict {
  Outcome outcome = Outcome::kUp;
  ErrorKind kind = ErrorKind::kNone;
  std::string cause;                     // empty when up
  std::optional<int64_t> median_rtt_us;  // nullopt when no echo came back
  double loss_percent = 0;
};

// `sent` echoes, of which the ones in `rtts_us` came back. Every echo lost is DOWN; more lost
// than `max_loss` percent, or a median above `max_rtt`, is DEGRADED (both named when both).
PingVerdict judge_ping(int sent, const std::vector<int64_t>& rtts_us,
                       std::optional<double> max_loss, std::optional<Duration> max_rtt);

// The middle value (the mean of the two middle ones for an even count); nullopt when empty.
std::optional<int64_t> median_of(std::vector<int64_t> values);

// A round trip for a cause: "140ms", "0.4ms", "12.5ms" (one decimal at most).
std::string format_rtt(int64_t us);

}  // namespace lookout
