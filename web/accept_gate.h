// The accept gate in front of the HTTP workers: a worker only ever sees a complete request.
// Accepted sockets wait on the gate's own libuv loop (its own thread, so hostile traffic never
// delays the probes' loop) until their head and body are in, under a deadline for each, a cap
// of connections per client address and one in total. Then one worker runs exactly one request
// and hands the connection back, so an idle or slow connection never holds a thread. Over
// HTTPS the gate also runs the TLS handshake (within the head's deadline) and holds decrypted
// bytes, so a worker never waits on a handshake either.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "core/clock.h"

namespace httplib {
class Stream;
}
struct ssl_ctx_st;

namespace lookout {

struct GateLimits {
  size_t max_per_client = 32;         // open connections of one client address
  size_t max_connections = 4096;      // held in all; beyond, the oldest idle, else slowest body, go
  Duration header_timeout{5000};      // for the whole head, from accept or the previous answer
  Duration body_timeout{10'000};      // for the whole body, from the end of the head
  Duration keep_alive_timeout{2000};  // an idle keep-alive connection waits this long
  Duration write_timeout{5000};       // a write that makes no progress for this long fails
  Duration linger{1000};              // after a refusal, unread bytes are drained this long
  uint64_t max_body = 64 * 1024;      // larger Content-Length: 413 from the head alone
  size_t max_head = 16 * 1024;        // larger head: 431
  size_t keep_alive_max = 100;        // requests per connection
  size_t workers = 64;
};

// What the gate counted, read by /metrics.
struct GateCounts {
  uint64_t refused = 0;  // connections closed at once: the client address was at its cap
  uint64_t head_timeouts = 0;
  uint64_t body_timeouts = 0;
  uint64_t shed = 0;  // connections closed to make room (idle, else a body, else the new one)
  uint64_t refused_411 = 0, refused_413 = 0, refused_431 = 0;
  uint64_t tls_handshake_failures = 0;  // not TLS, no shared version or cipher, or cut short
  int64_t open = 0;                     // connections held now, in the gate or a worker
};

class AcceptGate {
 public:
  // Runs one complete request read from `strm` and writes its answer; false when the
  // connection cannot go on. `connection_closed` is set when the client asked to close.
  using ServeFn =
      std::function<bool(httplib::Stream& strm, bool close_connection, bool& connection_closed)>;

  // With `tls` (not owned, outliving the gate), every connection is HTTPS.
  AcceptGate(const GateLimits& limits, ServeFn serve, ssl_ctx_st* tls = nullptr);
  ~AcceptGate();
  AcceptGate(const AcceptGate&) = delete;
  AcceptGate& operator=(const AcceptGate&) = delete;

  void start();
  // Takes an accepted socket, from any thread; closed at once once stopped.
  void admit(int fd);
  // Closes every connection and joins the gate and worker threads.
  void stop();
  GateCounts counts() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace lookout
