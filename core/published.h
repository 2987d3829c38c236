// A value one thread replaces whole and other threads read: a reader gets the current value
// as a shared pointer to an immutable object and may keep it as long as it likes; publishing
// a new one never waits for readers, and readers never see a value half made.
#pragma once

#include <memory>
#include <mutex>

namespace lookout {

template <typename T>
class Published {
 public:
  void publish(std::shared_ptr<const T> value) {
    std::lock_guard lock(mu_);
    current_ = std::move(value);
  }
  std::shared_ptr<const T> get() const {
    std::lock_guard lock(mu_);
    return current_;
  }

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const T> current_ = std::make_shared<const T>();
};

}  // namespace lookout
