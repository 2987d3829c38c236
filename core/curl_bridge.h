// The one place where libcurl's multi socket API meets the libuv loop (the shape of curl's
// docs/examples/multi-uv.c): curl's socket callback starts and stops uv_poll watchers, its
// timer callback arms one uv_timer, and finished transfers are handed back to their owners.
#pragma once

#include <curl/curl.h>

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/event_loop.h"

namespace lookout {

// The options every transfer on the loop gets: no signals, no waiting for the resolver thread,
// an overall timeout, the cached CA store (or `ca_file`), `insecure` when asked for, and no
// TLS session kept or resumed (a full handshake; see CurlBridge::resume_tls_sessions).
void set_transfer_defaults(CURL* easy, Duration timeout, const std::string& ca_file, bool insecure);

// The cause when a transfer failed for want of the daemon's own resources (it could not open
// a socket, or start the resolver thread), not because of its target; nullopt otherwise.
std::optional<std::string> local_shortage(CURLcode code, bool out_of_descriptors,
                                          const char* errbuf);

class CurlBridge {
 public:
  // `out_of_descriptors`: a socket of the transfer could not be opened (EMFILE, ENFILE).
  using Done = std::function<void(CURLcode code, bool out_of_descriptors)>;

  // `clock` dates the shared TLS sessions (tls_resume).
  CurlBridge(EventLoop& loop, const Clock& clock);
  ~CurlBridge();
  CurlBridge(const CurlBridge&) = delete;
  CurlBridge& operator=(const CurlBridge&) = delete;

  // Starts the transfer. On success `done` runs exactly once, on the loop, after the handle
  // left the multi (so the owner may clean it up there). On failure it never runs.
  bool add(CURL* easy, Done done);
  // add() for a CONNECT_ONLY transfer whose connection the owner goes on using with
  // curl_easy_send and curl_easy_recv: the handle stays in the multi after `done` until
  // remove() or release(), since libcurl (7.88) closes such a connection when its handle
  // leaves the multi. The transfer must not set CURLOPT_FORBID_REUSE, which closes it at once.
  bool add_connect_only(CURL* easy, Done done);
  // Takes a transfer out without calling its `done`.
  void remove(CURL* easy);
  size_t active() const { return transfers_.size(); }

  // Easy handles for transfers. An easy handle keeps its transfer buffers (tens of KiB) for
  // its lifetime, so handles are shared by the runs in flight instead of kept per monitor;
  // a few idle ones are kept to spare curl's set-up cost.
  CURL* acquire();
  void release(CURL* easy);

  // Lets this transfer resume a TLS session of the same origin made at most `max_age` ago, and
  // keep the session it makes (`tls_resume`). A resumed handshake skips the certificate and
  // most of the key exchange, about half the CPU of a TLS probe; it also does not see the
  // certificate again, which is why the age is bounded. Call after set_transfer_defaults.
  void resume_tls_sessions(CURL* easy, std::string_view url, Duration max_age);

  // Runs `f` on the next turn of the loop: for callbacks that must not run inside the call
  // that was asked to start something.
  void defer(std::function<void()> f);
  // The loop the transfers run on, for the timers of those who start them.
  EventLoop& loop() { return loop_; }

 private:
  struct SocketWatch;
  static int on_socket(CURL* easy, curl_socket_t s, int what, void* userp, void* socketp);
  static int on_timer(CURLM* multi, long timeout_ms, void* userp);
  static curl_socket_t open_socket(void* transfer, curlsocktype purpose, curl_sockaddr* address);
  void drive(curl_socket_t s, int events);
  void drain();
  void sweep_tls_sessions(MonoTime now);

  EventLoop& loop_;
  CURLM* multi_;
  Timer timer_;
  struct Transfer {
    Done done;
    bool out_of_descriptors = false;
    bool keep_connection = false;  // add_connect_only
  };
  std::unordered_map<CURL*, Transfer> transfers_;
  std::vector<CURL*> idle_;
  Timer defer_timer_;
  std::vector<std::function<void()>> deferred_;
  static constexpr size_t kMaxIdle = 64;

  // libcurl keeps TLS sessions in a share. Every handle is attached to one from its start:
  // attaching a share drops a handle's own session cache without freeing it (libcurl 7.88),
  // so no handle may ever make one. `no_sessions_` is the share of transfers that keep none.
  struct TlsSessions {
    CURLSH* share;
    MonoTime made;
    Duration max_age;
  };
  CURLSH* no_sessions_;
  // One share per origin and age limit: a share holds only 8 sessions, and its age is the
  // age of the oldest session it may hand out.
  std::unordered_map<std::string, TlsSessions> tls_sessions_;
  std::vector<CURLSH*> retired_;  // expired shares still attached to a handle in flight
  const Clock& clock_;
  MonoTime next_sweep_{};
};

}  // namespace lookout
