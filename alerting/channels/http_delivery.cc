#include "alerting/channels/http_delivery.h"

#include <fmt/format.h>

namespace lookout {

DeliveryOutcome http_outcome(CURLcode code, long status, const std::string& detail) {
  if (code != CURLE_OK) return {DeliveryOutcome::Kind::kRetry, detail};
  const std::string what = fmt::format("HTTP {}", status);
  if (status >= 200 && status < 300) return {DeliveryOutcome::Kind::kDelivered, what};
  if (status == 429 || status >= 500 || status == 408) return {DeliveryOutcome::Kind::kRetry, what};
  return {DeliveryOutcome::Kind::kPermanent,
          what + (detail.empty() ? "" : ": " + detail.substr(0, 200))};
}

}  // namespace lookout
