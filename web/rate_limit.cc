#include "web/rate_limit.h"

#include <algorithm>
#include <cmath>

namespace lookout {

int64_t RateLimiter::check(const std::string& client, MonoTime now) {
  return check(client, now, limit_, window_);
}

int64_t RateLimiter::check(const std::string& client, MonoTime now, int limit, Duration window) {
  std::lock_guard lock(mu_);
  const double per_ms = static_cast<double>(limit) / static_cast<double>(window.count());
  if (buckets_.size() > 100'000)
    buckets_.clear();  // a flood of addresses must not grow memory without bound
  auto [it, fresh] = buckets_.try_emplace(client, Bucket{static_cast<double>(limit), now});
  Bucket& b = it->second;
  if (!fresh) {
    const double elapsed =
        static_cast<double>(std::chrono::duration_cast<Duration>(now - b.at).count());
    b.tokens = std::min(static_cast<double>(limit), b.tokens + elapsed * per_ms);
    b.at = now;
  }
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return 0;
  }
  return static_cast<int64_t>(std::ceil((1.0 - b.tokens) / per_ms / 1000.0));
}

}  // namespace lookout
