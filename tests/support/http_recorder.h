// An HTTP server on loopback that records every request and answers each with the next of a
// scripted list of statuses and bodies (the last one again once the list runs out), after a
// delay when one is given, for the tests that drive a channel through the real loop and
// libcurl; and deliver(), one channel's send() on a loop of its own against it.
#pragma once

#include <httplib.h>

#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "alerting/channels/registry.h"
#include "core/clock.h"
#include "core/curl_bridge.h"
#include "core/event_loop.h"

namespace lookout::test {

class HttpRecorder {
 public:
  struct Seen {
    std::string method, path, body;
    httplib::Headers headers;
    int status = 0;     // the answer it got
    int64_t at_ms = 0;  // when it came, by the system clock
    std::string header(const std::string& name) const {
      const auto it = headers.find(name);
      return it == headers.end() ? "" : it->second;
    }
  };
  struct Answer {
    Answer(int s, std::string b, std::string ra = "")
        : status(s), body(std::move(b)), retry_after(std::move(ra)) {}
    int status = 200;
    std::string body;
    std::string retry_after;  // the Retry-After header, when not empty
  };

  explicit HttpRecorder(std::vector<Answer> answers,
                        std::chrono::milliseconds delay = std::chrono::milliseconds{0})
      : answers_(std::move(answers)), delay_(delay) {
    auto handle = [this](const httplib::Request& req, httplib::Response& res) {
      const int64_t at_ms = to_unix_ms(std::chrono::system_clock::now());
      const Answer a = [&] {
        std::lock_guard lock(mu_);
        Answer next = answers_[std::min(next_, answers_.size() - 1)];
        ++next_;
        seen_.push_back({req.method, req.target, req.body, req.headers, next.status, at_ms});
        return next;
      }();
      // Outside the lock: requests in flight together are answered together.
      std::this_thread::sleep_for(delay_);
      res.status = a.status;
      if (!a.retry_after.empty()) res.set_header("Retry-After", a.retry_after);
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
  std::chrono::milliseconds delay_;
  size_t next_ = 0;
  std::vector<Seen> seen_;
};

// What the channel of `c` reports for `rows`, sent through the real channel code.
inline DeliveryOutcome deliver(const ChannelConfig& c, const std::vector<OutboxRow>& rows,
                               std::shared_ptr<const Redactor> redactor = nullptr) {
  SystemClock clock;
  EventLoop loop;
  CurlBridge curl(loop, clock);
  DeliveryOutcome out{DeliveryOutcome::Kind::kRetry, "never finished"};
  const auto channel = make_channel(c, curl, clock, "https://status.test", std::move(redactor));
  channel->send(rows, [&out](DeliveryOutcome o) { out = std::move(o); });
  loop.run();
  return out;
}

}  // namespace lookout::test
