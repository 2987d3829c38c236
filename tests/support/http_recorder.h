// An HTTP server on loopback that records every request and answers each with the next of a
// scripted list of statuses and bodies (the last one again once the list runs out), for the
// tests that drive a channel through the real loop and libcurl.
#pragma once

#include <httplib.h>

#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace lookout::test {

class HttpRecorder {
 public:
  struct Seen {
    std::string method, path, body;
    httplib::Headers headers;
    std::string header(const std::string& name) const {
      const auto it = headers.find(name);
      return it == headers.end() ? "" : it->second;
    }
  };
  struct Answer {
    int status = 200;
    std::string body;
  };

  explicit HttpRecorder(std::vector<Answer> answers) : answers_(std::move(answers)) {
    auto handle = [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mu_);
      seen_.push_back({req.method, req.target, req.body, req.headers});
      const Answer& a = answers_[std::min(next_, answers_.size() - 1)];
      ++next_;
      res.status = a.status;
      res.set_content(a.body, "application/json");
    };
    svr_.Post(".*", handle);
    svr_.Put(".*", handle);
    port_ = svr_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { svr_.listen_after_bind(); });
    // stop() before the listener runs would be lost, and the join below would wait forever.
    while (!svr_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~HttpRecorder() {
    svr_.stop();
    thread_.join();
  }
  HttpRecorder(const HttpRecorder&) = delete;
  HttpRecorder& operator=(const HttpRecorder&) = delete;

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::vector<Seen> seen() const {
    std::lock_guard lock(mu_);
    return seen_;
  }

 private:
  httplib::Server svr_;
  int port_ = 0;
  std::thread thread_;
  mutable std::mutex mu_;
  std::vector<Answer> answers_;
  size_t next_ = 0;
  std::vector<Seen> seen_;
};

}  // namespace lookout::test
