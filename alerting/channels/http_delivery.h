// What the channels that POST over HTTP share, pure: the request they build and how its result
// reads as a delivery outcome.
#pragma once

#include <curl/curl.h>

#include <optional>
#include <string>
#include <string_view>
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
// The same for a provider that documents one success status (PagerDuty's 202): another 2xx
// came from something else (a proxy, a wrong url), did not deliver, and will not by retrying.
DeliveryOutcome exact_http_outcome(CURLcode code, long status, const std::string& detail,
                                   long success);

// What a provider's JSON error answer says: a JSON string, or an object's "message" with its
// "errors" (a list, or field -> message) in parentheses; the answer itself when it is neither.
std::string provider_error(const std::string& answer);

// `path` under an API base that may end with a slash.
std::string api_url(std::string base, std::string_view path);

}  // namespace lookout
