// The grpc kind: grpc.health.v1.Health/Check over HTTP/2, judged by the serving status and the
// gRPC status (probes/grpc_probe).
#pragma once

#include <string>

#include "config/config.h"

namespace lookout {

struct GrpcSpec : SpecOf<GrpcSpec> {
  Secret url;             // as written: grpc://host:port or grpcs://host:port
  bool tls = false;       // grpcs://
  std::string authority;  // "host:port" of the url (IPv6 in brackets)
  std::string service;    // "" asks about the whole server
  std::string ca_file;    // empty: the system store
  bool insecure_tls = false;
  bool insecure() const override { return insecure_tls; }
  bool operator==(const GrpcSpec&) const = default;
};

}  // namespace lookout
