// The gRPC wire format the grpc kind speaks: the 5-byte length prefix of a message, the two
// one-field protobuf messages of grpc.health.v1.Health/Check, and the names of gRPC's status
// codes. Pure, and careful with what a server sends: every read is bounded by what arrived.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace lookout {

// HealthCheckRequest { string service = 1; } as protobuf bytes.
std::string health_check_request(std::string_view service);

// One gRPC message frame: flag 0 (not compressed), the length as 4 bytes big-endian, `message`.
std::string grpc_frame(std::string_view message);

// The first message frame of a response body. `error` says why there is none: an empty body,
// a frame cut short, a length beyond what arrived, a compressed message (lookout offers no
// compression, so a server must not use one).
struct GrpcFrameRead {
  std::optional<std::string_view> message;  // points into the body
  std::string error;
};
GrpcFrameRead first_grpc_message(std::string_view body);

// HealthCheckResponse { ServingStatus status = 1; } from protobuf bytes: the status (0 when
// the field is absent, as proto3 reads it), unknown fields skipped by their wire type; nullopt
// with `error` when the bytes are not a valid message.
std::optional<uint64_t> parse_health_response(std::string_view in, std::string& error);

// UNKNOWN, SERVING, NOT_SERVING, SERVICE_UNKNOWN; "status N" for a value the enum lacks.
std::string serving_status_name(uint64_t status);

// OK, CANCELLED, ..., UNAUTHENTICATED; "" for a code gRPC does not define.
std::string_view grpc_status_name(int64_t code);

// grpc-message as sent (percent-encoded, RFC 3986 style, per the gRPC HTTP/2 protocol): the
// text, with a malformed escape kept as it is.
std::string grpc_percent_decode(std::string_view text);

}  // namespace lookout
