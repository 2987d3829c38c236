#include "probes/rdap.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "probes/domain_expiry.h"

namespace lookout {
namespace {

std::string rdap_lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string rdap_trim_dots(std::string s) {
  while (!s.empty() && s.front() == '.') s.erase(s.begin());
  while (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

}  // namespace

std::optional<RdapBootstrap> parse_rdap_bootstrap(std::string_view json, std::string& error) {
  const auto doc = nlohmann::json::parse(json, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    error = "not a JSON object";
    return std::nullopt;
  }
  const auto services = doc.find("services");
  if (services == doc.end() || !services->is_array()) {
    error = "no \"services\" array";
    return std::nullopt;
  }
  RdapBootstrap b;
  if (auto p = doc.find("publication"); p != doc.end() && p->is_string()) b.publication = *p;
  for (const auto& service : *services) {
    if (!service.is_array() || service.size() < 2 || !service[0].is_array() ||
        !service[1].is_array()) {
      continue;
    }
    std::string url;
    for (const auto& u : service[1]) {
      if (!u.is_string()) continue;
      const std::string s = u.get<std::string>();
      if (s.rfind("https://", 0) == 0) {
        url = s;
        break;
      }
      if (url.empty() && s.rfind("http://", 0) == 0) url = s;
    }
    if (url.empty()) continue;
    for (const auto& tld : service[0]) {
      if (!tld.is_string()) continue;
      std::string suffix = rdap_trim_dots(rdap_lower(tld.get<std::string>()));
      if (!suffix.empty()) b.entries.emplace_back(std::move(suffix), url);
    }
  }
  return b;
}

std::optional<std::string> rdap_base_for(const RdapBootstrap& bootstrap, std::string_view domain) {
  const std::string name = rdap_trim_dots(rdap_lower(domain));
  const std::pair<std::string, std::string>* best = nullptr;
  for (const auto& entry : bootstrap.entries) {
    const std::string& suffix = entry.first;
    // A whole-label match: "example.com" ends in "com", "examplecom" does not.
    const bool match =
        name == suffix || (name.size() > suffix.size() &&
                           name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0 &&
                           name[name.size() - suffix.size() - 1] == '.');
    if (match && (best == nullptr || suffix.size() > best->first.size())) best = &entry;
  }
  if (best == nullptr) return std::nullopt;
  return best->second;
}

std::string rdap_domain_url(std::string_view base, std::string_view domain) {
  std::string url(base);
  while (!url.empty() && url.back() == '/') url.pop_back();
  return fmt::format("{}/domain/{}", url, domain);
}

RdapDomain parse_rdap_domain(std::string_view body) {
  RdapDomain d;
  const auto doc = nlohmann::json::parse(body, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    d.problem = "the answer is not a JSON object";
    return d;
  }
  d.json = true;
  const auto events = doc.find("events");
  if (events == doc.end() || !events->is_array()) {
    d.problem = "the answer has no events";
    return d;
  }
  for (const auto& e : *events) {
    if (!e.is_object()) continue;
    const auto action = e.find("eventAction");
    const auto date = e.find("eventDate");
    if (action == e.end() || !action->is_string() || date == e.end() || !date->is_string()) {
      continue;
    }
    const std::string a = rdap_lower(action->get<std::string>());
    if (a != "expiration" && a != "registration expiration") continue;
    d.expires_text = date->get<std::string>();
    d.expires = parse_registry_time(d.expires_text);
    if (d.expires) {
      d.problem.clear();
      return d;
    }
    d.problem = fmt::format("its expiration date \"{}\" is not an RFC 3339 time",
                            d.expires_text.substr(0, 64));
  }
  if (d.problem.empty()) d.problem = "the answer has no expiration event";
  return d;
}

}  // namespace lookout
