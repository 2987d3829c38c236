// The heartbeat kind: a job that reports in (GET/POST /ping/TOKEN), judged late when no ping
// came by its due time plus grace (probes/heartbeat).
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "config/config.h"
#include "core/calendar.h"

namespace lookout {

struct HeartbeatSpec : SpecOf<HeartbeatSpec> {
  // The secret part of the ping URL; unset: made at first start and kept in storage.
  std::optional<Secret> token;
  // Exactly one of them: a ping is due every `period` after the last one, or at each firing of
  // `schedule` (cron or OnCalendar, in `tz`) after the last one.
  std::optional<Duration> period;
  std::string schedule;
  std::string tz = "UTC";
  std::shared_ptr<const Calendar> calendar;  // parsed from schedule and tz
  Duration grace{300'000};
  std::optional<Duration> max_runtime;  // after /start, late when no success within it

  bool probed() const override { return false; }

  // The calendar follows from schedule and tz, which are compared.
  bool operator==(const HeartbeatSpec& o) const {
    return token == o.token && period == o.period && schedule == o.schedule && tz == o.tz &&
           grace == o.grace && max_runtime == o.max_runtime;
  }
};

}  // namespace lookout
