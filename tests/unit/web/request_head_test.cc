#include "web/request_head.h"

#include <gtest/gtest.h>

#include <string>

namespace lookout {
namespace {

using V = RequestHead::Verdict;
constexpr size_t kMax = 16 * 1024;

TEST(RequestHead, AGetEndsAtTheBlankLine) {
  const std::string head = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  const auto r = scan_request_head(head + "GET /next", kMax);
  EXPECT_EQ(r.verdict, V::kComplete);
  EXPECT_EQ(r.head_size, head.size());
  EXPECT_EQ(r.content_length, 0u);
  EXPECT_FALSE(r.expect_continue);
}

TEST(RequestHead, IncompleteUntilTheBlankLineArrives) {
  const std::string full = "POST /a HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc";
  for (size_t n = 0; n < full.size() - 3; ++n) {
    EXPECT_EQ(scan_request_head(full.substr(0, n), kMax).verdict, V::kIncomplete) << n;
  }
  const auto r = scan_request_head(full, kMax);
  EXPECT_EQ(r.verdict, V::kComplete);
  EXPECT_EQ(r.head_size, full.size() - 3);
  EXPECT_EQ(r.content_length, 3u);
}

TEST(RequestHead, ContentLengthMatchesAnyCase) {
  EXPECT_EQ(
      scan_request_head("POST / HTTP/1.1\r\ncOnTeNt-LeNgTh:  42 \r\n\r\n", kMax).content_length,
      42u);
}

TEST(RequestHead, ANameWithSpaceBeforeTheColonIsNotContentLength) {
  // cpp-httplib does not trim names either: both sides read no body.
  const auto r = scan_request_head("POST / HTTP/1.1\r\nContent-Length : 5\r\n\r\n", kMax);
  EXPECT_EQ(r.verdict, V::kComplete);
  EXPECT_EQ(r.content_length, 0u);
}

TEST(RequestHead, LinesWithoutCrlfAreSkippedAsCppHttplibDoes) {
  const std::string bytes = "GET / HTTP/1.1\r\nContent-Length: 9\n\r\n";
  const auto r = scan_request_head(bytes, kMax);
  EXPECT_EQ(r.verdict, V::kComplete);
  EXPECT_EQ(r.head_size, bytes.size());
  EXPECT_EQ(r.content_length, 0u);
  // A bare LF line is not the end of the head.
  EXPECT_EQ(scan_request_head("GET / HTTP/1.1\r\nA: b\r\n\n", kMax).verdict, V::kIncomplete);
}

TEST(RequestHead, ContentLengthThatIsNotAPlainNumberIsRefused) {
  for (const char* v : {"12abc", "-1", "", "%31", "1 2", "0x10", "9999999999999999999"}) {
    EXPECT_EQ(
        scan_request_head(std::string("POST / HTTP/1.1\r\nContent-Length: ") + v + "\r\n\r\n", kMax)
            .verdict,
        V::kBadLength)
        << v;
  }
}

TEST(RequestHead, TwoDifferentContentLengthsAreRefusedTwoEqualAreNot) {
  EXPECT_EQ(
      scan_request_head("POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", kMax)
          .verdict,
      V::kBadLength);
  const auto r =
      scan_request_head("POST / HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n", kMax);
  EXPECT_EQ(r.verdict, V::kComplete);
  EXPECT_EQ(r.content_length, 2u);
}

TEST(RequestHead, TransferEncodingNeedsALength) {
  EXPECT_EQ(
      scan_request_head("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", kMax).verdict,
      V::kLengthRequired);
  EXPECT_EQ(scan_request_head(
                "POST / HTTP/1.1\r\nContent-Length: 3\r\ntransfer-encoding: chunked\r\n\r\n", kMax)
                .verdict,
            V::kLengthRequired);
}

TEST(RequestHead, ExpectContinueIsSeen) {
  EXPECT_TRUE(scan_request_head(
                  "POST / HTTP/1.1\r\nContent-Length: 3\r\nExpect: 100-Continue\r\n\r\n", kMax)
                  .expect_continue);
}

TEST(RequestHead, AHeadOverTheLimitIsTooLarge) {
  const std::string line = "GET / HTTP/1.1\r\nX-Big: " + std::string(100 * 1024, 'a');
  EXPECT_EQ(scan_request_head(line, kMax).verdict, V::kTooLarge);
  EXPECT_EQ(scan_request_head(line + "\r\n\r\n", kMax).verdict, V::kTooLarge);
  EXPECT_EQ(scan_request_head(std::string(kMax + 1, 'G'), kMax).verdict, V::kTooLarge);
  EXPECT_EQ(scan_request_head(std::string(kMax, 'G'), kMax).verdict, V::kIncomplete);
  // Exactly at the limit is still a head.
  std::string exact = "GET / HTTP/1.1\r\nX: ";
  // append, not std::string + "...": GCC 12 at -O2 reports a false -Warray-bounds for that.
  exact.append(kMax - exact.size() - 4, 'a').append("\r\n\r\n");
  ASSERT_EQ(exact.size(), kMax);
  EXPECT_EQ(scan_request_head(exact, kMax).verdict, V::kComplete);
  EXPECT_EQ(scan_request_head(exact + "x", kMax).head_size, kMax);
}

TEST(RequestHead, ARequestLineAloneFollowedByTheBlankLine) {
  const auto r = scan_request_head("GET / HTTP/1.0\r\n\r\n", kMax);
  EXPECT_EQ(r.verdict, V::kComplete);
  EXPECT_EQ(r.head_size, 18u);
}

}  // namespace
}  // namespace lookout
