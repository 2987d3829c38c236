// A gRPC server's reply body (as a server, or an attacker on the path, may send it) to the
// health status, and its grpc-message text to plain text.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "probes/grpc_frame.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  const lookout::GrpcFrameRead frame = lookout::first_grpc_message(body);
  if (!frame.message && frame.error.empty()) __builtin_trap();
  if (frame.message) {
    // The message lies inside the body.
    if (frame.message->data() < body.data() ||
        frame.message->data() + frame.message->size() > body.data() + body.size())
      __builtin_trap();
    std::string error;
    const auto status = lookout::parse_health_response(*frame.message, error);
    if (!status && error.empty()) __builtin_trap();
    if (status) (void)lookout::serving_status_name(*status);
  }
  std::string error;
  (void)lookout::parse_health_response(body, error);
  if (lookout::grpc_percent_decode(body).size() > body.size()) __builtin_trap();
  // What lookout sends reads back as one frame holding the request.
  const std::string request = lookout::health_check_request(body);
  const std::string framed = lookout::grpc_frame(request);
  const auto again = lookout::first_grpc_message(framed);
  if (!again.message || *again.message != request) __builtin_trap();
  return 0;
}
