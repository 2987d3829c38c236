#include "web/hooks.h"

#include <openssl/crypto.h>

#include <nlohmann/json.hpp>

#include "core/digest.h"

namespace lookout {

bool pagerduty_signature_ok(std::string_view body, std::string_view header,
                            const std::vector<Secret>& secrets) {
  bool ok = false;
  for (const auto& secret : secrets) {
    const std::string expected = "v1=" + hmac_sha256_hex(secret.reveal(), body);
    size_t start = 0;
    while (start <= header.size()) {
      size_t end = header.find(',', start);
      if (end == std::string_view::npos) end = header.size();
      std::string_view sig = header.substr(start, end - start);
      while (!sig.empty() && sig.front() == ' ') sig.remove_prefix(1);
      while (!sig.empty() && sig.back() == ' ') sig.remove_suffix(1);
      // Every candidate is compared in full, so the time taken says nothing of how close it was.
      if (sig.size() == expected.size() &&
          CRYPTO_memcmp(sig.data(), expected.data(), expected.size()) == 0)
        ok = true;
      start = end + 1;
    }
  }
  return ok;
}

std::optional<int64_t> pagerduty_acknowledged_incident(std::string_view body) {
  const auto j = nlohmann::json::parse(body, nullptr, false);
  if (!j.is_object()) return std::nullopt;
  const auto event = j.find("event");
  if (event == j.end() || !event->is_object()) return std::nullopt;
  if (event->value("event_type", "") != "incident.acknowledged") return std::nullopt;
  const auto data = event->find("data");
  if (data == event->end() || !data->is_object()) return std::nullopt;
  const auto key = data->find("incident_key");
  if (key == data->end() || !key->is_string()) return std::nullopt;
  const std::string k = key->get<std::string>();
  constexpr std::string_view kPrefix = "lookout-";
  if (k.rfind(kPrefix, 0) != 0 || k.size() == kPrefix.size() || k.size() > kPrefix.size() + 18)
    return std::nullopt;
  int64_t id = 0;
  for (size_t i = kPrefix.size(); i < k.size(); ++i) {
    if (k[i] < '0' || k[i] > '9') return std::nullopt;  // lookout-test-..., or not ours
    id = id * 10 + (k[i] - '0');
  }
  return id > 0 ? std::optional<int64_t>(id) : std::nullopt;
}

bool pushover_callback_acknowledged(std::string_view form_body) {
  size_t start = 0;
  while (start <= form_body.size()) {
    size_t end = form_body.find('&', start);
    if (end == std::string_view::npos) end = form_body.size();
    if (form_body.substr(start, end - start) == "acknowledged=1") return true;
    start = end + 1;
  }
  return false;
}

}  // namespace lookout
