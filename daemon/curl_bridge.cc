#include "daemon/curl_bridge.h"

#include <spdlog/spdlog.h>

namespace lookout {

void set_transfer_defaults(CURL* e, Duration timeout, const std::string& ca_file, bool insecure) {
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  // A transfer that ends during name resolution must not join the resolver thread on the
  // loop (it would wait out glibc's whole DNS timeout).
  curl_easy_setopt(e, CURLOPT_QUICK_EXIT, 1L);
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  // Debian's libcurl has a CA path; without clearing it the CA store is parsed again for
  // every TLS connection instead of being cached.
  curl_easy_setopt(e, CURLOPT_CAPATH, nullptr);
  curl_easy_setopt(e, CURLOPT_CA_CACHE_TIMEOUT, 3600L);
  if (!ca_file.empty()) curl_easy_setopt(e, CURLOPT_CAINFO, ca_file.c_str());
  if (insecure) {
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
  }
}

struct CurlBridge::SocketWatch {
  uv_poll_t poll{};
  curl_socket_t fd;
  CurlBridge* bridge;
};

CurlBridge::CurlBridge(EventLoop& loop)
    : loop_(loop), multi_(curl_multi_init()), timer_(loop), defer_timer_(loop) {
  curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, &CurlBridge::on_socket);
  curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, this);
  curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, &CurlBridge::on_timer);
  curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, this);
  // Per-host limits live in the scheduler, where a waiting run's timeout has not started yet.
  curl_multi_setopt(multi_, CURLMOPT_MAX_HOST_CONNECTIONS, 0L);
}

CurlBridge::~CurlBridge() {
  for (auto& [easy, done] : transfers_) curl_multi_remove_handle(multi_, easy);
  transfers_.clear();
  for (CURL* e : idle_) curl_easy_cleanup(e);
  curl_multi_cleanup(multi_);
}

void CurlBridge::defer(std::function<void()> f) {
  deferred_.push_back(std::move(f));
  if (deferred_.size() == 1) {
    defer_timer_.start(Duration{0}, [this] {
      auto run = std::move(deferred_);
      deferred_.clear();
      for (auto& fn : run) fn();
    });
  }
}

CURL* CurlBridge::acquire() {
  if (idle_.empty()) return curl_easy_init();
  CURL* e = idle_.back();
  idle_.pop_back();
  return e;
}

void CurlBridge::release(CURL* easy) {
  if (easy == nullptr) return;
  remove(easy);
  if (idle_.size() < kMaxIdle) {
    curl_easy_reset(easy);
    idle_.push_back(easy);
  } else {
    curl_easy_cleanup(easy);
  }
}

bool CurlBridge::add(CURL* easy, Done done) {
  if (curl_multi_add_handle(multi_, easy) != CURLM_OK) return false;
  transfers_.emplace(easy, std::move(done));
  return true;
}

void CurlBridge::remove(CURL* easy) {
  if (transfers_.erase(easy) != 0) curl_multi_remove_handle(multi_, easy);
}

int CurlBridge::on_socket(CURL*, curl_socket_t s, int what, void* userp, void* socketp) {
  auto* self = static_cast<CurlBridge*>(userp);
  auto* watch = static_cast<SocketWatch*>(socketp);
  if (what == CURL_POLL_REMOVE) {
    if (watch != nullptr) {
      uv_poll_stop(&watch->poll);
      curl_multi_assign(self->multi_, s, nullptr);
      uv_close(reinterpret_cast<uv_handle_t*>(&watch->poll),
               [](uv_handle_t* h) { delete static_cast<SocketWatch*>(h->data); });
    }
    return 0;
  }
  if (watch == nullptr) {
    watch = new SocketWatch{{}, s, self};
    if (uv_poll_init_socket(self->loop_.raw(), &watch->poll, s) != 0) {
      delete watch;
      return -1;  // curl fails this transfer
    }
    watch->poll.data = watch;
    curl_multi_assign(self->multi_, s, watch);
  }
  int events = 0;
  if (what == CURL_POLL_IN || what == CURL_POLL_INOUT) events |= UV_READABLE;
  if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT) events |= UV_WRITABLE;
  uv_poll_start(&watch->poll, events, [](uv_poll_t* p, int status, int ev) {
    auto* w = static_cast<SocketWatch*>(p->data);
    int flags = 0;
    // On a socket error let curl read and write: it then reports the real errno ("Connection
    // reset by peer") instead of a bare "select/poll returned error".
    if (status < 0) flags = CURL_CSELECT_IN | CURL_CSELECT_OUT;
    if ((ev & UV_READABLE) != 0) flags |= CURL_CSELECT_IN;
    if ((ev & UV_WRITABLE) != 0) flags |= CURL_CSELECT_OUT;
    w->bridge->drive(w->fd, flags);
  });
  return 0;
}

int CurlBridge::on_timer(CURLM*, long timeout_ms, void* userp) {
  auto* self = static_cast<CurlBridge*>(userp);
  if (timeout_ms < 0) {
    self->timer_.stop();
  } else {
    // Even 0 goes through the loop: curl must not be re-entered from its own callback.
    self->timer_.start(Duration{timeout_ms}, [self] { self->drive(CURL_SOCKET_TIMEOUT, 0); });
  }
  return 0;
}

void CurlBridge::drive(curl_socket_t s, int events) {
  int running = 0;
  curl_multi_socket_action(multi_, s, events, &running);
  drain();
}

void CurlBridge::drain() {
  int pending = 0;
  while (CURLMsg* msg = curl_multi_info_read(multi_, &pending)) {
    if (msg->msg != CURLMSG_DONE) continue;
    CURL* easy = msg->easy_handle;
    const CURLcode code = msg->data.result;
    curl_multi_remove_handle(multi_, easy);
    auto it = transfers_.find(easy);
    if (it == transfers_.end()) continue;
    Done done = std::move(it->second);
    transfers_.erase(it);
    try {
      done(code);
    } catch (const std::exception& e) {
      spdlog::error("internal error finishing a transfer: {}", e.what());
    }
  }
}

}  // namespace lookout
