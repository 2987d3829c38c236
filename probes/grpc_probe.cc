#include "probes/grpc_probe.h"

#include <fmt/format.h>
#include <strings.h>

#include <charconv>

#include "core/curl_bridge.h"
#include "core/text.h"
#include "probes/grpc_frame.h"

namespace lookout {
namespace {

// A health reply is a few bytes; anything near this is not one.
constexpr uint64_t kGrpcMaxBody = 64 * 1024;

// The last value of a header (or trailer, which comes later), or null.
const std::string* grpc_last_header(const GrpcReply& reply, const char* name) {
  const std::string* found = nullptr;
  for (const auto& [k, v] : reply.headers) {
    if (strcasecmp(k.c_str(), name) == 0) found = &v;
  }
  return found;
}

}  // namespace

GrpcVerdict judge_health_reply(const GrpcReply& reply) {
  GrpcVerdict v;
  if (!reply.http2) {
    v.cause = "the server answered over HTTP/1.x, not HTTP/2: not a gRPC server";
    return v;
  }
  const std::string* status = grpc_last_header(reply, "grpc-status");
  const std::string* content_type = grpc_last_header(reply, "content-type");
  if (status == nullptr && reply.http_status != 200) {
    v.cause = fmt::format(
        "HTTP status {} without a grpc-status: not a gRPC server, or a proxy in front of it "
        "failed",
        reply.http_status);
    return v;
  }
  if (status == nullptr) {
    if (content_type == nullptr || ascii_lower(*content_type).rfind("application/grpc", 0) != 0) {
      v.cause = fmt::format(
          "the reply's content-type is {}, not application/grpc: not a gRPC server",
          content_type != nullptr ? "\"" + shorten(*content_type, 60) + "\"" : "missing");
    } else {
      v.cause = "the reply ended without a grpc-status trailer";
    }
    return v;
  }
  const std::string code_text = trim(*status);
  int64_t code = 0;
  const auto [end, ec] =
      std::from_chars(code_text.data(), code_text.data() + code_text.size(), code);
  if (ec != std::errc{} || end != code_text.data() + code_text.size() || code_text.empty()) {
    v.cause = fmt::format("grpc-status \"{}\" is not a number", shorten(code_text, 40));
    return v;
  }
  v.grpc_status = code;
  if (const std::string* message = grpc_last_header(reply, "grpc-message"))
    v.grpc_message = grpc_percent_decode(trim(*message));
  if (code != 0) {
    const std::string_view name = grpc_status_name(code);
    v.kind = ErrorKind::kExpectation;
    v.cause = fmt::format("grpc-status {}{}{}", code, name.empty() ? "" : " ", name);
    if (!v.grpc_message.empty()) v.cause += ": " + shorten(v.grpc_message, 200);
    return v;
  }
  const GrpcFrameRead frame = first_grpc_message(reply.body);
  if (!frame.message) {
    v.cause = "grpc-status 0 but " + frame.error;
    return v;
  }
  std::string error;
  const auto serving = parse_health_response(*frame.message, error);
  if (!serving) {
    v.cause = "the reply is not a HealthCheckResponse: " + error;
    return v;
  }
  v.serving_status = serving_status_name(*serving);
  if (*serving == 1) {
    v.outcome = Outcome::kUp;
    v.kind = ErrorKind::kNone;
    return v;
  }
  v.kind = ErrorKind::kExpectation;
  v.cause = v.serving_status;
  return v;
}

GrpcProbe::GrpcProbe(const MonitorConfig& m, ProbeContext& ctx,
                     std::shared_ptr<const Redactor> redactor)
    : ProbeSession(m, ctx, std::move(redactor)), spec_(m.spec_as<GrpcSpec>()) {
  options_.ca_file = spec_.ca_file;
  options_.insecure = spec_.insecure_tls;
  options_.follow_redirects = false;
  options_.max_redirects = 0;
  options_.max_body = kGrpcMaxBody;
  call_.url = fmt::format("{}://{}/grpc.health.v1.Health/Check", spec_.tls ? "https" : "http",
                          spec_.authority);
  call_.method = "POST";
  call_.header_lines = {"Content-Type: application/grpc", "TE: trailers",
                        fmt::format("User-Agent: lookout/{}", LOOKOUT_VERSION),
                        // libcurl would otherwise ask for a 100-continue first.
                        "Expect:"};
  call_.body = grpc_frame(health_check_request(spec_.service));
  call_.options = &options_;
  call_.timeout = m.timeout;
  call_.http_version = spec_.tls ? CURL_HTTP_VERSION_2TLS : CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE;
}

GrpcProbe::~GrpcProbe() { abort(); }

bool GrpcProbe::begin() {
  easy_ = ctx_.curl.acquire();
  if (easy_ == nullptr) return false;
  exchange_ = std::make_unique<HttpExchange>(ctx_.curl, ctx_.source);
  return exchange_->start(easy_, call_, [this](HttpExchangeResult x) {
    // The exchange calls this as its last act, so finish() may let it go.
    finish(judge(std::move(x)));
  });
}

void GrpcProbe::abort() {
  exchange_.reset();  // cancels a transfer in flight before its handle goes back
  ctx_.curl.release(std::exchange(easy_, nullptr));
}

ProbeResult GrpcProbe::timed_out() { return judge(exchange_->timed_out()); }

ProbeResult GrpcProbe::judge(HttpExchangeResult x) {
  ProbeResult r;
  r.timings = x.timings;
  nlohmann::json detail{{"service", spec_.service}};
  if (!x.responded) {
    r.outcome = Outcome::kDown;
    r.kind = x.kind;
    r.cause = std::move(x.cause);
    // An HTTP/1 server meets the HTTP/2 preface of h2c with silence, a close or garbage.
    if (r.kind == ErrorKind::kProtocol && !spec_.tls)
      r.cause = fmt::format("no HTTP/2 reply, so not a gRPC server ({})", r.cause);
    r.detail = detail.dump();
    return r;
  }
  long version = 0;
  curl_easy_getinfo(easy_, CURLINFO_HTTP_VERSION, &version);
  GrpcReply reply;
  reply.http_status = x.obs.status;
  reply.http2 = version == CURL_HTTP_VERSION_2_0;
  reply.headers = std::move(x.obs.headers);
  reply.body = std::move(x.obs.body);
  GrpcVerdict v = judge_health_reply(reply);
  r.outcome = v.outcome;
  r.kind = v.kind;
  r.cause = std::move(v.cause);
  r.http_status = x.obs.status;
  if (r.timings.total_us) r.samples_us.push_back(*r.timings.total_us);
  detail["http_status"] = x.obs.status;
  detail["grpc_status"] = v.grpc_status ? nlohmann::json(*v.grpc_status) : nlohmann::json(nullptr);
  if (v.grpc_status) detail["grpc_status_name"] = grpc_status_name(*v.grpc_status);
  if (!v.grpc_message.empty()) detail["grpc_message"] = shorten(v.grpc_message, 200);
  detail["serving_status"] =
      v.serving_status.empty() ? nlohmann::json(nullptr) : nlohmann::json(v.serving_status);
  r.detail = detail.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  // The server's message may quote what it was sent.
  if (redactor_) r.detail = redactor_->apply(std::move(r.detail));
  return r;
}

}  // namespace lookout
