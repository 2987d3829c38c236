// The one place where libcurl's multi socket API meets the libuv loop (the shape of curl's
// docs/examples/multi-uv.c): curl's socket callback starts and stops uv_poll watchers, its
// timer callback arms one uv_timer, and finished transfers are handed back to their owners.
#pragma once

#include <curl/curl.h>

#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include "daemon/event_loop.h"

namespace lookout {

// The options every transfer on the loop gets: no signals, no waiting for the resolver thread,
// an overall timeout, the cached CA store (or `ca_file`), and `insecure` when asked for.
void set_transfer_defaults(CURL* easy, Duration timeout, const std::string& ca_file, bool insecure);

class CurlBridge {
 public:
  using Done = std::function<void(CURLcode)>;

  explicit CurlBridge(EventLoop& loop);
  ~CurlBridge();
  CurlBridge(const CurlBridge&) = delete;
  CurlBridge& operator=(const CurlBridge&) = delete;

  // Starts the transfer. On success `done` runs exactly once, on the loop, after the handle
  // left the multi (so the owner may clean it up there). On failure it never runs.
  bool add(CURL* easy, Done done);
  // Takes a transfer out without calling its `done`.
  void remove(CURL* easy);
  size_t active() const { return transfers_.size(); }

  // Easy handles for transfers. An easy handle keeps its transfer buffers (tens of KiB) for
  // its lifetime, so handles are shared by the runs in flight instead of kept per monitor;
  // a few idle ones are kept to spare curl's set-up cost.
  CURL* acquire();
  void release(CURL* easy);

  // Runs `f` on the next turn of the loop: for callbacks that must not run inside the call
  // that was asked to start something.
  void defer(std::function<void()> f);

 private:
  struct SocketWatch;
  static int on_socket(CURL* easy, curl_socket_t s, int what, void* userp, void* socketp);
  static int on_timer(CURLM* multi, long timeout_ms, void* userp);
  void drive(curl_socket_t s, int events);
  void drain();

  EventLoop& loop_;
  CURLM* multi_;
  Timer timer_;
  std::unordered_map<CURL*, Done> transfers_;
  std::vector<CURL*> idle_;
  Timer defer_timer_;
  std::vector<std::function<void()>> deferred_;
  static constexpr size_t kMaxIdle = 64;
};

}  // namespace lookout
