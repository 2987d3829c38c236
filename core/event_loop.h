// The libuv loop and small owners for its handles. A handle's memory is freed only in its close
// callback, so destroying an owner inside that handle's own callback is safe.
#pragma once

#include <uv.h>

#include <functional>

#include "core/clock.h"

namespace lookout {

class EventLoop {
 public:
  EventLoop();
  ~EventLoop();  // closes what is left and lets the close callbacks run
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  uv_loop_t* raw() { return &loop_; }
  void run();
  void stop();

 private:
  uv_loop_t loop_{};
};

class Timer {
 public:
  explicit Timer(EventLoop& loop);
  ~Timer();
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  void start(Duration after, std::function<void()> cb);
  void start_repeating(Duration every, std::function<void()> cb);
  void stop();
  // A timer that does not keep the loop alive on its own.
  void unref();

 private:
  struct Handle;
  Handle* h_;
};

// Wakes the loop from any thread; the callback runs on the loop (coalesced).
class Async {
 public:
  Async(EventLoop& loop, std::function<void()> cb);
  ~Async();
  Async(const Async&) = delete;
  Async& operator=(const Async&) = delete;
  void send();

 private:
  struct Handle;
  Handle* h_;
};

class Signal {
 public:
  Signal(EventLoop& loop, int signum, std::function<void()> cb);
  ~Signal();
  Signal(const Signal&) = delete;
  Signal& operator=(const Signal&) = delete;

 private:
  struct Handle;
  Handle* h_;
};

// Runs `work` on libuv's thread pool, then `after` on the loop. For file reads and parsing
// that must not run on the loop thread.
void queue_work(EventLoop& loop, std::function<void()> work, std::function<void()> after);

}  // namespace lookout
