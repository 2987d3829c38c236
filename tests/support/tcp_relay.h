// A TCP relay on loopback that a test can cut: it accepts on a port of its own, connects each
// client to 127.0.0.1:`to_port` and copies bytes both ways. cut() ends every connection it
// carries and closes each new one at once until restore(), as a network link that fails would
// leave a client: its connection broken and no new one possible. One thread polls every socket.
#pragma once

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

namespace lookout::test {

class TcpRelay {
 public:
  explicit TcpRelay(int to_port) : to_port_(to_port) {
    listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr = loopback(0);
    if (listen_fd_ < 0 || bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        listen(listen_fd_, 64) != 0) {
      throw std::runtime_error("the relay cannot listen on 127.0.0.1");
    }
    socklen_t len = sizeof addr;
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    if (pipe2(wake_, O_CLOEXEC) != 0) throw std::runtime_error("the relay cannot make a pipe");
    thread_ = std::thread([this] { run(); });
  }
  ~TcpRelay() {
    stop_ = true;
    poke();
    thread_.join();
    for (const auto& [a, b] : pairs_) {
      ::close(a);
      ::close(b);
    }
    ::close(listen_fd_);
    ::close(wake_[0]);
    ::close(wake_[1]);
  }
  TcpRelay(const TcpRelay&) = delete;
  TcpRelay& operator=(const TcpRelay&) = delete;

  int port() const { return port_; }
  // Every connection carried now ends (both ends see it closed); new ones are closed once
  // accepted, until restore(). When it returns, no byte passes any more.
  void cut() {
    std::lock_guard lock(mu_);
    cut_ = true;
    for (const auto& [a, b] : pairs_) {
      shutdown(a, SHUT_RDWR);
      shutdown(b, SHUT_RDWR);
    }
  }
  void restore() {
    std::lock_guard lock(mu_);
    cut_ = false;
  }
  // Connections accepted while cut, and closed at once.
  int refused() const { return refused_.load(); }

 private:
  static sockaddr_in loopback(int port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
  }
  void poke() const { (void)!write(wake_[1], "x", 1); }

  // Writes all of `n` bytes to `fd`, which blocks: the peers on loopback read promptly.
  static bool write_all(int fd, const char* data, ssize_t n) {
    while (n > 0) {
      const ssize_t w = send(fd, data, static_cast<size_t>(n), MSG_NOSIGNAL);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) return false;
      data += w;
      n -= w;
    }
    return true;
  }

  void run() {
    std::vector<char> buf(64 * 1024);
    while (!stop_) {
      std::vector<pollfd> fds{{listen_fd_, POLLIN, 0}, {wake_[0], POLLIN, 0}};
      {
        std::lock_guard lock(mu_);
        for (const auto& [a, b] : pairs_) {
          fds.push_back({a, POLLIN, 0});
          fds.push_back({b, POLLIN, 0});
        }
      }
      if (poll(fds.data(), fds.size(), 100) < 0) continue;
      if ((fds[1].revents & POLLIN) != 0) (void)!read(wake_[0], buf.data(), buf.size());
      if ((fds[0].revents & POLLIN) != 0) accept_one();
      std::lock_guard lock(mu_);
      std::vector<size_t> closed;
      for (size_t i = 2; i < fds.size(); i += 2) {
        const size_t pair = (i - 2) / 2;
        bool alive = true;
        for (const size_t from : {i, i + 1}) {
          if (!alive || fds[from].revents == 0) continue;
          const int to = from == i ? fds[i + 1].fd : fds[i].fd;
          const ssize_t n = recv(fds[from].fd, buf.data(), buf.size(), 0);
          alive = n > 0 && !cut_ && write_all(to, buf.data(), n);
        }
        if (!alive) closed.push_back(pair);
      }
      // From the last, so that the indices of those still to go stay valid.
      std::reverse(closed.begin(), closed.end());
      for (const size_t pair : closed) {
        ::close(pairs_[pair].first);
        ::close(pairs_[pair].second);
        pairs_.erase(pairs_.begin() + static_cast<std::ptrdiff_t>(pair));
      }
    }
  }

  void accept_one() {
    const int client = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) return;
    std::lock_guard lock(mu_);
    if (cut_) {
      ++refused_;
      ::close(client);
      return;
    }
    const int server = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const sockaddr_in to = loopback(to_port_);
    if (server < 0 || connect(server, reinterpret_cast<const sockaddr*>(&to), sizeof to) != 0) {
      if (server >= 0) ::close(server);
      ::close(client);
      return;
    }
    pairs_.emplace_back(client, server);
  }

  int to_port_;
  int port_ = 0;
  int listen_fd_ = -1;
  int wake_[2] = {-1, -1};
  std::atomic<bool> stop_{false};
  std::atomic<int> refused_{0};
  std::mutex mu_;
  bool cut_ = false;
  std::vector<std::pair<int, int>> pairs_;  // (client, server), each carried both ways
  std::thread thread_;
};

}  // namespace lookout::test
