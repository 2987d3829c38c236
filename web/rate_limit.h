// Per-client token buckets for /ack and admin calls: `limit` requests per `window`, refilled
// evenly. Pure apart from its mutex: the caller passes the time.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

#include "core/clock.h"

namespace lookout {

class RateLimiter {
 public:
  RateLimiter(int limit, Duration window) : limit_(limit), window_(window) {}
  // 0 when allowed; otherwise the seconds to wait, for Retry-After.
  int64_t check(const std::string& client, MonoTime now);
  // The same with the limit of this call: one the config may change while the server runs.
  int64_t check(const std::string& client, MonoTime now, int limit, Duration window);

 private:
  struct Bucket {
    double tokens;
    MonoTime at;
  };
  int limit_;
  Duration window_;
  std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace lookout
