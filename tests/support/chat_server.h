// A provider's API as a real HTTP server on a free loopback port, and a channel's send() run on
// a loop of its own against it: what goes over the wire (method, path, headers, body) and what
// the channel makes of an answer (status, body, Retry-After).
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

class ChatServer {
 public:
  struct Answer {
    int status = 200;
    std::string body;
    std::string retry_after;  // the Retry-After header, when not empty
  };
  struct Request {
    std::string method;
    std::string target;  // the path as sent, percent-encoding and query included
    std::string body, authorization, user_agent;
  };

  explicit ChatServer(Answer answer) : answer_(std::move(answer)) {
    const auto handle = [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mu_);
      seen_.push_back({req.method, req.target, req.body, req.get_header_value("Authorization"),
                       req.get_header_value("User-Agent")});
      res.status = answer_.status;
      if (!answer_.retry_after.empty()) res.set_header("Retry-After", answer_.retry_after);
      res.set_content(answer_.body, "application/json");
    };
    svr_.Post(".*", handle);
    svr_.Put(".*", handle);
    port_ = svr_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { svr_.listen_after_bind(); });
    // stop() before the listener runs would be lost, and the join below would wait forever.
    while (!svr_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~ChatServer() {
    svr_.stop();
    thread_.join();
  }
  ChatServer(const ChatServer&) = delete;
  ChatServer& operator=(const ChatServer&) = delete;

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::vector<Request> seen() {
    std::lock_guard lock(mu_);
    return seen_;
  }

 private:
  httplib::Server svr_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  Answer answer_;
  std::vector<Request> seen_;
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
