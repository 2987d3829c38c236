#include "core/curl_bridge.h"

#include <fmt/format.h>
#include <openssl/ssl.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "core/text.h"

namespace lookout {
namespace {

// "scheme://authority" of a URL, lower case.
std::string origin_of(std::string_view url) {
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return ascii_lower(url);
  return ascii_lower(url.substr(0, url.find_first_of("/?#", scheme_end + 3)));
}

CURLSH* new_session_share() {
  CURLSH* s = curl_share_init();
  curl_share_setopt(s, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
  return s;
}

// libcurl 7.88 turns TLS 1.2 session tickets off, so a TLS 1.2 server without a session cache
// of its own (nginx's default) could never resume; a ticket keeps the session with the client.
CURLcode allow_session_tickets(CURL*, void* ssl_ctx, void*) {
  SSL_CTX_clear_options(static_cast<SSL_CTX*>(ssl_ctx), SSL_OP_NO_TICKET);
  return CURLE_OK;
}

constexpr Duration kSweepEvery{60'000};

}  // namespace

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
  curl_easy_setopt(e, CURLOPT_SSL_SESSIONID_CACHE, 0L);
  if (!ca_file.empty()) curl_easy_setopt(e, CURLOPT_CAINFO, ca_file.c_str());
  if (insecure) {
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
  }
}

std::optional<std::string> local_shortage(CURLcode code, bool out_of_descriptors,
                                          const char* errbuf) {
  if (out_of_descriptors) return "lookout is out of file descriptors (it could not open a socket)";
  // libcurl 7.88 reports a resolver thread it could not start (no descriptors for its socket
  // pair, or no thread) as a failed lookup.
  if (code == CURLE_COULDNT_RESOLVE_HOST && errbuf != nullptr &&
      std::strstr(errbuf, "thread failed to start") != nullptr) {
    return "lookout could not start a resolver thread (out of file descriptors or threads)";
  }
  return std::nullopt;
}

struct CurlBridge::SocketWatch {
  uv_poll_t poll{};
  curl_socket_t fd;
  CurlBridge* bridge;
};

CurlBridge::CurlBridge(EventLoop& loop, const Clock& clock)
    : loop_(loop),
      multi_(curl_multi_init()),
      timer_(loop),
      defer_timer_(loop),
      no_sessions_(new_session_share()),
      clock_(clock) {
  curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, &CurlBridge::on_socket);
  curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, this);
  curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, &CurlBridge::on_timer);
  curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, this);
  // Per-host limits live in the scheduler, where a waiting run's timeout has not started yet.
  curl_multi_setopt(multi_, CURLMOPT_MAX_HOST_CONNECTIONS, 0L);
}

CurlBridge::~CurlBridge() {
  for (auto& [easy, transfer] : transfers_) curl_multi_remove_handle(multi_, easy);
  transfers_.clear();
  for (CURL* e : idle_) curl_easy_cleanup(e);
  curl_multi_cleanup(multi_);
  for (auto& [origin, s] : tls_sessions_) retired_.push_back(s.share);
  retired_.push_back(no_sessions_);
  for (CURLSH* s : retired_) {
    if (curl_share_cleanup(s) != CURLSHE_OK)
      spdlog::error("internal error: a TLS session share is still in use at shutdown");
  }
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
  if (idle_.empty()) {
    CURL* e = curl_easy_init();
    if (e != nullptr) curl_easy_setopt(e, CURLOPT_SHARE, no_sessions_);
    return e;
  }
  CURL* e = idle_.back();
  idle_.pop_back();
  return e;
}

void CurlBridge::release(CURL* easy) {
  if (easy == nullptr) return;
  remove(easy);
  curl_easy_setopt(easy, CURLOPT_SHARE, no_sessions_);  // frees a retired share for cleanup
  if (idle_.size() < kMaxIdle) {
    curl_easy_reset(easy);
    idle_.push_back(easy);
  } else {
    curl_easy_cleanup(easy);
  }
}

void CurlBridge::resume_tls_sessions(CURL* easy, std::string_view url, Duration max_age) {
  const MonoTime now = clock_.mono();
  if (now >= next_sweep_) sweep_tls_sessions(now);
  std::string key = fmt::format("{} {}", origin_of(url), max_age.count());
  auto it = tls_sessions_.find(key);
  if (it != tls_sessions_.end() && now - it->second.made >= max_age) {
    retired_.push_back(it->second.share);
    tls_sessions_.erase(it);
    it = tls_sessions_.end();
  }
  if (it == tls_sessions_.end())
    it =
        tls_sessions_.emplace(std::move(key), TlsSessions{new_session_share(), now, max_age}).first;
  curl_easy_setopt(easy, CURLOPT_SHARE, it->second.share);
  curl_easy_setopt(easy, CURLOPT_SSL_SESSIONID_CACHE, 1L);
  curl_easy_setopt(easy, CURLOPT_SSL_CTX_FUNCTION, &allow_session_tickets);
}

// Retires expired shares (an origin no longer probed leaves one behind) and frees retired
// shares no handle is attached to any more.
void CurlBridge::sweep_tls_sessions(MonoTime now) {
  next_sweep_ = now + kSweepEvery;
  for (auto it = tls_sessions_.begin(); it != tls_sessions_.end();) {
    if (now - it->second.made >= it->second.max_age) {
      retired_.push_back(it->second.share);
      it = tls_sessions_.erase(it);
    } else {
      ++it;
    }
  }
  std::erase_if(retired_, [](CURLSH* s) { return curl_share_cleanup(s) == CURLSHE_OK; });
}

bool CurlBridge::add_connect_only(CURL* easy, Done done) {
  if (!add(easy, std::move(done))) return false;
  transfers_.at(easy).keep_connection = true;
  return true;
}

bool CurlBridge::add(CURL* easy, Done done) {
  const auto it = transfers_.insert_or_assign(easy, Transfer{std::move(done)}).first;
  // Node addresses in an unordered_map are stable, so the transfer can be curl's socket data.
  curl_easy_setopt(easy, CURLOPT_OPENSOCKETFUNCTION, &CurlBridge::open_socket);
  curl_easy_setopt(easy, CURLOPT_OPENSOCKETDATA, &it->second);
  if (curl_multi_add_handle(multi_, easy) != CURLM_OK) {
    transfers_.erase(it);
    return false;
  }
  return true;
}

// socket() as libcurl would call it (plus close-on-exec), noting when the process is out of
// descriptors: such a transfer failed for the daemon's want, not its target's.
curl_socket_t CurlBridge::open_socket(void* transfer, curlsocktype, curl_sockaddr* a) {
  const curl_socket_t s = socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
  if (s == CURL_SOCKET_BAD && (errno == EMFILE || errno == ENFILE)) {
    static_cast<Transfer*>(transfer)->out_of_descriptors = true;
  }
  return s;
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
    auto it = transfers_.find(easy);
    if (it == transfers_.end() || !it->second.keep_connection) {
      curl_multi_remove_handle(multi_, easy);
    }
    if (it == transfers_.end() || !it->second.done) continue;
    Done done = std::move(it->second.done);
    it->second.done = nullptr;
    const bool out_of_descriptors = it->second.out_of_descriptors;
    // A kept connection's handle stays listed, for remove() to take it out of the multi.
    if (!it->second.keep_connection) transfers_.erase(it);
    try {
      done(code, out_of_descriptors);
    } catch (const std::exception& e) {
      spdlog::error("internal error finishing a transfer: {}", e.what());
    }
  }
}

}  // namespace lookout
