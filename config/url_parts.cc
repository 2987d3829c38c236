#include "config/url_parts.h"

#include <curl/curl.h>

#include <memory>

namespace lookout {

UrlParts split_url(const std::string& url) {
  UrlParts out;
  const std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> u(curl_url(), &curl_url_cleanup);
  if (!u ||
      curl_url_set(u.get(), CURLUPART_URL, url.c_str(), CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK)
    return out;
  auto part = [&](CURLUPart which, std::string& into) {
    char* p = nullptr;
    if (curl_url_get(u.get(), which, &p, 0) == CURLUE_OK && p != nullptr) into = p;
    curl_free(p);
  };
  part(CURLUPART_HOST, out.host);
  part(CURLUPART_PORT, out.port);
  part(CURLUPART_PATH, out.path);
  part(CURLUPART_QUERY, out.query);
  part(CURLUPART_USER, out.user);
  out.ok = true;
  return out;
}

}  // namespace lookout
