// One WHOIS query (RFC 3912) on the loop: the server's name through c-ares, a uv_tcp connection
// to port 43 (or the one given), the query line sent, and the answer read until the server
// closes, capped. Nothing blocks the loop; the caller's deadline bounds the whole exchange.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/event_loop.h"
#include "probes/probe.h"

namespace lookout {

class AresChannel;

class WhoisClient {
 public:
  static constexpr size_t kMaxAnswer = 64 * 1024;

  struct Result {
    bool answered = false;  // the server sent its answer (possibly cut at kMaxAnswer) and closed
    std::string text;
    bool truncated = false;
    ErrorKind kind = ErrorKind::kNone;                    // when !answered
    std::string cause;                                    // when !answered: "connection refused"...
    std::optional<int64_t> dns_us, connect_us, reply_us;  // reply: from connected to the end
  };
  using Done = std::function<void(Result)>;

  // Connects from `source` (the probe context's, which outlives the client).
  WhoisClient(EventLoop& loop, const Clock& clock, const SourceAddress& source);
  ~WhoisClient();
  WhoisClient(const WhoisClient&) = delete;
  WhoisClient& operator=(const WhoisClient&) = delete;

  // Sends `query` + CRLF to host:port. `done` runs once, from a later callback of the loop,
  // unless cancel() comes first; it may destroy this. False when it cannot start.
  bool start(const std::string& host, uint16_t port, const std::string& query, Done done);
  // Stops the exchange without calling back.
  void cancel();
  // Where a running exchange is, for a timeout's cause.
  const char* phase() const;

 private:
  struct Conn;
  enum class Phase { kIdle, kResolving, kConnecting, kReading };
  void on_resolved(int status, std::vector<sockaddr_storage> addresses);
  void connect_next();
  void on_connected(int status);
  void on_read(ssize_t nread, const char* data);
  void close_conn();
  void fail(ErrorKind kind, std::string cause);
  void succeed();
  int64_t since_us(MonoTime t) const;

  EventLoop& loop_;
  const Clock& clock_;
  const SourceAddress& source_;
  std::unique_ptr<AresChannel> resolver_;
  Phase phase_ = Phase::kIdle;
  std::string host_;
  uint16_t port_ = 43;
  std::string query_;
  std::vector<sockaddr_storage> addresses_;
  size_t next_address_ = 0;
  std::string last_error_;
  Conn* conn_ = nullptr;
  MonoTime started_{}, connect_started_{}, connected_{};
  Result result_;
  Done done_;
};

}  // namespace lookout
