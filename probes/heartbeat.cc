#include "probes/heartbeat.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <chrono>

#include "core/digest.h"
#include "core/text.h"
#include "core/units.h"

namespace lookout {
namespace {

// "2026-12-04T03:30:00Z": to the second, as a person reads a due time.
std::string at_second(WallTime t) {
  std::string s = rfc3339(t);
  // resize and append, not substr() + "Z": GCC 12 warns of an out-of-bounds copy there.
  if (s.size() > 19) {
    s.resize(19);
    s += 'Z';
  }
  return s;
}

// The first line of what the job said, as the cause of a failed run.
std::string first_line(std::string_view body) {
  const size_t end = body.find_first_of("\r\n");
  std::string line = trim(body.substr(0, end));
  for (char& c : line) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  if (line.size() > 200) {
    line.resize(197);
    line += "...";
  }
  return line;
}

}  // namespace

std::string derived_ping_token(std::string_view key, std::string_view monitor) {
  return hmac_sha256_hex(key, fmt::format("heartbeat/{}", monitor)).substr(0, 32);
}

std::string ping_token_digest(std::string_view token) { return sha256_hex(token); }

std::optional<Ping> ping_of(std::string_view suffix) {
  Ping p;
  if (suffix.empty()) return p;
  if (suffix == "start") {
    p.kind = Ping::Kind::kStart;
  } else if (suffix == "fail") {
    p.kind = Ping::Kind::kFail;
  } else if (suffix == "log") {
    p.kind = Ping::Kind::kLog;
  } else {
    int status = -1;
    const auto [end, ec] = std::from_chars(suffix.data(), suffix.data() + suffix.size(), status);
    if (ec != std::errc() || end != suffix.data() + suffix.size() || status < 0 || status > 255 ||
        (suffix.size() > 1 && suffix.front() == '0'))
      return std::nullopt;
    p.kind = Ping::Kind::kExitStatus;
    p.exit_status = status;
  }
  return p;
}

void HeartbeatTracker::restore(WallTime last_ping, bool up) {
  last_ping_ = last_ping;
  last_any_ping_ = last_ping;
  up_ = up;
}

void HeartbeatTracker::restore(HeartbeatMemory memory) {
  last_ping_ = memory.last_ping;
  last_any_ping_ = memory.last_any_ping ? memory.last_any_ping : memory.last_ping;
  up_ = memory.up;
  starts_ = std::move(memory.starts);
  last_message_ = std::move(memory.last_message);
}

HeartbeatMemory HeartbeatTracker::memory() const {
  return {last_ping_, last_any_ping_, up_, starts_, last_message_};
}

std::optional<ProbeResult> HeartbeatTracker::on_ping(const Ping& ping) {
  last_any_ping_ = ping.at;
  if (!ping.body.empty()) last_message_ = PingMessage{ping.at, ping.body};
  if (ping.kind == Ping::Kind::kLog) return std::nullopt;
  if (ping.kind == Ping::Kind::kStart) {
    if (starts_.size() >= kMaxOpenStarts && starts_.count(ping.rid) == 0) {
      starts_.erase(std::min_element(starts_.begin(), starts_.end(),
                                     [](auto& a, auto& b) { return a.second < b.second; }));
    }
    starts_[ping.rid] = ping.at;
    return std::nullopt;
  }
  const bool success = ping.kind == Ping::Kind::kSuccess ||
                       (ping.kind == Ping::Kind::kExitStatus && ping.exit_status == 0);
  ProbeResult r;
  r.started_at = ping.at;
  // The run's time is from its start to this ping, when the job said it started.
  if (auto it = starts_.find(ping.rid); it != starts_.end()) {
    const auto us =
        std::chrono::duration_cast<std::chrono::microseconds>(ping.at - it->second).count();
    r.timings.total_us = std::max<int64_t>(0, us);
    r.samples_us.push_back(*r.timings.total_us);
    starts_.erase(it);
  }
  if (!ping.body.empty()) r.detail = nlohmann::json{{"message", ping.body}}.dump();
  last_ping_ = ping.at;
  up_ = success;
  if (success) {
    r.outcome = Outcome::kUp;
    r.kind = ErrorKind::kNone;
    return r;
  }
  r.outcome = Outcome::kDown;
  r.kind = ErrorKind::kJobFailed;
  r.cause = first_line(ping.body);
  if (r.cause.empty()) {
    r.cause = ping.kind == Ping::Kind::kFail
                  ? "the job reported a failure"
                  : fmt::format("the job exited with status {}", ping.exit_status);
  }
  return r;
}

std::optional<WallTime> HeartbeatTracker::next_due() const {
  if (!last_ping_) return std::nullopt;
  if (spec_.period) return *last_ping_ + *spec_.period;
  if (spec_.calendar) return spec_.calendar->next_after(*last_ping_);
  return std::nullopt;
}

std::optional<WallTime> HeartbeatTracker::runtime_deadline() const {
  if (!spec_.max_runtime || starts_.empty()) return std::nullopt;
  const auto first = std::min_element(starts_.begin(), starts_.end(),
                                      [](auto& a, auto& b) { return a.second < b.second; });
  return first->second + *spec_.max_runtime;
}

std::optional<WallTime> HeartbeatTracker::deadline() const {
  std::optional<WallTime> due;
  if (up_) {
    if (auto next = next_due()) due = *next + spec_.grace;
  }
  const auto runtime = runtime_deadline();
  if (due && runtime) return std::min(*due, *runtime);
  return due ? due : runtime;
}

ProbeResult HeartbeatTracker::overdue(WallTime now) {
  ProbeResult r;
  r.outcome = Outcome::kDown;
  r.kind = ErrorKind::kLate;
  r.started_at = now;
  const auto runtime = runtime_deadline();
  const auto next = up_ ? next_due() : std::nullopt;
  if (runtime && (!next || *runtime <= *next + spec_.grace)) {
    const auto first = std::min_element(starts_.begin(), starts_.end(),
                                        [](auto& a, auto& b) { return a.second < b.second; });
    r.cause = fmt::format("started at {} and did not finish within max_runtime {}",
                          at_second(first->second), format_duration(*spec_.max_runtime));
    starts_.erase(first);
  } else if (next) {
    r.cause = fmt::format("no ping since {}; due by {}", at_second(*last_ping_),
                          at_second(*next + spec_.grace));
  } else {
    r.cause = "no ping";
  }
  up_ = false;
  return r;
}

}  // namespace lookout
