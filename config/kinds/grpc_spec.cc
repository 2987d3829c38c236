// The grpc kind's keys.
#include "config/kinds/grpc_spec.h"

#include <curl/curl.h>

#include "config/kinds/registry.h"
#include "core/text.h"

namespace lookout::config_detail {
namespace {

const std::set<std::string>& grpc_monitor_keys() {
  static const std::set<std::string> keys{"url", "service", "ca_file", "insecure"};
  return keys;
}

const std::set<std::string>& grpc_no_expect_keys() {
  static const std::set<std::string> keys;
  return keys;
}

// "" when `url` is grpc://host:port or grpcs://host[:port] with nothing after the authority;
// else why not. Sets `tls` and `authority`.
std::string grpc_url_parts(const std::string& url, bool& tls, std::string& authority) {
  const auto sep = url.find("://");
  const std::string scheme = ascii_lower(url.substr(0, sep == std::string::npos ? 0 : sep));
  if (scheme != "grpc" && scheme != "grpcs") return "must start with grpc:// or grpcs://";
  tls = scheme == "grpcs";
  CURLU* u = curl_url();
  std::string why;
  if (curl_url_set(u, CURLUPART_URL, url.c_str(), CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK) {
    why = "is not a valid URL";
  } else {
    char* host = nullptr;
    char* port = nullptr;
    char* path = nullptr;
    char* query = nullptr;
    char* user = nullptr;
    curl_url_get(u, CURLUPART_HOST, &host, 0);
    curl_url_get(u, CURLUPART_PORT, &port, 0);
    curl_url_get(u, CURLUPART_PATH, &path, 0);
    curl_url_get(u, CURLUPART_QUERY, &query, 0);
    curl_url_get(u, CURLUPART_USER, &user, 0);
    if (host == nullptr || *host == '\0') {
      why = "has no host";
    } else if ((path != nullptr && std::string_view(path) != "/") || query != nullptr ||
               user != nullptr) {
      why = "must be only scheme, host and port: the health service has a fixed path";
    } else if (port == nullptr && !tls) {
      why = "needs a port: cleartext gRPC has no default one";
    } else {
      authority = fmt::format("{}:{}", ascii_lower(host), port != nullptr ? port : "443");
    }
    curl_free(host);
    curl_free(port);
    curl_free(path);
    curl_free(query);
    curl_free(user);
  }
  curl_url_cleanup(u);
  return why;
}

std::shared_ptr<const KindSpec> parse_grpc(Parser& p, const Layers& layers,
                                           const toml::table& where, MonitorConfig& m) {
  auto spec = std::make_shared<GrpcSpec>();
  if (const auto* n = layers.get("url")) {
    if (auto v = p.text(*n, "url")) {
      const std::string why = grpc_url_parts(v->reveal(), spec->tls, spec->authority);
      if (!why.empty()) {
        p.error(n->source(), fmt::format("url {} {}", v->shown(), why));
      } else if (v->is_secret()) {
        p.also_secret(spec->authority);
      }
      spec->url = std::move(*v);
    }
  } else {
    p.error(where.source(),
            fmt::format("grpc monitor \"{}\" has no url (grpc://host:port or grpcs://host:port)",
                        m.name));
  }
  if (const auto* n = layers.get("service")) {
    if (auto v = p.plain_text(*n, "service")) spec->service = *v;
  }
  parse_tls_trust(p, layers, m.name, spec->ca_file, spec->insecure_tls);
  m.host = spec->authority;  // the per-host concurrency cap
  return spec;
}

}  // namespace

extern const KindParser kGrpcKind{"grpc", grpc_monitor_keys, grpc_no_expect_keys, parse_grpc};

}  // namespace lookout::config_detail
