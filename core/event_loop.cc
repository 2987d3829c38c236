#include "core/event_loop.h"

#include <spdlog/spdlog.h>

#include <stdexcept>

namespace lookout {

EventLoop::EventLoop() {
  if (int rc = uv_loop_init(&loop_); rc != 0) {
    throw std::runtime_error(std::string("uv_loop_init: ") + uv_strerror(rc));
  }
}

EventLoop::~EventLoop() {
  // Owners have closed their handles; let the close callbacks run, then close stragglers.
  uv_run(&loop_, UV_RUN_NOWAIT);
  uv_walk(
      &loop_,
      [](uv_handle_t* h, void*) {
        if (uv_is_closing(h) == 0) uv_close(h, nullptr);
      },
      nullptr);
  while (uv_loop_close(&loop_) == UV_EBUSY) uv_run(&loop_, UV_RUN_ONCE);
}

void EventLoop::run() { uv_run(&loop_, UV_RUN_DEFAULT); }
void EventLoop::stop() { uv_stop(&loop_); }

namespace {
template <typename H>
void close_and_free(H* owner_handle) {
  auto* raw = reinterpret_cast<uv_handle_t*>(&owner_handle->uv);
  uv_close(raw, [](uv_handle_t* h) { delete static_cast<H*>(h->data); });
}

// No exception may cross a C callback: log it and go on.
void guarded(const std::function<void()>& cb, const char* what) {
  try {
    if (cb) cb();
  } catch (const std::exception& e) {
    spdlog::error("internal error in {} callback: {}", what, e.what());
  }
}
}  // namespace

struct Timer::Handle {
  uv_timer_t uv{};
  std::function<void()> cb;
};

Timer::Timer(EventLoop& loop) : h_(new Handle) {
  uv_timer_init(loop.raw(), &h_->uv);
  h_->uv.data = h_;
}

Timer::~Timer() {
  uv_timer_stop(&h_->uv);
  close_and_free(h_);
}

void Timer::start(Duration after, std::function<void()> cb) {
  h_->cb = std::move(cb);
  const auto ms = after.count() < 0 ? 0 : static_cast<uint64_t>(after.count());
  uv_timer_start(
      &h_->uv, [](uv_timer_t* t) { guarded(static_cast<Handle*>(t->data)->cb, "timer"); }, ms, 0);
}

void Timer::start_repeating(Duration every, std::function<void()> cb) {
  h_->cb = std::move(cb);
  const auto ms = static_cast<uint64_t>(every.count());
  uv_timer_start(
      &h_->uv, [](uv_timer_t* t) { guarded(static_cast<Handle*>(t->data)->cb, "timer"); }, ms, ms);
}

void Timer::stop() { uv_timer_stop(&h_->uv); }
void Timer::unref() { uv_unref(reinterpret_cast<uv_handle_t*>(&h_->uv)); }

struct Async::Handle {
  uv_async_t uv{};
  std::function<void()> cb;
};

Async::Async(EventLoop& loop, std::function<void()> cb) : h_(new Handle) {
  h_->cb = std::move(cb);
  uv_async_init(loop.raw(), &h_->uv,
                [](uv_async_t* a) { guarded(static_cast<Handle*>(a->data)->cb, "async"); });
  h_->uv.data = h_;
}

Async::~Async() { close_and_free(h_); }
void Async::send() { uv_async_send(&h_->uv); }

struct Signal::Handle {
  uv_signal_t uv{};
  std::function<void()> cb;
};

Signal::Signal(EventLoop& loop, int signum, std::function<void()> cb) : h_(new Handle) {
  h_->cb = std::move(cb);
  uv_signal_init(loop.raw(), &h_->uv);
  h_->uv.data = h_;
  uv_signal_start(
      &h_->uv, [](uv_signal_t* s, int) { guarded(static_cast<Handle*>(s->data)->cb, "signal"); },
      signum);
}

Signal::~Signal() {
  uv_signal_stop(&h_->uv);
  close_and_free(h_);
}

namespace {
struct Work {
  uv_work_t uv{};
  std::function<void()> work;
  std::function<void()> after;
};
}  // namespace

void queue_work(EventLoop& loop, std::function<void()> work, std::function<void()> after) {
  auto* w = new Work;
  w->uv.data = w;
  w->work = std::move(work);
  w->after = std::move(after);
  uv_queue_work(
      loop.raw(), &w->uv, [](uv_work_t* r) { guarded(static_cast<Work*>(r->data)->work, "work"); },
      [](uv_work_t* r, int) {
        auto* self = static_cast<Work*>(r->data);
        guarded(self->after, "after-work");
        delete self;
      });
}

}  // namespace lookout
