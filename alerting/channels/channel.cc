#include "alerting/channels/channel.h"

namespace lookout {

const char* to_string(DeliveryOutcome::Kind k) {
  switch (k) {
    case DeliveryOutcome::Kind::kDelivered:
      return "delivered";
    case DeliveryOutcome::Kind::kRetry:
      return "retry";
    case DeliveryOutcome::Kind::kPermanent:
      return "failed";
  }
  return "retry";
}

}  // namespace lookout
