#include "audit/url.h"

#include <arpa/inet.h>
#include <curl/curl.h>

#include <algorithm>
#include <memory>

#include "core/text.h"

namespace lookout::audit {
namespace {

using Handle = std::unique_ptr<CURLU, decltype(&curl_url_cleanup)>;

Handle handle_of(const std::string& url) {
  Handle h(curl_url(), &curl_url_cleanup);
  if (curl_url_set(h.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) h.reset();
  return h;
}

std::string part(CURLU* u, CURLUPart which, unsigned flags = 0) {
  char* p = nullptr;
  std::string out;
  if (curl_url_get(u, which, &p, flags) == CURLUE_OK && p != nullptr) out = p;
  curl_free(p);
  return out;
}

}  // namespace

UrlParts parse_url(const std::string& url) {
  UrlParts out;
  const Handle h = handle_of(url);
  if (!h) return out;
  out.scheme = part(h.get(), CURLUPART_SCHEME);
  out.host = part(h.get(), CURLUPART_HOST);
  out.port = part(h.get(), CURLUPART_PORT);
  out.path = part(h.get(), CURLUPART_PATH);
  out.query = part(h.get(), CURLUPART_QUERY);
  out.ok = !out.scheme.empty() && !out.host.empty();
  return out;
}

std::string resolve_url(const std::string& base, const std::string& ref) {
  const Handle h = handle_of(base);
  if (!h || curl_url_set(h.get(), CURLUPART_URL, ref.c_str(), 0) != CURLUE_OK) return "";
  return part(h.get(), CURLUPART_URL);
}

std::string with_host(const std::string& url, const std::string& host) {
  const Handle h = handle_of(url);
  if (!h || curl_url_set(h.get(), CURLUPART_HOST, host.c_str(), 0) != CURLUE_OK) return "";
  return part(h.get(), CURLUPART_URL);
}

bool same_origin(const std::string& a, const std::string& b) {
  auto origin = [](const std::string& url) {
    const Handle h = handle_of(url);
    if (!h) return std::string();
    return ascii_lower(part(h.get(), CURLUPART_SCHEME) + "://" + part(h.get(), CURLUPART_HOST) +
                       ":" + part(h.get(), CURLUPART_PORT, CURLU_DEFAULT_PORT));
  };
  const std::string oa = origin(a);
  return !oa.empty() && oa == origin(b);
}

bool is_address(const std::string& host) {
  unsigned char buf[16];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

}  // namespace lookout::audit
