#include "web/status_json.h"

namespace lookout {

nlohmann::json status_json(const Snapshot& s, bool include_private) {
  auto monitors = nlohmann::json::array();
  for (const auto& m : s.monitors) {
    if (!m.is_public && !include_private) continue;
    nlohmann::json j;
    j["name"] = m.name;
    j["group"] = m.group;
    j["type"] = m.type;
    j["state"] = to_string(m.state);
    j["since"] = m.since ? nlohmann::json(rfc3339(*m.since)) : nlohmann::json(nullptr);
    j["last_check"] = m.last_check ? nlohmann::json(rfc3339(*m.last_check)) : nlohmann::json(nullptr);
    j["latency_ms"] = m.latency_us ? nlohmann::json(static_cast<double>(*m.latency_us) / 1000.0) : nlohmann::json(nullptr);
    j["cause"] = m.cause.empty() ? nlohmann::json(nullptr) : nlohmann::json(m.cause);
    monitors.push_back(std::move(j));
  }
  return {{"title", s.title}, {"monitors", std::move(monitors)}};
}

}  // namespace lookout
