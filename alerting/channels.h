// Alert channels: each sends one outbox row through the loop's libcurl multi and reports
// whether it was delivered (SMTP 250 after DATA, or an HTTP 2xx), should be retried (network
// errors, 429, 5xx) or failed for good (other 4xx, refused credentials or TLS set-up).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "alerting/incidents.h"
#include "config/config.h"
#include "core/clock.h"

namespace lookout {

class CurlBridge;

struct DeliveryOutcome {
  enum class Kind { kDelivered, kRetry, kPermanent };
  Kind kind = Kind::kRetry;
  std::string detail;  // "HTTP 200", "SMTP 250", or what went wrong; free of secrets
};
const char* to_string(DeliveryOutcome::Kind k);

class Channel {
 public:
  using Done = std::function<void(DeliveryOutcome)>;
  virtual ~Channel() = default;
  // Sends a batch of one group (rows of one channel and recipient, worst first) as one message.
  // `done` runs exactly once, later, on the loop thread (never inside send()).
  virtual void send(const std::vector<OutboxRow>& rows, Done done) = 0;
  virtual const ChannelConfig& config() const = 0;
};

std::unique_ptr<Channel> make_channel(const ChannelConfig& c, CurlBridge& curl, const Clock& clock,
                                      std::string public_url,
                                      std::shared_ptr<const Redactor> redactor);

}  // namespace lookout
