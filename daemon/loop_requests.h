// A change asked for by a web thread of state the loop owns (posts, maintenance windows): the
// request is queued under a mutex, the loop woken, and the web thread waits for the loop's
// answer for at most 5 s (nullopt after that: the API answers 503 and the loop still applies
// it). The loop takes the queue whole and answers each request once it has published the
// change, so a reader right after the answer sees it, and once storage has committed it, so
// that a kill -9 right after the answer loses nothing it promised.
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include "core/event_loop.h"

namespace lookout {

template <typename Command, typename Answer>
class LoopRequests {
 public:
  struct Request {
    Command command;
    std::promise<Answer> answer;
  };

  // From a web thread.
  std::optional<Answer> ask(Command command, Async& wake) {
    std::future<Answer> answer;
    {
      std::lock_guard lock(mu_);
      queue_.push_back(Request{std::move(command), {}});
      answer = queue_.back().answer.get_future();
    }
    wake.send();
    if (answer.wait_for(std::chrono::seconds(5)) != std::future_status::ready) return std::nullopt;
    try {
      return answer.get();
    } catch (const std::future_error&) {
      return std::nullopt;  // dropped unanswered: the loop has stopped
    }
  }

  // On the loop: every request waiting, oldest first. Dropping one unanswered makes its web
  // thread's ask() answer nullopt at once (as when the loop stops).
  std::deque<Request> take() {
    std::deque<Request> out;
    std::lock_guard lock(mu_);
    out.swap(queue_);
    return out;
  }

  // What answers `requests`, each with its answer in `answers` (same order), when called.
  static std::function<void()> answering(std::deque<Request> requests,
                                         std::vector<Answer> answers) {
    auto held = std::make_shared<std::pair<std::deque<Request>, std::vector<Answer>>>(
        std::move(requests), std::move(answers));
    return [held] {
      for (size_t i = 0; i < held->first.size(); ++i)
        held->first[i].answer.set_value(std::move(held->second[i]));
    };
  }

 private:
  std::mutex mu_;
  std::deque<Request> queue_;
};

}  // namespace lookout
