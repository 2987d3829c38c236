// A datagram socket standing in for systemd's notify socket (NOTIFY_SOCKET): it keeps every
// message the daemon sends, for the tests of READY=1, WATCHDOG=1, RELOADING=1 and STOPPING=1.
#pragma once

#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace lookout::test {

class NotifySocket {
 public:
  explicit NotifySocket(const std::string& path) : path_(path) {
    fd_ = socket(AF_UNIX, SOCK_DGRAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path.c_str());
    if (bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0)
      throw std::runtime_error("cannot bind the notify socket " + path);
    timeval tv{0, 100'000};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    reader_ = std::thread([this] {
      char buf[4096];
      while (!stop_) {
        const ssize_t n = recv(fd_, buf, sizeof(buf), 0);
        if (n > 0) {
          std::lock_guard lock(mu_);
          messages_.emplace_back(buf, static_cast<size_t>(n));
        }
      }
    });
  }
  ~NotifySocket() {
    stop_ = true;
    reader_.join();
    close(fd_);
  }
  std::vector<std::string> messages() {
    std::lock_guard lock(mu_);
    return messages_;
  }
  size_t count(const std::string& m) {
    const auto all = messages();
    return static_cast<size_t>(std::count(all.begin(), all.end(), m));
  }

 private:
  std::string path_;
  int fd_;
  std::atomic<bool> stop_{false};
  std::thread reader_;
  std::mutex mu_;
  std::vector<std::string> messages_;
};

}  // namespace lookout::test
