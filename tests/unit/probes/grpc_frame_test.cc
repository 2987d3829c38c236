// The grpc kind's wire format and verdict: frames and the health messages byte for byte, a
// server's malformed replies refused with a reason, and each reply's cause.
#include "probes/grpc_frame.h"

#include <gtest/gtest.h>

#include "probes/grpc_probe.h"

namespace lookout {
namespace {

using namespace std::string_literals;

TEST(GrpcFrame, EncodesTheHealthRequestInAFrame) {
  EXPECT_EQ(health_check_request(""), "");  // proto3 leaves the default out
  EXPECT_EQ(health_check_request("orders.v1.Orders"), "\x0A\x10orders.v1.Orders"s);
  const std::string long_name(200, 'x');
  EXPECT_EQ(health_check_request(long_name).substr(0, 3), "\x0A\xC8\x01"s);  // varint 200
  EXPECT_EQ(grpc_frame("ab"), "\0\0\0\0\2ab"s);
  EXPECT_EQ(grpc_frame(""), "\0\0\0\0\0"s);
  EXPECT_EQ(grpc_frame(std::string(300, 'y')).substr(0, 5), "\0\0\0\x01\x2C"s);
}

TEST(GrpcFrame, ReadsTheFirstMessageOnlyAsFarAsItArrived) {
  // The message views the reply, so the reply must outlive it.
  const std::string reply = "\0\0\0\0\2\x08\x01trailing"s;
  auto ok = first_grpc_message(reply);
  ASSERT_TRUE(ok.message) << ok.error;
  EXPECT_EQ(*ok.message, "\x08\x01");
  EXPECT_EQ(first_grpc_message("").error, "the reply holds no message");
  EXPECT_EQ(first_grpc_message("\0\0\0"s).error,
            "the reply's message frame is cut short (3 of 5 header bytes)");
  EXPECT_EQ(first_grpc_message("\0\xFF\xFF\xFF\xFF\x08"s).error,
            "the reply's message frame announces 4294967295 bytes but 1 arrived");
  EXPECT_EQ(first_grpc_message("\1\0\0\0\1x"s).error,
            "the reply's message is compressed, which lookout did not offer");
  EXPECT_EQ(first_grpc_message("\7\0\0\0\0"s).error,
            "the reply's message frame has an invalid flag byte 7");
}

TEST(GrpcFrame, ParsesTheHealthResponseAndSkipsUnknownFields) {
  std::string error;
  EXPECT_EQ(parse_health_response("\x08\x01", error), 1u);
  EXPECT_EQ(parse_health_response("", error), 0u);  // absent: UNKNOWN
  EXPECT_EQ(parse_health_response("\x08\x02", error), 2u);
  // A varint field 2, a length-delimited field 3, a fixed64 field 4 and a fixed32 field 5
  // around the status; the last status wins.
  const std::string mixed =
      "\x10\x96\x01\x1A\x03"
      "abc\x08\x03\x21"s +
      std::string(8, '\0') + "\x2D"s + std::string(4, '\0') + "\x08\x01"s;
  EXPECT_EQ(parse_health_response(mixed, error), 1u) << error;

  const std::vector<std::pair<std::string, std::string>> bad{
      {"\x08"s, "field 1 is cut short"},
      {"\x08\xFF"s, "field 1 is cut short"},
      {"\x80"s, "a field tag is cut short"},
      {"\x00\x01"s, "a field has number 0"},
      {"\x0A\x01x"s, "status has wire type 2, not a varint"},
      {"\x1A\x05"
       "ab"s,
       "field 3 is longer than the message"},
      {"\x21\0\0"s, "field 4 is cut short"},
      {"\x1B"s, "field 3 has wire type 3, which a health reply does not use"},
      {"\x08\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\x7F"s, "field 1 is cut short"},  // > 64 bits
  };
  for (const auto& [bytes, why] : bad) {
    error.clear();
    EXPECT_FALSE(parse_health_response(bytes, error)) << why;
    EXPECT_EQ(error, why);
  }
}

TEST(GrpcFrame, NamesStatusesAndDecodesMessages) {
  EXPECT_EQ(serving_status_name(0), "UNKNOWN");
  EXPECT_EQ(serving_status_name(1), "SERVING");
  EXPECT_EQ(serving_status_name(2), "NOT_SERVING");
  EXPECT_EQ(serving_status_name(3), "SERVICE_UNKNOWN");
  EXPECT_EQ(serving_status_name(9), "status 9");
  EXPECT_EQ(grpc_status_name(0), "OK");
  EXPECT_EQ(grpc_status_name(5), "NOT_FOUND");
  EXPECT_EQ(grpc_status_name(12), "UNIMPLEMENTED");
  EXPECT_EQ(grpc_status_name(16), "UNAUTHENTICATED");
  EXPECT_EQ(grpc_status_name(17), "");
  EXPECT_EQ(grpc_status_name(-1), "");
  EXPECT_EQ(grpc_percent_decode("caf%C3%A9 is 100%25 %zz %4"), "café is 100% %zz %4");
}

GrpcReply reply(std::vector<std::pair<std::string, std::string>> headers, std::string body,
                int status = 200) {
  GrpcReply r;
  r.http_status = status;
  r.http2 = true;
  r.headers = std::move(headers);
  r.body = std::move(body);
  return r;
}

TEST(GrpcHealthVerdict, OnlyServingWithStatusOkIsUp) {
  const auto serving = judge_health_reply(
      reply({{"content-type", "application/grpc"}, {"grpc-status", "0"}}, grpc_frame("\x08\x01")));
  EXPECT_EQ(serving.outcome, Outcome::kUp) << serving.cause;
  EXPECT_EQ(serving.serving_status, "SERVING");

  struct Case {
    GrpcReply r;
    ErrorKind kind;
    std::string cause;
  };
  GrpcReply http1 = reply({}, "");
  http1.http2 = false;
  const std::vector<Case> cases{
      {reply({{"content-type", "application/grpc"}, {"grpc-status", "0"}}, grpc_frame("\x08\x02")),
       ErrorKind::kExpectation, "NOT_SERVING"},
      {reply({{"grpc-status", "0"}}, grpc_frame("\x08\x03")), ErrorKind::kExpectation,
       "SERVICE_UNKNOWN"},
      {reply({{"grpc-status", "0"}}, grpc_frame("")), ErrorKind::kExpectation, "UNKNOWN"},
      // Trailers-only: the status in the headers, no message.
      {reply({{"content-type", "application/grpc"},
              {"grpc-status", "5"},
              {"grpc-message", "unknown%20service"}},
             ""),
       ErrorKind::kExpectation, "grpc-status 5 NOT_FOUND: unknown service"},
      {reply({{"grpc-status", "12"}}, ""), ErrorKind::kExpectation, "grpc-status 12 UNIMPLEMENTED"},
      {reply({{"grpc-status", "42"}}, ""), ErrorKind::kExpectation, "grpc-status 42"},
      {reply({{"grpc-status", "zero"}}, ""), ErrorKind::kProtocol,
       "grpc-status \"zero\" is not a number"},
      {reply({{"grpc-status", "0"}}, ""), ErrorKind::kProtocol,
       "grpc-status 0 but the reply holds no message"},
      {reply({{"grpc-status", "0"}}, grpc_frame("\x0A\x01x")), ErrorKind::kProtocol,
       "the reply is not a HealthCheckResponse: status has wire type 2, not a varint"},
      {reply({{"content-type", "text/html"}}, "<html>"), ErrorKind::kProtocol,
       "the reply's content-type is \"text/html\", not application/grpc: not a gRPC server"},
      {reply({{"content-type", "application/grpc"}}, grpc_frame("\x08\x01")), ErrorKind::kProtocol,
       "the reply ended without a grpc-status trailer"},
      {reply({}, "", 503), ErrorKind::kProtocol,
       "HTTP status 503 without a grpc-status: not a gRPC server, or a proxy in front of it "
       "failed"},
      {http1, ErrorKind::kProtocol,
       "the server answered over HTTP/1.x, not HTTP/2: not a gRPC server"},
  };
  for (const auto& c : cases) {
    const GrpcVerdict v = judge_health_reply(c.r);
    EXPECT_EQ(v.outcome, Outcome::kDown) << c.cause;
    EXPECT_EQ(v.kind, c.kind) << c.cause;
    EXPECT_EQ(v.cause, c.cause);
  }
}

TEST(GrpcHealthVerdict, TheTrailerWinsOverTheHeader) {
  // A status in the headers and another in the trailers: the trailers come last.
  const auto v = judge_health_reply(
      reply({{"grpc-status", "0"}, {"grpc-status", "14"}, {"grpc-message", "draining"}}, ""));
  EXPECT_EQ(v.cause, "grpc-status 14 UNAVAILABLE: draining");
}

}  // namespace
}  // namespace lookout
