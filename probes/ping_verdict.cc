#include "probes/ping_verdict.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "core/units.h"

namespace lookout {

std::optional<int64_t> median_of(std::vector<int64_t> values) {
  if (values.empty()) return std::nullopt;
  const size_t mid = values.size() / 2;
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(mid), values.end());
  const int64_t upper = values[mid];
  if (values.size() % 2 == 1) return upper;
  const int64_t lower =
      *std::max_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(mid));
  return lower + (upper - lower) / 2;
}

std::string format_rtt(int64_t us) {
  std::string s = fmt::format("{:.1f}", static_cast<double>(us) / 1000.0);
  if (s.size() > 2 && s.compare(s.size() - 2, 2, ".0") == 0) s.resize(s.size() - 2);
  return s + "ms";
}

PingVerdict judge_ping(int sent, const std::vector<int64_t>& rtts_us,
                       std::optional<double> max_loss, std::optional<Duration> max_rtt) {
  PingVerdict v;
  const int received = static_cast<int>(rtts_us.size());
  const int lost = std::max(0, sent - received);
  v.loss_percent = sent > 0 ? 100.0 * lost / sent : 0;
  v.median_rtt_us = median_of(rtts_us);
  if (received == 0) {
    v.outcome = Outcome::kDown;
    v.kind = ErrorKind::kConnect;
    v.cause = fmt::format("{} of {} echoes lost", lost, sent);
    return v;
  }
  std::vector<std::string> problems;
  if (max_loss && v.loss_percent > *max_loss) {
    v.kind = ErrorKind::kExpectation;
    problems.push_back(fmt::format("{} of {} echoes lost ({:.0f}%, above {:g}%)", lost, sent,
                                   v.loss_percent, *max_loss));
  }
  if (max_rtt &&
      *v.median_rtt_us > std::chrono::duration_cast<std::chrono::microseconds>(*max_rtt).count()) {
    if (problems.empty()) v.kind = ErrorKind::kSlow;
    problems.push_back(fmt::format("median rtt {} above {}", format_rtt(*v.median_rtt_us),
                                   format_duration(*max_rtt)));
  }
  if (!problems.empty()) {
    v.outcome = Outcome::kDegraded;
    v.cause = fmt::format("{}", fmt::join(problems, "; "));
  }
  return v;
}

}  // namespace lookout
