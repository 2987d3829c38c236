// What the channels that POST over HTTP share, pure: the request they build and how its result
// reads as a delivery outcome.
#pragma once

#include <curl/curl.h>

#include <optional>
#include <string>
#include <vector>

#include "alerting/channels/channel.h"

namespace lookout {

struct HttpPost {
  struct BasicAuth {
    std::string user, password;
  };
  std::string url;
  std::string method = "POST";       // or PUT (Matrix)
  std::vector<std::string> headers;  // "Name: value", in the order they are sent
  std::string body;                  // sent as is
  std::optional<BasicAuth> basic_auth;
};

// A 2xx is delivered; a network error, 408, 429 or 5xx is worth a retry; any other status will
// not change by asking again, and keeps the start of the answer to say why.
DeliveryOutcome http_outcome(CURLcode code, long status, const std::string& detail);

}  // namespace lookout
