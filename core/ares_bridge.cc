#include "core/ares_bridge.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>

#include "core/descriptors.h"

namespace lookout {

struct AresChannel::Watch {
  uv_poll_t poll{};
  ares_socket_t fd;
  AresChannel* owner;
};

struct AresChannel::Pending {
  AresChannel* owner;
  uint64_t generation;
  Done done;
};

struct AresChannel::PendingLookup {
  AresChannel* owner;
  uint64_t generation;
  Resolved done;
};

AresChannel::AresChannel(EventLoop& loop, Duration try_timeout, int tries)
    : loop_(loop), try_timeout_(try_timeout), tries_(tries), timer_(loop), ready_timer_(loop) {}

AresChannel::~AresChannel() {
  if (channel_ != nullptr) {
    ++generation_;
    ares_destroy(channel_);  // pending answers come back as ARES_EDESTRUCTION and are dropped
  }
  for (auto& [fd, w] : watches_) {
    uv_poll_stop(&w->poll);
    uv_close(reinterpret_cast<uv_handle_t*>(&w->poll),
             [](uv_handle_t* h) { delete static_cast<Watch*>(h->data); });
  }
}

bool AresChannel::init(const std::string& servers, std::string& error) {
  ares_options opts{};
  opts.sock_state_cb = &AresChannel::on_sock_state;
  opts.sock_state_cb_data = this;
  opts.timeout = static_cast<int>(try_timeout_.count());
  opts.tries = tries_;
  // SERVFAIL and REFUSED are answers to report, not reasons to try the next server quietly.
  opts.flags = ARES_FLAG_NOCHECKRESP;
  const int mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_FLAGS;
  int rc = ares_init_options(&channel_, &opts, mask);
  if (rc != ARES_SUCCESS) {
    channel_ = nullptr;
    error = fmt::format("cannot set up the DNS resolver: {}", ares_strerror(rc));
    return false;
  }
  if (!servers.empty()) {
    rc = ares_set_servers_ports_csv(channel_, servers.c_str());
    if (rc != ARES_SUCCESS) {
      error = fmt::format("cannot use resolver {}: {}", servers, ares_strerror(rc));
      return false;
    }
  }
  return true;
}

void AresChannel::ask_from(const SourceAddress& source) {
  if (source.empty()) return;
  const sockaddr_storage& a = source.address();
  if (a.ss_family == AF_INET) {
    ares_set_local_ip4(channel_, ntohl(reinterpret_cast<const sockaddr_in&>(a).sin_addr.s_addr));
  } else {
    ares_set_local_ip6(channel_, reinterpret_cast<const sockaddr_in6&>(a).sin6_addr.s6_addr);
  }
}

void AresChannel::query(const std::string& name, int type, Done done) {
  auto* p = new Pending{this, generation_, std::move(done)};
  ares_query(channel_, name.c_str(), 1 /* C_IN */, type, &AresChannel::on_answer, p);
  arm_timer();
}

void AresChannel::cancel() {
  ++generation_;
  ready_.clear();
  ares_cancel(channel_);
  arm_timer();
}

void AresChannel::on_answer(void* arg, int status, int, unsigned char* abuf, int alen) {
  std::unique_ptr<Pending> p(static_cast<Pending*>(arg));
  if (status == ARES_EDESTRUCTION || status == ARES_ECANCELLED ||
      p->generation != p->owner->generation_)
    return;
  // c-ares reports a socket it could not open as a refused connection; it gives up inside the
  // call that asked, so the process is still at its limit here.
  if (status == ARES_ECONNREFUSED && descriptors_exhausted()) status = kOutOfDescriptors;
  std::string message;
  if (abuf != nullptr && alen > 0)
    message.assign(reinterpret_cast<const char*>(abuf), static_cast<size_t>(alen));
  p->owner->hand_out([done = std::move(p->done), status, message = std::move(message)]() mutable {
    done(status, std::move(message));
  });
}

void AresChannel::resolve(const std::string& host, int family, uint16_t port, Resolved done) {
  auto* p = new PendingLookup{this, generation_, std::move(done)};
  ares_addrinfo_hints hints{};
  hints.ai_family = family;
  hints.ai_socktype = SOCK_STREAM;  // one entry per address, not one per socket type
  // c-ares refuses service "0" (ARES_ESERVICE); without a service the port is left 0.
  const std::string service = std::to_string(port);
  ares_getaddrinfo(channel_, host.c_str(), port != 0 ? service.c_str() : nullptr, &hints,
                   &AresChannel::on_addrinfo, p);
  arm_timer();
}

void AresChannel::on_addrinfo(void* arg, int status, int, ares_addrinfo* result) {
  std::unique_ptr<PendingLookup> p(static_cast<PendingLookup*>(arg));
  std::vector<sockaddr_storage> addresses;
  if (result != nullptr) {
    for (const ares_addrinfo_node* n = result->nodes; n != nullptr; n = n->ai_next) {
      sockaddr_storage a{};
      std::memcpy(&a, n->ai_addr, std::min<size_t>(n->ai_addrlen, sizeof a));
      addresses.push_back(a);
    }
    ares_freeaddrinfo(result);
  }
  if (status == ARES_EDESTRUCTION || status == ARES_ECANCELLED ||
      p->generation != p->owner->generation_)
    return;
  if (status == ARES_ECONNREFUSED && descriptors_exhausted()) status = kOutOfDescriptors;
  p->owner->hand_out(
      [done = std::move(p->done), status, addresses = std::move(addresses)]() mutable {
        done(status, std::move(addresses));
      });
}

void AresChannel::hand_out(std::function<void()> f) {
  ready_.push_back(std::move(f));
  if (ready_.size() == 1) {
    ready_timer_.start(Duration{0}, [this] {
      auto run = std::move(ready_);
      ready_.clear();
      const std::weak_ptr<int> alive = alive_;
      const uint64_t generation = generation_;
      for (auto& f : run) {
        if (alive.expired() || generation_ != generation)
          return;  // destroyed or cancelled by an earlier one
        f();
      }
    });
  }
}

void AresChannel::on_sock_state(void* data, ares_socket_t fd, int readable, int writable) {
  auto* self = static_cast<AresChannel*>(data);
  auto it = self->watches_.find(fd);
  if (readable == 0 && writable == 0) {
    if (it != self->watches_.end()) {
      Watch* w = it->second;
      self->watches_.erase(it);
      uv_poll_stop(&w->poll);
      uv_close(reinterpret_cast<uv_handle_t*>(&w->poll),
               [](uv_handle_t* h) { delete static_cast<Watch*>(h->data); });
    }
    return;
  }
  Watch* w = nullptr;
  if (it == self->watches_.end()) {
    w = new Watch{{}, fd, self};
    if (uv_poll_init_socket(self->loop_.raw(), &w->poll, fd) != 0) {
      spdlog::error("cannot watch a DNS socket; the question will time out");
      delete w;
      return;
    }
    w->poll.data = w;
    self->watches_.emplace(fd, w);
  } else {
    w = it->second;
  }
  const int events = (readable != 0 ? UV_READABLE : 0) | (writable != 0 ? UV_WRITABLE : 0);
  uv_poll_start(&w->poll, events, [](uv_poll_t* h, int status, int ev) {
    auto* watch = static_cast<Watch*>(h->data);
    // On a socket error let c-ares read: it then sees the error and moves on.
    const bool r = status < 0 || (ev & UV_READABLE) != 0;
    const bool wr = (ev & UV_WRITABLE) != 0;
    watch->owner->process(r ? watch->fd : ARES_SOCKET_BAD, wr ? watch->fd : ARES_SOCKET_BAD);
  });
}

void AresChannel::process(ares_socket_t read_fd, ares_socket_t write_fd) {
  ares_process_fd(channel_, read_fd, write_fd);
  arm_timer();
}

void AresChannel::arm_timer() {
  timeval tv{};
  if (ares_timeout(channel_, nullptr, &tv) == nullptr) {
    timer_.stop();
    return;
  }
  const Duration after{static_cast<int64_t>(tv.tv_sec) * 1000 + tv.tv_usec / 1000 + 1};
  timer_.start(after, [this] { process(ARES_SOCKET_BAD, ARES_SOCKET_BAD); });
}

std::optional<sockaddr_storage> literal_address(const std::string& host, uint16_t port) {
  sockaddr_storage a{};
  if (uv_ip4_addr(host.c_str(), port, reinterpret_cast<sockaddr_in*>(&a)) == 0) return a;
  if (uv_ip6_addr(host.c_str(), port, reinterpret_cast<sockaddr_in6*>(&a)) == 0) return a;
  return std::nullopt;
}

}  // namespace lookout
