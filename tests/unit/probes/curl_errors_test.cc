#include "probes/curl_errors.h"

#include <gtest/gtest.h>

namespace lookout {
namespace {

CurlFailure of(CURLcode code, const char* errbuf = "") {
  CurlFailureContext c;
  c.code = code;
  c.errbuf = errbuf;
  c.timeout = Duration{5'000};
  c.timeout_phase = "while connecting";
  c.host = "portal.test";
  c.starttls_server = "mx.test:25";
  c.max_redirects = 10;
  c.max_body = 1024 * 1024;
  return curl_failure(c);
}

TEST(CurlErrors, EachCodeHasOneKindAndCause) {
  struct Row {
    CURLcode code;
    ErrorKind kind;
    std::string cause;
  };
  const std::vector<Row> rows{
      {CURLE_OPERATION_TIMEDOUT, ErrorKind::kTimeout, "timed out after 5s while connecting"},
      {CURLE_COULDNT_RESOLVE_HOST, ErrorKind::kDns, "cannot resolve host portal.test"},
      {CURLE_COULDNT_CONNECT, ErrorKind::kConnect, "cannot connect: Connection refused"},
      // A reset reads the same whether an http or a cert probe met it.
      {CURLE_SEND_ERROR, ErrorKind::kConnect, "connection failed: Connection refused"},
      {CURLE_RECV_ERROR, ErrorKind::kConnect, "connection failed: Connection refused"},
      {CURLE_USE_SSL_FAILED, ErrorKind::kTls,
       "the mail server at mx.test:25 does not offer STARTTLS"},
      {CURLE_PEER_FAILED_VERIFICATION, ErrorKind::kTls, "TLS failed: Connection refused"},
      {CURLE_SSL_CONNECT_ERROR, ErrorKind::kTls, "TLS failed: Connection refused"},
      {CURLE_TOO_MANY_REDIRECTS, ErrorKind::kRedirects, "more than 10 redirects"},
      {CURLE_WRITE_ERROR, ErrorKind::kInternal, "could not store the response: Connection refused"},
      {CURLE_GOT_NOTHING, ErrorKind::kProtocol, "the server closed the connection without a reply"},
      {CURLE_WEIRD_SERVER_REPLY, ErrorKind::kProtocol,
       "not a valid HTTP response: Connection refused"},
      {CURLE_RANGE_ERROR, ErrorKind::kProtocol, "Connection refused"},
  };
  for (const auto& r : rows) {
    const CurlFailure f = of(r.code, "Connection refused");
    EXPECT_EQ(f.kind, r.kind) << curl_easy_strerror(r.code);
    EXPECT_EQ(f.cause, r.cause) << curl_easy_strerror(r.code);
  }
}

TEST(CurlErrors, WithoutHttpWhatIsLeftIsATlsFailure) {
  CurlFailureContext c;
  c.http = false;
  c.errbuf = "weird reply";
  for (CURLcode code : {CURLE_WEIRD_SERVER_REPLY, CURLE_SSL_CLIENTCERT}) {
    c.code = code;
    EXPECT_EQ(curl_failure(c).kind, ErrorKind::kTls);
    EXPECT_EQ(curl_failure(c).cause, "TLS handshake failed: weird reply");
  }
  c.code = CURLE_SEND_ERROR;
  EXPECT_EQ(curl_failure(c).cause, "connection failed: weird reply")
      << "a reset reads the same in every kind";
}

TEST(CurlErrors, LibcurlsOwnWordsWhenTheErrorBufferIsEmpty) {
  EXPECT_EQ(of(CURLE_COULDNT_CONNECT).cause,
            std::string("cannot connect: ") + curl_easy_strerror(CURLE_COULDNT_CONNECT));
}

TEST(CurlErrors, AFullBodyAndLookoutsOwnShortagesAreToldApart) {
  CurlFailureContext c;
  c.code = CURLE_WRITE_ERROR;
  c.body_overflow = true;
  c.max_body = 64 * 1024;
  EXPECT_EQ(curl_failure(c).kind, ErrorKind::kBodyTooLarge);
  EXPECT_EQ(curl_failure(c).cause,
            "body is larger than max_body 64KiB; the rest was not downloaded");
  c = CurlFailureContext{};
  c.code = CURLE_COULDNT_CONNECT;
  c.out_of_descriptors = true;
  EXPECT_EQ(curl_failure(c).kind, ErrorKind::kResources)
      << "not the target's fault: the run is put back";
  c.out_of_descriptors = false;
  c.code = CURLE_COULDNT_RESOLVE_HOST;
  c.errbuf = "getaddrinfo() thread failed to start";
  EXPECT_EQ(curl_failure(c).kind, ErrorKind::kResources);
}

}  // namespace
}  // namespace lookout
