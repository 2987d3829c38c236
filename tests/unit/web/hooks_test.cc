#include "web/hooks.h"

#include <gtest/gtest.h>

namespace lookout {
namespace {

// A v3 webhook as PagerDuty sends it (trimmed to the fields lookout reads), and its signature
// with the secret "whsec-canary-1", computed outside lookout (Python's hmac module).
const std::string kAckBody =
    R"({"event":{"id":"01DEN7","event_type":"incident.acknowledged","resource_type":"incident",)"
    R"("data":{"id":"PGR0VU2","type":"incident","status":"acknowledged",)"
    R"("incident_key":"lookout-42"}}})";
const std::string kAckSignature =
    "v1=0705177620ed4a062ce5b80bdf6ecfb0fce9ccbf7297836af256139f78679b62";

TEST(PagerDutyHook, SignatureMatchesAnyOfSeveralAndAnyConfiguredSecret) {
  const std::vector<Secret> secrets{Secret("other", true), Secret("whsec-canary-1", true)};
  EXPECT_TRUE(pagerduty_signature_ok(kAckBody, kAckSignature, secrets));
  EXPECT_TRUE(pagerduty_signature_ok(kAckBody, "v1=00ff, " + kAckSignature, secrets))
      << "while a secret is rotated, PagerDuty sends one signature per secret";
  EXPECT_FALSE(pagerduty_signature_ok(kAckBody + " ", kAckSignature, secrets)) << "body changed";
  EXPECT_FALSE(pagerduty_signature_ok(kAckBody, kAckSignature, {Secret("other", true)}));
  EXPECT_FALSE(pagerduty_signature_ok(kAckBody, kAckSignature.substr(3), secrets)) << "no v1=";
  EXPECT_FALSE(pagerduty_signature_ok(kAckBody, "", secrets));
  EXPECT_FALSE(pagerduty_signature_ok(kAckBody, kAckSignature, {}));
}

TEST(PagerDutyHook, OnlyAnAcknowledgementOfALookoutIncidentCounts) {
  EXPECT_EQ(pagerduty_acknowledged_incident(kAckBody), 42);
  std::string resolved = kAckBody;
  resolved.replace(resolved.find("incident.acknowledged"), 21, "incident.resolved");
  EXPECT_EQ(pagerduty_acknowledged_incident(resolved), std::nullopt);
  for (const char* key : {"lookout-test-evt_1", "lookout-", "lookout-4x", "other-42",
                          "lookout-9999999999999999999", "lookout-0"}) {
    std::string body = kAckBody;
    body.replace(body.find("lookout-42"), 10, key);
    EXPECT_EQ(pagerduty_acknowledged_incident(body), std::nullopt) << key;
  }
  for (const char* junk : {"", "[]", "{\"event\":1}", "{\"event\":{\"data\":[]}}", "{"}) {
    EXPECT_EQ(pagerduty_acknowledged_incident(junk), std::nullopt) << junk;
  }
}

TEST(PushoverHook, AcknowledgedOnlyWhenTheReceiptSaysSo) {
  EXPECT_TRUE(pushover_callback_acknowledged(
      "receipt=r1&acknowledged=1&acknowledged_at=1796090460&acknowledged_by=u1"));
  EXPECT_TRUE(pushover_callback_acknowledged("acknowledged=1"));
  EXPECT_FALSE(pushover_callback_acknowledged("receipt=r1&acknowledged=0"));
  EXPECT_FALSE(pushover_callback_acknowledged("receipt=r1&xacknowledged=1"));
  EXPECT_FALSE(pushover_callback_acknowledged(""));
}

}  // namespace
}  // namespace lookout
