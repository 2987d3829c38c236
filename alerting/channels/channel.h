// What the dispatcher sees of an alert channel: it sends one batch of outbox rows and reports
// whether it was delivered (SMTP 250 after DATA, or an HTTP 2xx), should be retried (network
// errors, 408, 429, 5xx) or failed for good (other 4xx, refused credentials or TLS set-up).
// Each kind lives in its own file pair beside this one and is listed in registry.h.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "store/records.h"

namespace lookout {

struct DeliveryOutcome {
  enum class Kind { kDelivered, kRetry, kPermanent };
  DeliveryOutcome() = default;
  DeliveryOutcome(Kind k, std::string d) : kind(k), detail(std::move(d)) {}
  Kind kind = Kind::kRetry;
  std::string detail;  // "HTTP 200", "SMTP 250", or what went wrong; free of secrets
  // How long the provider asked to wait before the next attempt (Retry-After), when it did.
  std::optional<Duration> retry_after;
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
  // A channel that keeps each open incident alive on the provider's side (alertmanager resends
  // its alerts) carries on with the notifications it had delivered for incidents still open:
  // from storage at start, from the channel it replaces on a reload. Others keep nothing.
  virtual void resume(const std::vector<OutboxRow>& delivered) { (void)delivered; }
  virtual std::vector<OutboxRow> resumable() const { return {}; }
  // The key ack links are signed with, for a channel that makes an ack link of its own (a
  // grouped Pushover emergency's callback acknowledges every incident it rings for).
  virtual void sign_acks_with(const std::string& ack_key) { (void)ack_key; }
};

}  // namespace lookout
