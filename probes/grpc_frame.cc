#include "probes/grpc_frame.h"

#include <fmt/format.h>

#include <array>

namespace lookout {
namespace {

void grpc_put_varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out += static_cast<char>((v & 0x7F) | 0x80);
    v >>= 7;
  }
  out += static_cast<char>(v);
}

// A varint at `pos`, advancing it; nullopt when the bytes end first or it runs past 10 bytes.
std::optional<uint64_t> grpc_read_varint(std::string_view in, size_t& pos) {
  uint64_t v = 0;
  for (int shift = 0; shift < 70 && pos < in.size(); shift += 7) {
    const auto byte = static_cast<uint8_t>(in[pos++]);
    if (shift == 63 && byte > 1) return std::nullopt;  // more than 64 bits
    v |= static_cast<uint64_t>(byte & 0x7F) << shift;
    if ((byte & 0x80) == 0) return v;
  }
  return std::nullopt;
}

int grpc_hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string health_check_request(std::string_view service) {
  std::string out;
  if (service.empty()) return out;  // proto3 leaves a default value out
  out += '\x0A';                    // field 1, wire type 2 (length-delimited)
  grpc_put_varint(out, service.size());
  out.append(service);
  return out;
}

std::string grpc_frame(std::string_view message) {
  std::string out;
  out.reserve(5 + message.size());
  out += '\0';
  const auto n = static_cast<uint32_t>(message.size());
  out += static_cast<char>(n >> 24);
  out += static_cast<char>((n >> 16) & 0xFF);
  out += static_cast<char>((n >> 8) & 0xFF);
  out += static_cast<char>(n & 0xFF);
  out.append(message);
  return out;
}

GrpcFrameRead first_grpc_message(std::string_view body) {
  GrpcFrameRead r;
  if (body.empty()) {
    r.error = "the reply holds no message";
    return r;
  }
  if (body.size() < 5) {
    r.error =
        fmt::format("the reply's message frame is cut short ({} of 5 header bytes)", body.size());
    return r;
  }
  const auto flag = static_cast<uint8_t>(body[0]);
  const uint64_t len = (uint64_t{static_cast<uint8_t>(body[1])} << 24) |
                       (uint64_t{static_cast<uint8_t>(body[2])} << 16) |
                       (uint64_t{static_cast<uint8_t>(body[3])} << 8) |
                       uint64_t{static_cast<uint8_t>(body[4])};
  if (flag > 1) {
    r.error = fmt::format("the reply's message frame has an invalid flag byte {}", flag);
    return r;
  }
  if (len > body.size() - 5) {
    r.error = fmt::format("the reply's message frame announces {} bytes but {} arrived", len,
                          body.size() - 5);
    return r;
  }
  if (flag == 1) {
    r.error = "the reply's message is compressed, which lookout did not offer";
    return r;
  }
  r.message = body.substr(5, static_cast<size_t>(len));
  return r;
}

std::optional<uint64_t> parse_health_response(std::string_view in, std::string& error) {
  uint64_t status = 0;
  size_t pos = 0;
  while (pos < in.size()) {
    const auto tag = grpc_read_varint(in, pos);
    if (!tag) {
      error = "a field tag is cut short";
      return std::nullopt;
    }
    const uint64_t field = *tag >> 3;
    const auto wire = static_cast<unsigned>(*tag & 7);
    if (field == 0) {
      error = "a field has number 0";
      return std::nullopt;
    }
    if (field == 1 && wire != 0) {
      error = fmt::format("status has wire type {}, not a varint", wire);
      return std::nullopt;
    }
    switch (wire) {
      case 0: {
        const auto v = grpc_read_varint(in, pos);
        if (!v) {
          error = fmt::format("field {} is cut short", field);
          return std::nullopt;
        }
        if (field == 1) status = *v;  // the last one wins, as in protobuf
        break;
      }
      case 1:
      case 5: {
        const size_t width = wire == 1 ? 8 : 4;
        if (in.size() - pos < width) {
          error = fmt::format("field {} is cut short", field);
          return std::nullopt;
        }
        pos += width;
        break;
      }
      case 2: {
        const auto len = grpc_read_varint(in, pos);
        if (!len || *len > in.size() - pos) {
          error = fmt::format("field {} is longer than the message", field);
          return std::nullopt;
        }
        pos += static_cast<size_t>(*len);
        break;
      }
      default:
        error = fmt::format("field {} has wire type {}, which a health reply does not use", field,
                            wire);
        return std::nullopt;
    }
  }
  return status;
}

std::string serving_status_name(uint64_t status) {
  static constexpr std::array<std::string_view, 4> kNames{"UNKNOWN", "SERVING", "NOT_SERVING",
                                                          "SERVICE_UNKNOWN"};
  if (status < kNames.size()) return std::string(kNames[status]);
  return fmt::format("status {}", status);
}

std::string_view grpc_status_name(int64_t code) {
  static constexpr std::array<std::string_view, 17> kNames{"OK",
                                                           "CANCELLED",
                                                           "UNKNOWN",
                                                           "INVALID_ARGUMENT",
                                                           "DEADLINE_EXCEEDED",
                                                           "NOT_FOUND",
                                                           "ALREADY_EXISTS",
                                                           "PERMISSION_DENIED",
                                                           "RESOURCE_EXHAUSTED",
                                                           "FAILED_PRECONDITION",
                                                           "ABORTED",
                                                           "OUT_OF_RANGE",
                                                           "UNIMPLEMENTED",
                                                           "INTERNAL",
                                                           "UNAVAILABLE",
                                                           "DATA_LOSS",
                                                           "UNAUTHENTICATED"};
  if (code < 0 || code >= static_cast<int64_t>(kNames.size())) return "";
  return kNames[static_cast<size_t>(code)];
}

std::string grpc_percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      const int hi = grpc_hex_digit(text[i + 1]);
      const int lo = grpc_hex_digit(text[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    out += text[i];
  }
  return out;
}

}  // namespace lookout
