// The heartbeat kind's judgement, pure: what a ping from a job means, and when the job is late.
// The daemon owns one tracker per heartbeat monitor, feeds it the pings that arrive on
// /ping/TOKEN and sets a loop timer for its deadline; nothing here reads a clock.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "config/kinds/heartbeat_spec.h"
#include "core/clock.h"
#include "probes/probe.h"

namespace lookout {

struct Ping {
  enum class Kind { kSuccess, kStart, kFail, kExitStatus, kLog };
  Kind kind = Kind::kSuccess;
  int exit_status = 0;  // kExitStatus: 0 is a success
  std::string rid;      // ?rid=, pairs a start with its end when runs overlap
  std::string body;     // a POST body, at most kMaxPingBody bytes
  WallTime at;
};

inline constexpr size_t kMaxPingBody = 10 * 1024;

// What a job said with a ping (its POST body, any kind of ping), shown with the admin token.
struct PingMessage {
  WallTime at;
  std::string text;
  bool operator==(const PingMessage&) const = default;
};

// What a tracker knows beyond the monitor's runs, kept in storage so that a restart (even a
// kill -9) carries on from it: the last success or failure and which it was, the last ping of
// any kind, the starts of jobs still running (by rid), and the last message.
struct HeartbeatMemory {
  std::optional<WallTime> last_ping;      // the last success or failure
  std::optional<WallTime> last_any_ping;  // also starts and log messages
  bool up = false;
  std::map<std::string, WallTime> starts;
  std::optional<PingMessage> last_message;
  bool operator==(const HeartbeatMemory&) const = default;
};

// The ping a path suffix names: "" (success), "start", "fail", "log", or an exit status
// "0".."255"; nullopt for anything else (answered 404 like an unknown path).
std::optional<Ping> ping_of(std::string_view suffix);

// A heartbeat's ping token when its config sets none: derived from the key kept in storage
// and the monitor's name (32 hex digits), so it is stable across restarts without a row per
// monitor, and differs for every monitor and every installation.
std::string derived_ping_token(std::string_view key, std::string_view monitor);
// What the web threads look a presented token up by (SHA-256, hex): a lookup of the digest
// takes the same time however close a guess is to a real token.
std::string ping_token_digest(std::string_view token);

class HeartbeatTracker {
 public:
  explicit HeartbeatTracker(const HeartbeatSpec& spec) : spec_(spec) {}
  // It keeps a reference to the monitor's spec: never to a temporary.
  explicit HeartbeatTracker(HeartbeatSpec&&) = delete;

  // After a restart: the last judged ping as stored, and whether the monitor was up then. A
  // job that was due while lookout was down is late at once (its deadline has passed). For a
  // database from before heartbeats were kept (their memory() below is better).
  void restore(WallTime last_ping, bool up);
  // After a restart: everything the tracker knew. A job that started and is past max_runtime
  // is late at once too.
  void restore(HeartbeatMemory memory);
  HeartbeatMemory memory() const;

  // The run a ping makes, to be judged at once and stored at the ping's time: up for a
  // success, down for a failure. A start or a log message judges nothing (nullopt).
  std::optional<ProbeResult> on_ping(const Ping& ping);

  // When the job is late if nothing comes before: the due time plus grace, or a start plus
  // max_runtime, whichever is first. None before the first ping and while down.
  std::optional<WallTime> deadline() const;
  // The run a passed deadline makes (down, kind late) at `now`; no deadline follows until the
  // next ping.
  ProbeResult overdue(WallTime now);

  // The last ping of any kind (a start or a log message too), for the API.
  std::optional<WallTime> last_ping() const { return last_any_ping_; }
  const std::optional<PingMessage>& last_message() const { return last_message_; }
  // When the next ping is due (without grace), for the API; none before the first ping.
  std::optional<WallTime> next_due() const;

 private:
  static constexpr size_t kMaxOpenStarts = 64;  // a job that starts and never ends forgets
  const HeartbeatSpec& spec_;
  std::optional<WallTime> last_ping_;      // the last success or failure
  std::optional<WallTime> last_any_ping_;  // also starts and log messages
  std::optional<PingMessage> last_message_;
  bool up_ = false;
  std::map<std::string, WallTime> starts_;  // by rid ("" without one)
  std::optional<WallTime> runtime_deadline() const;
};

}  // namespace lookout
