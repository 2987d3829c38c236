// The grpc probe: grpc.health.v1.Health/Check as one HTTP/2 POST through the loop's libcurl
// multi (h2c with prior knowledge for grpc://, ALPN h2 for grpcs://), the serving status read
// from the reply's message and grpc-status from its trailers.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "config/config.h"
#include "config/kinds/grpc_spec.h"
#include "probes/http_exchange.h"
#include "probes/probe_session.h"

namespace lookout {

// What a health reply came as: the HTTP layer and the headers and trailers, in order.
struct GrpcReply {
  int http_status = 0;
  bool http2 = false;
  std::vector<std::pair<std::string, std::string>> headers;  // trailers after the headers
  std::string body;
};

struct GrpcVerdict {
  Outcome outcome = Outcome::kDown;
  ErrorKind kind = ErrorKind::kProtocol;
  std::string cause;
  std::optional<int64_t> grpc_status;
  std::string grpc_message;    // decoded
  std::string serving_status;  // SERVING, NOT_SERVING, ... when a message came
};

// The verdict on a reply: up only for grpc-status 0 with SERVING. Pure.
GrpcVerdict judge_health_reply(const GrpcReply& reply);

class GrpcProbe final : public ProbeSession {
 public:
  GrpcProbe(const MonitorConfig& m, ProbeContext& ctx, std::shared_ptr<const Redactor> redactor);
  ~GrpcProbe() override;

 private:
  bool begin() override;
  void abort() override;
  ProbeResult timed_out() override;
  ProbeResult judge(HttpExchangeResult x);

  const GrpcSpec& spec_;  // m_'s
  HttpRequest options_;   // ca_file, insecure and the body cap, as the exchange takes them
  HttpCall call_;
  std::unique_ptr<HttpExchange> exchange_;  // only while a run is in flight
  CURL* easy_ = nullptr;
};

}  // namespace lookout
