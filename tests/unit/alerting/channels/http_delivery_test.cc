#include "alerting/channels/http_delivery.h"

#include <gtest/gtest.h>

namespace lookout {
namespace {

using Kind = DeliveryOutcome::Kind;

TEST(HttpDelivery, TwoHundredsAreDelivered) {
  for (const long status : {200L, 201L, 204L, 299L}) {
    const auto o = http_outcome(CURLE_OK, status, "{\"sid\":\"SM1\"}");
    EXPECT_EQ(o.kind, Kind::kDelivered) << status;
    EXPECT_EQ(o.detail, fmt::format("HTTP {}", status));
  }
}

TEST(HttpDelivery, TimeoutsThrottlingAndServerErrorsAreRetried) {
  for (const long status : {408L, 429L, 500L, 502L, 503L, 599L}) {
    const auto o = http_outcome(CURLE_OK, status, "try later");
    EXPECT_EQ(o.kind, Kind::kRetry) << status;
    EXPECT_EQ(o.detail, fmt::format("HTTP {}", status)) << "the answer is left out";
  }
}

TEST(HttpDelivery, OtherStatusesFailForGoodWithTheStartOfTheAnswer) {
  for (const long status : {301L, 400L, 401L, 403L, 404L, 410L, 422L}) {
    const auto o = http_outcome(CURLE_OK, status, "bad token");
    EXPECT_EQ(o.kind, Kind::kPermanent) << status;
    EXPECT_EQ(o.detail, fmt::format("HTTP {}: bad token", status));
  }
  EXPECT_EQ(http_outcome(CURLE_OK, 404, "").detail, "HTTP 404");
  EXPECT_EQ(http_outcome(CURLE_OK, 400, std::string(512, 'a')).detail,
            "HTTP 400: " + std::string(200, 'a'));
}

TEST(HttpDelivery, EveryTransferErrorIsRetriedWithItsCause) {
  // Whatever libcurl reports, a certificate that does not verify included, may pass: retry.
  for (const CURLcode code :
       {CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_CONNECT, CURLE_OPERATION_TIMEDOUT,
        CURLE_RECV_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CONNECT_ERROR}) {
    const auto o = http_outcome(code, 0, curl_easy_strerror(code));
    EXPECT_EQ(o.kind, Kind::kRetry) << curl_easy_strerror(code);
    EXPECT_EQ(o.detail, curl_easy_strerror(code));
  }
}

TEST(HttpDelivery, OneDocumentedSuccessStatusRefusesTheOther2xx) {
  EXPECT_EQ(exact_http_outcome(CURLE_OK, 202, "", 202).kind, Kind::kDelivered);
  for (const long status : {200L, 201L, 204L}) {
    const auto o = exact_http_outcome(CURLE_OK, status, "<html>portal</html>", 202);
    EXPECT_EQ(o.kind, Kind::kPermanent) << status;
    EXPECT_EQ(o.detail, fmt::format("HTTP {} where 202 means delivered", status));
  }
  EXPECT_EQ(exact_http_outcome(CURLE_OK, 503, "", 202).kind, Kind::kRetry);
  EXPECT_EQ(exact_http_outcome(CURLE_OK, 400, "bad", 202).detail, "HTTP 400: bad");
  EXPECT_EQ(exact_http_outcome(CURLE_COULDNT_CONNECT, 0, "refused", 202).kind, Kind::kRetry);
}

TEST(HttpDelivery, ProviderErrorsReadAsTheirMessage) {
  EXPECT_EQ(provider_error(R"({"status":"invalid event","message":"Event object is invalid",
      "errors":["Length of 'routing_key' is incorrect","'payload' is missing"]})"),
            "Event object is invalid (Length of 'routing_key' is incorrect; 'payload' is missing)");
  EXPECT_EQ(
      provider_error(R"({"message":"Request body is not processable.",
      "errors":{"message":"Message can not be empty.","alias":"too long"},"took":0.001})"),
      "Request body is not processable. (alias: too long; message: Message can not be empty.)");
  EXPECT_EQ(provider_error(R"({"message":"Could not authenticate","took":0.0})"),
            "Could not authenticate");
  EXPECT_EQ(provider_error(R"("start time must be before end time")"),
            "start time must be before end time");
  for (const std::string raw : {"", "Unauthorized\n", R"({"code":1})", R"({"message":"cut)"})
    EXPECT_EQ(provider_error(raw), raw);
}

TEST(HttpDelivery, ApiPathsJoinABaseWithOrWithoutItsSlash) {
  EXPECT_EQ(api_url("https://events.test", "/v2/enqueue"), "https://events.test/v2/enqueue");
  EXPECT_EQ(api_url("https://events.test//", "/v2/enqueue"), "https://events.test/v2/enqueue");
  EXPECT_EQ(api_url("https://jsm.test/ops/integration/", "/v2/alerts"),
            "https://jsm.test/ops/integration/v2/alerts");
}

TEST(DeliveryOutcome, KindsReadAsTheOutcomesCounted) {
  EXPECT_STREQ(to_string(Kind::kDelivered), "delivered");
  EXPECT_STREQ(to_string(Kind::kRetry), "retry");
  EXPECT_STREQ(to_string(Kind::kPermanent), "failed");
}

}  // namespace
}  // namespace lookout
