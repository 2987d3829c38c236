#include "alerting/channels/http_delivery.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

namespace lookout {

DeliveryOutcome http_outcome(CURLcode code, long status, const std::string& detail) {
  if (code != CURLE_OK) return {DeliveryOutcome::Kind::kRetry, detail};
  const std::string what = fmt::format("HTTP {}", status);
  if (status >= 200 && status < 300) return {DeliveryOutcome::Kind::kDelivered, what};
  if (status == 429 || status >= 500 || status == 408) return {DeliveryOutcome::Kind::kRetry, what};
  return {DeliveryOutcome::Kind::kPermanent,
          what + (detail.empty() ? "" : ": " + detail.substr(0, 200))};
}

DeliveryOutcome exact_http_outcome(CURLcode code, long status, const std::string& detail,
                                   long success) {
  if (code == CURLE_OK && status != success && status >= 200 && status < 300) {
    return {DeliveryOutcome::Kind::kPermanent,
            fmt::format("HTTP {} where {} means delivered", status, success)};
  }
  return http_outcome(code, status, detail);
}

std::string provider_error(const std::string& answer) {
  const auto j = nlohmann::json::parse(answer, nullptr, false);
  if (j.is_string()) return j.get<std::string>();
  if (!j.is_object() || !j.contains("message") || !j["message"].is_string()) return answer;
  std::string out = j["message"].get<std::string>();
  std::string errors;
  auto add = [&errors](const std::string& e) { errors += (errors.empty() ? "" : "; ") + e; };
  if (const auto it = j.find("errors"); it != j.end()) {
    for (const auto& [key, e] : it->items()) {
      std::string text = it->is_object() ? key + ": " : "";
      text += e.is_string() ? e.get<std::string>() : e.dump();
      add(text);
    }
  }
  return errors.empty() ? out : out + " (" + errors + ")";
}

std::string api_url(std::string base, std::string_view path) {
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base.append(path);
}

}  // namespace lookout
