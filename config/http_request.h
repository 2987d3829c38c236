// One HTTP request and what its answer must show, as the http, latency and journey kinds
// configure them (parsed in config/http_request.cc).
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/secret.h"

namespace re2 {
class RE2;
}

namespace lookout {

// A user's RE2 pattern, compiled once at load; two are equal when their text is.
struct Pattern {
  std::shared_ptr<const re2::RE2> re;
  explicit operator bool() const { return re != nullptr; }
  const re2::RE2& operator*() const { return *re; }
  const re2::RE2* operator->() const { return re.get(); }
  bool operator==(const Pattern& other) const;
};

// One entry of expect.status: an exact code (lo == hi) or a class like "2xx".
struct StatusRule {
  int lo = 200;
  int hi = 299;
  bool operator==(const StatusRule&) const = default;
};

struct HttpExpect {
  // Default ["2xx"]. (Built with assign(): GCC 12 misreports a braced list here as uninitialized.)
  HttpExpect() { status.assign(1, StatusRule{}); }
  std::vector<StatusRule> status;
  std::optional<Secret> body_contains;
  Pattern body_regex;
  bool body_regex_secret = false;
  std::vector<std::pair<std::string, nlohmann::json>> json;  // JSON Pointer -> expected value
  std::vector<std::pair<std::string, Secret>> headers;       // name -> must contain
  std::optional<Duration> max_latency;
  bool operator==(const HttpExpect&) const = default;
};

struct HttpRequest {
  Secret url;
  std::string method = "GET";
  std::vector<std::pair<std::string, Secret>> headers;
  std::optional<Secret> body;
  std::string ca_file;  // empty: the system store
  bool insecure = false;
  bool follow_redirects = true;
  int max_redirects = 10;
  uint64_t max_body = 1024 * 1024;  // bytes of decoded body read before the run fails
  // Resume a TLS session made at most this long ago instead of a full handshake; 0: every
  // run makes a full handshake and sees the certificate.
  Duration tls_resume{0};
  bool operator==(const HttpRequest&) const = default;
};

}  // namespace lookout
