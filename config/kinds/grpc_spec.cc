// The grpc kind's keys.
#include "config/kinds/grpc_spec.h"

#include "config/kinds/registry.h"
#include "config/url_parts.h"
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
  const UrlParts u = split_url(url);
  if (!u.ok) return "is not a valid URL";
  if (u.host.empty()) return "has no host";
  if ((!u.path.empty() && u.path != "/") || !u.query.empty() || !u.user.empty())
    return "must be only scheme, host and port: the health service has a fixed path";
  if (u.port.empty() && !tls) return "needs a port: cleartext gRPC has no default one";
  authority = fmt::format("{}:{}", ascii_lower(u.host), u.port.empty() ? "443" : u.port);
  return "";
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
